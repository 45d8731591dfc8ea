// Command bench builds each app of bench/apps three ways, as it is, as dfopt
// rewrites it and as dfopt --propose rewrites it, with dfopt verify on a
// BuildKit engine, and writes bench/results.json and bench/RESULTS.md: per
// app and over all apps, the image sizes, layers, cold build and rebuild
// times, whether each image matches the original, and the ratios to the
// original.
//
//	bash bench/run.sh [--apps a,b] [--out DIR]   # from the repository's root
//
// run.sh starts a BuildKit engine with the bases unless one runs, builds this
// program (in the engine module, as dfopt verify) and runs it from the
// repository's root, whose bench/ holds the apps and the results: its paths
// are read from there.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
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
	logrus.SetLevel(logrus.ErrorLevel)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// save writes results.json and RESULTS.md in dir from the rows measured
// (with those of old for the apps not measured, under --update).
func save(dir string, old, rows []row, took time.Duration) error {
	all := rows
	if old != nil {
		all = mergeRows(old, rows)
	}
	if err := writeJSON(filepath.Join(dir, "results.json"), all); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "RESULTS.md"), []byte(markdown(all, took)), 0o644)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("bench", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	appsDir := fs.String("apps-dir", "bench/apps", "the `DIR` of the apps, one folder each")
	only := fs.StringSlice("apps", nil, "build only the apps `NAME,...`")
	out := fs.String("out", "bench", "write results.json and RESULTS.md to `DIR`")
	addr := fs.String("buildkit-addr", os.Getenv("BUILDKIT_HOST"), "the BuildKit daemon's `ADDRESS` (default $BUILDKIT_HOST)")
	bases := fs.StringArray("base", nil, "serve the image `REF=DIR` from a local OCI layout or root folder (repeatable)")
	runFor := fs.Duration("run", 5*time.Second, "run each image's command for at most `DURATION` and compare (0: do not)")
	update := fs.Bool("update", false, "keep the rows of results.json of the apps not built this time")
	progress := fs.String("progress", "plain", "BuildKit's progress display on standard error: `plain`, tty, auto or quiet")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	baseMap := map[string]string{}
	for _, b := range *bases {
		ref, dir, ok := strings.Cut(b, "=")
		if !ok {
			fmt.Fprintf(stderr, "bench: --base %q: use REF=DIR\n", b)
			return 2
		}
		baseMap[ref] = dir
	}
	entries, err := os.ReadDir(*appsDir)
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	}
	var apps []string
	for _, e := range entries {
		if e.IsDir() && (len(*only) == 0 || slices.Contains(*only, e.Name())) {
			if _, err := os.Stat(filepath.Join(*appsDir, e.Name(), "Dockerfile")); err == nil {
				apps = append(apps, e.Name())
			}
		}
	}
	if len(apps) == 0 {
		fmt.Fprintf(stderr, "bench: no app with a Dockerfile in %s\n", *appsDir)
		return 2
	}

	var old []row
	if *update {
		if old, err = readJSON(filepath.Join(*out, "results.json")); err != nil {
			fmt.Fprintf(stderr, "bench: --update: %v\n", err)
			return 2
		}
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	}
	start := time.Now()
	var rows []row
	failed := false
	for i, app := range apps {
		fmt.Fprintf(stderr, "bench: [%d/%d] %s\n", i+1, len(apps), app)
		o := verify.Options{
			Dockerfile:   filepath.Join(*appsDir, app, "Dockerfile"),
			Rewrite:      rewrite.Options{Rules: rules.All()},
			Variants:     []string{verify.Safe, verify.Propose},
			Addr:         *addr,
			Bases:        baseMap,
			ProgressMode: *progress,
			RunFor:       *runFor,
			Control:      true,
		}
		if *progress != "quiet" {
			o.Progress = stderr
		}
		rep, err := verify.Run(ctx, o)
		if ctx.Err() != nil {
			fmt.Fprintf(stderr, "bench: interrupted during %s; results.json holds the apps before it\n", app)
			return 2
		}
		if err != nil {
			fmt.Fprintf(stderr, "bench: %s: %v\n", app, err)
			return 2
		}
		rep.WriteText(stderr, false)
		failed = failed || rep.Failed()
		rows = append(rows, rowsOf(app, rep)...)
		// The results so far are written after each app: a bench cut
		// short keeps what it measured.
		if err := save(*out, old, rows, time.Since(start)); err != nil {
			fmt.Fprintf(stderr, "bench: %v\n", err)
			return 2
		}
	}
	b, err := os.ReadFile(filepath.Join(*out, "RESULTS.md"))
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	}
	stdout.Write(b)
	if failed {
		fmt.Fprintln(stderr, "bench: some image of dfopt failed to build or differs (see the report)")
		return 1
	}
	return 0
}
