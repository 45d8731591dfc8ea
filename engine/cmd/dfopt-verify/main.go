// Command dfopt-verify builds a Dockerfile and what dfopt makes of it on a
// BuildKit engine and shows what dfopt saves: image size, layers, cold build
// and rebuild time, and whether the images hold the same files and
// configuration. "dfopt verify" runs it; it is a command of its own so that
// dfopt does not link BuildKit's client.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/spf13/pflag"

	"github.com/dfopt/dfopt/engine/verify"
	"github.com/dfopt/dfopt/rewrite"
	"github.com/dfopt/dfopt/rules"
)

func main() {
	// containerd's content store logs through logrus what it cannot do
	// (fsverity) on every build; only errors are news here.
	logrus.SetLevel(logrus.ErrorLevel)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `Usage: dfopt verify [flags] Dockerfile

Builds the Dockerfile as it is and as dfopt rewrites it on a BuildKit engine,
then reports for each image its size (unpacked, and compressed as a registry
stores it), layers, build time with no cache, and the time of a rebuild after
one source file of the context is edited (in the build's view only: no file
is written); and whether dfopt's image holds the same files (paths, types,
modes, owners, contents, link targets) and configuration, and whether each
image's command, run with no network for a few seconds, ends the same way and
prints the same. What an applied rule
changes on purpose (package caches it removes; with --propose, what a new
base or a purge leaves out) is listed with the rule, and is no failure.

The engine is the BuildKit daemon at --buildkit-addr or $BUILDKIT_HOST, as for
buildctl: a local buildkitd (unix:///run/buildkit/buildkitd.sock), Docker's
BuildKit (docker-container://NAME of a buildx builder), or a remote one
(tcp://HOST:1234). Where no registry is reachable, --base serves an image
reference from a local root folder.

Flags:
`

const usageTail = `
Exit status: 0 when every image of dfopt built and matches; 1 when one failed
to build (and the original did not) or differs in a way no rule explains; 2 on
an error (no engine, a file dfopt cannot read, bad flags).
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("dfopt verify", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	var o verify.Options
	fs.StringVar(&o.Context, "context", "", "the build context `DIR` (default: the Dockerfile's folder)")
	propose := fs.Bool("propose", false, "build dfopt's output with --propose (proposals applied)")
	variants := fs.StringSlice("variants", nil, "the outputs to build besides the original: `dfopt,propose` (default: dfopt, or propose with --propose)")
	fs.StringVar(&o.Target, "target", "", "build the `STAGE` named (default: the last)")
	buildArgs := fs.StringArray("build-arg", nil, "set the build argument `NAME=VALUE` (repeatable)")
	format := fs.String("fmt", "text", "report as `text` or json")
	fs.StringVar(&o.Addr, "buildkit-addr", os.Getenv("BUILDKIT_HOST"), "the BuildKit daemon's `ADDRESS` (default $BUILDKIT_HOST)")
	bases := fs.StringArray("base", nil, "serve the image `REF=DIR` from a local root folder (repeatable)")
	fs.BoolVar(&o.Control, "control", true, "build the original a second time and set aside the content differences of what differs between its two builds")
	fs.DurationVar(&o.RunFor, "run", 5*time.Second, "run each image's command with no network for at most `DURATION` and compare exit code and output (0: do not run)")
	fs.StringVar(&o.Touch, "touch", "", "the context's `FILE` a rebuild edits (default: a source file dfopt picks; - for no rebuild)")
	enable := fs.StringSlice("enable", nil, "switch on the rules `NAME,...` (or all)")
	disable := fs.StringSlice("disable", nil, "switch off the rules `NAME,...` (or all)")
	merge := fs.String("merge", "", "merge-runs' policy: `small` or all (as for dfopt)")
	fs.BoolVar(&o.Rewrite.WriteDockerignore, "dockerignore", false, "let the dockerignore rule add entries to the context's ignore file (in the optimized build's view only)")
	fs.BoolVar(&o.Rewrite.CacheMounts, "cache-mounts", false, "give installing RUNs cache mounts instead of deleting package caches")
	fs.StringVar(&o.ProgressMode, "progress", "auto", "BuildKit's progress display: `auto`, plain or tty")
	quiet := fs.BoolP("quiet", "q", false, "show no progress while building")
	verbose := fs.BoolP("verbose", "v", false, "list every difference a rule explains")
	help := fs.BoolP("help", "h", false, "print this help and exit")
	if err := fs.Parse(args); err != nil {
		return usageError(stderr, err)
	}
	if *help {
		fmt.Fprint(stdout, usage)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fmt.Fprint(stdout, usageTail)
		return 0
	}
	if fs.NArg() != 1 {
		return usageError(stderr, fmt.Errorf("give one Dockerfile"))
	}
	o.Dockerfile = fs.Arg(0)
	switch *format {
	case "text", "json":
	default:
		return usageError(stderr, fmt.Errorf("invalid value %q for --fmt: use text or json", *format))
	}
	switch {
	case len(*variants) > 0:
		for _, v := range *variants {
			if v != verify.Safe && v != verify.Propose {
				return usageError(stderr, fmt.Errorf("invalid variant %q: use dfopt or propose", v))
			}
		}
		o.Variants = *variants
	case *propose:
		o.Variants = []string{verify.Propose}
	default:
		o.Variants = []string{verify.Safe}
	}
	switch *merge {
	case "":
	case "small":
		o.Rewrite.MergeSmall = true
	case "all":
		o.Rewrite.MergeSmall, o.Rewrite.MergeAll = true, true
	default:
		return usageError(stderr, fmt.Errorf("invalid value %q for --merge: use small or all", *merge))
	}
	selected, err := rewrite.Select(rules.All(), *enable, *disable)
	if err != nil {
		return usageError(stderr, err)
	}
	o.Rewrite.Rules = selected
	o.BuildArgs = map[string]string{}
	for _, a := range *buildArgs {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return usageError(stderr, fmt.Errorf("--build-arg %q: use NAME=VALUE", a))
		}
		o.BuildArgs[k] = v
	}
	o.Bases = map[string]string{}
	for _, b := range *bases {
		ref, dir, ok := strings.Cut(b, "=")
		if !ok || ref == "" || dir == "" {
			return usageError(stderr, fmt.Errorf("--base %q: use REF=DIR", b))
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return usageError(stderr, fmt.Errorf("--base %s: %s is no folder", ref, dir))
		}
		abs, _ := filepath.Abs(dir)
		o.Bases[ref] = abs
	}
	if !*quiet {
		o.Progress = stderr
	}

	rep, err := verify.Run(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "dfopt verify: %v\n", err)
		return 2
	}
	if *format == "json" {
		if err := rep.WriteJSON(stdout); err != nil {
			fmt.Fprintf(stderr, "dfopt verify: %v\n", err)
			return 2
		}
	} else {
		rep.WriteText(stdout, *verbose)
	}
	if rep.Failed() {
		return 1
	}
	return 0
}

func usageError(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "dfopt verify: %v\nRun 'dfopt verify --help' for usage.\n", err)
	return 2
}
