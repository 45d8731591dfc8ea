// Command dfopt rewrites Dockerfiles so that the images they build come out
// smaller, keeping what they do. It is a thin layer over package rewrite: it
// turns flags into rewrite.Options, finds the files and reports the results.
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/dfopt/dfopt/internal/config"
	"github.com/dfopt/dfopt/internal/flags"
	"github.com/dfopt/dfopt/internal/report"
	"github.com/dfopt/dfopt/rewrite"
)

func main() {
	if os.Getenv("GOGC") == "" && (len(os.Args) < 2 || os.Args[1] != "lsp") {
		// A run reads its files and ends: its heap stays small (a few MB
		// for a folder of a thousand Dockerfiles), so collecting it four
		// times less often costs little memory and saves about a tenth
		// of the processor time (BenchmarkCorpus with GOGC=off). The
		// language server keeps Go's default; GOGC set by the user wins.
		debug.SetGCPercent(400)
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Exit statuses, as gofmt and shfmt use them. Only main hands them to os.Exit,
// so that run can be called from tests.
const (
	exitOK      = 0 // nothing to change, or the changes were written
	exitChanged = 1 // --check, -l or -d found a file that would change
	exitError   = 2 // bad usage, or an error in at least one file
)

// stdinName names standard input in findings, errors, -l and -d, as the
// library does when Options.Path is empty.
const stdinName = "<stdin>"

const usageHead = `Usage: dfopt [flags] [path ...]
       dfopt rules [NAME]
       dfopt verify [flags] Dockerfile
       dfopt lsp [flags]

dfopt rewrites Dockerfiles so that the images they build come out smaller,
keeping what they do.

With no path, or with "-", dfopt reads standard input and writes the result to
standard output. Given paths, it prints each result to standard output unless
-w, -d, -l or --check says otherwise. A directory is walked for Dockerfile,
Containerfile, *.Dockerfile, *.dockerfile, Dockerfile.* and Containerfile.*,
skipping .git, node_modules and vendor, and names whose extension says another
format (Dockerfile.md, Dockerfile.j2, Dockerfile.bak); a file named explicitly
is read whatever its name, unless --skip-non-dockerfiles is given. (To read a
file called "rules", "verify" or "lsp", write ./rules.)

Settings come from the nearest .dfopt.yaml (or .dfopt.yml) in each
Dockerfile's folder or above it, up to the repository's root, or from
--config; flags given on the command line win over the file. Its exclude
patterns skip files, even those named explicitly.

"dfopt verify" builds a Dockerfile and dfopt's output on a BuildKit engine
and compares the images (size, layers, build and rebuild time, files and
config); it runs the dfopt-verify command: see dfopt verify --help.

"dfopt lsp" is a Language Server for editors on standard input and output:
see dfopt lsp --help.

What the rules find is printed to standard error as PATH:LINE: RULE: message.
--format=json prints instead one JSON array of finding objects (path, line,
endLine, rule, kind, message, hadolint, applied, security), --format=sarif a
SARIF 2.1.0 log for code scanning, --format=github GitHub Actions workflow
commands (annotations); all three on standard output, where the rewritten
files are then not printed (-w still writes them, --check still checks).
JSON and SARIF do not go with -l or -d.

Each finding has a kind: safe (applied by default), proposal (applied with
--propose) or report (nothing to change); findings about secrets copied into
the image are also security findings. A directory with no Dockerfile is no
error (-v says so).

Flags:
`

const usageTail = `
Exit status: 0 when nothing would change or the changes were written; 1 when
--check, -l or -d found a file that would change, or a finding of a kind
--fail-on names; 2 on any error (the other files are still processed, and a
file with an error is never written; a mistake in a configuration file stops
the run before any file is read).

Examples:
  dfopt < Dockerfile                   print the rewritten Dockerfile
  dfopt -d .                           show what would change, as a diff
  dfopt -w .                           rewrite every Dockerfile below here
  dfopt --check .                      exit 1 if anything would change (CI)
  dfopt --check --fail-on=security .   also exit 1 on secrets in the image
  dfopt --check --format=sarif . > dfopt.sarif
                                       a SARIF log for code scanning
  dfopt --disable=add-to-copy -w Dockerfile
  dfopt --disable=all --enable=merge-runs -d Dockerfile
  dfopt --dockerignore -d Dockerfile   also show the .dockerignore entries to add
  git diff --cached --name-only --diff-filter=ACMR -z | xargs -0 -r dfopt -d --skip-non-dockerfiles --
                                       a git hook given every staged file (contrib/pre-commit)
  dfopt rules                          list the rules
  dfopt rules add-to-copy              explain one rule
  dfopt rules DL3020                   the rules that answer a hadolint check
  dfopt verify Dockerfile              build before and after, compare the images
  dfopt lsp                            serve an editor as its Language Server
`

// cli is one run of the command over its inputs.
type cli struct {
	write, diff, list, check, quiet bool
	verbose                         bool // -v: say what is skipped, suppressed or not found
	skipNonDockerfiles              bool // filter named files as a walk does

	findings report.Writer // where findings go (--format); nil with -q in text
	// findingsOut: the findings take standard output, where the files
	// would be printed.
	findingsOut bool

	opts       rewrite.Options // Path and Context are set per input, the rest by the settings
	contextDir string          // --context; "" means each Dockerfile's folder
	// contexts are the build contexts of the run: the Dockerfiles of one
	// folder share its reads, and what -w writes into it is seen by the
	// Dockerfiles after.
	contexts rewrite.Contexts

	config *config.File   // --config, for every input
	finder *config.Finder // else the .dfopt.yaml above each input
	// finderMu guards finder, which inputs computed side by side share.
	finderMu sync.Mutex
	flags    config.Settings // what the command line sets: the last layer of settings
	// failOn is what fails --check besides changes for the input being
	// processed: --fail-on's kinds if given, else its configuration's.
	failOn failOn
	// failOnFlag is --fail-on, when given.
	failOnFlag *failOn

	badConfigs map[string]bool // configuration errors reported

	stdin          io.Reader
	stdout, stderr io.Writer

	changed bool // some input would change
	flagged bool // some finding is of a kind --fail-on names
	failed  bool // some input had an error
}

// run is the whole command; it returns the exit status for main.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "rules" {
		return runRules(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "verify" {
		return runVerify(args[1:], stdin, stdout, stderr)
	}
	if len(args) > 0 && args[0] == "lsp" {
		return runLSP(args[1:], stdin, stdout, stderr)
	}

	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr}
	fs := &flags.Set{} // it prints nothing: run prints usage and errors itself
	fs.BoolVarP(&c.write, "write", "w", false, "write the result back to each file that changes")
	fs.BoolVarP(&c.diff, "diff", "d", false, "print a unified diff of the changes (for git apply or patch -p1)")
	fs.BoolVarP(&c.list, "list", "l", false, "print the paths of the files that would change")
	fs.BoolVar(&c.check, "check", false, "print no rewritten file on standard output (-d and -l still print); exit 1 if a file would change (-w still writes)")
	failOnValues := fs.StringSlice("fail-on", nil, "exit 1 also on findings of the kinds `KIND,...` (report, proposal, security), with --check, -l or -d")
	format := fs.String("format", "text", "print findings as `text` (on standard error), or as json, sarif or github (on standard output, instead of the files)")
	enable := fs.StringSlice("enable", nil, "switch on the rules `NAME,...` (or all)")
	disable := fs.StringSlice("disable", nil, "switch off the rules `NAME,...` (or all)")
	fs.Bool("propose", false, "also apply the edits of proposal rules (see 'dfopt rules')")
	fs.BoolVar(&c.opts.Format, "fmt", false, "also print every instruction in canonical form")
	merge := fs.String("merge", "", "`small`: merge-runs also merges small RUNs that save no bytes; all: that, and in builder stages too; none: neither")
	fs.StringVar(&c.contextDir, "context", "", "the build context `DIR` rules may look at (default: each Dockerfile's folder; none for standard input)")
	fs.Bool("dockerignore", false, "let the dockerignore rule add entries to the context's ignore file (written with -w, shown by -d)")
	largeFile := fs.String("large-file", "", "report files copied into the image over `SIZE` (default 10MB; 512k, 1G, bytes)")
	fs.Bool("cache-mounts", false, "give installing RUNs BuildKit cache mounts instead of deleting package caches")
	configFile := fs.String("config", "", "read the settings for every input from `FILE`, not from the .dfopt.yaml above each one")
	fs.BoolVar(&c.skipNonDockerfiles, "skip-non-dockerfiles", false, "skip named files a walk would skip (README.txt, Dockerfile.md), as a git hook that passes every file needs")
	fs.BoolVarP(&c.quiet, "quiet", "q", false, "do not print findings on standard error (--format=text)")
	fs.BoolVarP(&c.verbose, "verbose", "v", false, "also print the files skipped, the findings ignore comments suppressed with their reasons, and a folder with no Dockerfile")
	printVersion := fs.Bool("version", false, "print the version and exit")
	help := fs.BoolP("help", "h", false, "print this help and exit")

	if err := fs.Parse(args); err != nil {
		return usageError(stderr, err)
	}
	switch {
	case *help:
		fmt.Fprint(stdout, usageHead)
		writeFlagUsages(stdout, fs)
		fmt.Fprint(stdout, usageTail)
		return exitOK
	case *printVersion:
		fmt.Fprintf(stdout, "dfopt %s\n", moduleVersion())
		return exitOK
	}
	if err := c.setFlags(fs, *enable, *disable, *merge, *largeFile); err != nil {
		return usageError(stderr, err)
	}
	if err := c.setOutput(*format, *failOnValues, fs.Changed("fail-on")); err != nil {
		return usageError(stderr, err)
	}
	if *configFile != "" {
		cfg, err := config.Load(*configFile)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitError
		}
		c.config = cfg
	} else {
		c.finder = config.NewFinder()
	}

	paths := fs.Args()
	if len(paths) == 0 {
		paths = []string{"-"}
	}
	if c.write && slices.Contains(paths, "-") {
		return usageError(stderr, fmt.Errorf("cannot use -w with standard input"))
	}
	// The inputs and their settings are all found first, so that a mistake
	// in a configuration file stops the run before anything is written.
	var inputs []string
	for _, p := range paths {
		inputs = c.collect(p, inputs)
	}
	if len(c.badConfigs) > 0 {
		return exitError
	}
	c.visitAll(inputs)
	c.closeOutput()
	switch {
	case c.failed:
		return exitError
	case (c.changed || c.flagged) && (c.check || c.list || c.diff):
		return exitChanged
	}
	return exitOK
}

// writeFlagUsages prints one aligned line per flag, in the order they were
// defined: "-w, --write" for a boolean, "--format=text" for a flag that
// takes a value, named by its usage text's back-quoted word.
func writeFlagUsages(w io.Writer, fs *flags.Set) {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fs.VisitAll(func(f *flags.Flag) {
		name := "    --" + f.Name
		if f.Shorthand != "" {
			name = "-" + f.Shorthand + ", --" + f.Name
		}
		varname, usage := f.UnquoteUsage()
		if !f.IsBool() {
			name += "=" + varname
		}
		fmt.Fprintf(tw, "  %s\t%s\n", name, usage)
	})
	tw.Flush()
}

// usageError reports a mistake in the command line.
func usageError(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "dfopt: %v\nRun 'dfopt --help' for usage.\n", err)
	return exitError
}

// process rewrites one input and reports the result: findings to stderr,
// then, as the flags say, the file written, its path listed, its diff or its
// new content printed. file tells whether name is a file that -w may write.
func (c *cli) process(name string, src []byte, file bool) {
	c.emit(c.compute(name, src, file))
}

// outcome is what dfopt made of one input, before anything is printed or
// written: files of a folder are worked on side by side, and their
// outcomes come out in the order of the inputs.
type outcome struct {
	name   string
	src    []byte
	file   bool
	failOn failOn
	res    *rewrite.Result
	err    error
}

// compute runs the rules on one input. It prints and writes nothing, so
// that inputs may be computed side by side (see visitAll).
func (c *cli) compute(name string, src []byte, file bool) (o outcome) {
	o = outcome{name: name, src: src, file: file}
	defer func() {
		// A library bug must cost one file, not the run.
		if v := recover(); v != nil {
			o.res, o.err = nil, fmt.Errorf("internal error (a dfopt bug): %v", v)
		}
	}()
	opts, failOn, err := c.optionsFor(name, file)
	if err != nil {
		o.err = err
		return o
	}
	if o.failOn, err = c.failOnFor(failOn); err != nil {
		o.err = err // the configuration's values were checked when it was read
		return o
	}
	opts.Path = name
	if dir := c.contextFor(name, file); dir != "" {
		ctx, err := c.contexts.Open(dir, map[bool]string{true: name}[file])
		if err != nil {
			o.err = err
			return o
		}
		opts.Context = ctx
	}
	o.res, o.err = rewrite.Source(src, opts)
	return o
}

// emit reports one input's outcome, writes it with -w, and prints it.
func (c *cli) emit(o outcome) {
	name, src, file, res := o.name, o.src, o.file, o.res
	defer func() {
		if v := recover(); v != nil {
			c.fail(name, fmt.Errorf("internal error (a dfopt bug): %v", v))
		}
	}()
	if o.err != nil {
		c.fail(name, o.err)
		return
	}
	c.failOn = o.failOn
	c.report(name, src, res)
	changed := res.Changed(src)
	c.changed = c.changed || changed || len(res.Files) > 0
	if changed && c.write && file {
		err := writeFile(name, res.Output)
		c.wrote(name)
		if err != nil {
			c.fail(name, fmt.Errorf("write: %w", err))
			return
		}
	}
	if c.write && file && !c.writeFiles(name, res.Files) {
		return
	}
	switch {
	case c.check && !c.list && !c.diff:
		// --check prints no rewritten file; with -d or -l it shows what
		// fails it, as black's and ruff's --check --diff do.
	case c.findingsOut && !c.list && !c.diff:
		// The findings take standard output.
	case c.list || c.diff || c.write:
		if changed && c.list {
			fmt.Fprintln(c.stdout, name)
		}
		if c.diff {
			c.stdout.Write(rewrite.UnifiedDiff(name, src, res.Output))
		}
		for _, f := range res.Files {
			if c.list {
				fmt.Fprintln(c.stdout, f.Path)
			}
			if c.diff {
				c.stdout.Write(f.Diff())
			}
		}
	default:
		c.stdout.Write(res.Output)
	}
}

// writeFiles writes the other files a Dockerfile's rules change (its
// .dockerignore, say), reporting a failure against the Dockerfile.
func (c *cli) writeFiles(name string, files []rewrite.FileChange) bool {
	for _, f := range files {
		var err error
		if f.Create {
			err = createFile(f.Path, f.New)
		} else {
			err = writeFile(f.Path, f.New)
		}
		c.wrote(f.Path)
		if err != nil {
			c.fail(name, fmt.Errorf("write %s: %w", f.Path, err))
			return false
		}
	}
	return true
}

// wrote tells the build contexts of the run that a file in them may have
// changed, and through a symlink its target too, so that the Dockerfiles
// processed later see the folder as it is now: a .dockerignore written for
// one Dockerfile is in force for the next in the same folder.
func (c *cli) wrote(path string) {
	c.contexts.Wrote(path)
	if target, err := filepath.EvalSymlinks(path); err == nil && target != filepath.Clean(path) {
		c.contexts.Wrote(target)
	}
}

// createFile writes a new file, failing if one appeared meanwhile; the
// umask sets its mode, as for any file an editor creates.
func createFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return bareError(err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

// contextFor names the build context of an input: --context, else the
// Dockerfile's folder; standard input has none unless --context names one.
func (c *cli) contextFor(name string, file bool) string {
	switch {
	case c.contextDir != "":
		return c.contextDir
	case file:
		return filepath.Dir(name)
	}
	return ""
}

// fail reports an error in one input as PATH: message. Errors of package
// rewrite already start with the path they were given, as do parse errors
// with their PATH:LINE.
func (c *cli) fail(name string, err error) {
	c.failed = true
	msg := err.Error()
	if !strings.HasPrefix(msg, name+":") {
		msg = name + ": " + msg
	}
	fmt.Fprintln(c.stderr, oneLine(msg))
}
