//go:build ignore

// Command compare measures dfopt's speed against dockerfmt's, for
// bench/speed/run.sh, which builds it in a module of its own beside a
// checkout of each (dockerfmt's module is not on the Go module proxy, so
// dfopt's own module cannot require it).
//
//	compare format [-rounds N] [-dockerfmt BIN] DIR
//
// formats every file of DIR that BuildKit parses (and that the dockerfmt
// command, when given, formats without failing: its library stops the
// process on some inputs) with dockerfmt's library, with dfopt --fmt and no
// rule, and with dfopt's default rules, all in this one process, round
// after round, and prints each one's median time per file over the rounds.
//
//	compare startup [-runs N] NAME=COMMAND...
//
// runs each command (split at spaces) N times, taking turns, and prints the
// median, the 10th and the 90th percentile of the wall-clock time of a run
// and the median processor time (user and system).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dfopt/dfopt/rewrite"
	"github.com/dfopt/dfopt/rules"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	dockerfmt "github.com/reteps/dockerfmt/lib"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: compare format|startup ...")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "format":
		err = format(os.Args[2:])
	case "startup":
		err = startup(os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

// formatter is one way to format a file.
type formatter struct {
	name string
	run  func(src []byte) error
}

func format(args []string) error {
	fs := flag.NewFlagSet("format", flag.ExitOnError)
	rounds := fs.Int("rounds", 15, "rounds over the files")
	bin := fs.String("dockerfmt", "", "the dockerfmt command, to leave out the files it fails on")
	fs.Parse(args)
	if fs.NArg() != 1 {
		return fmt.Errorf("format: want one folder")
	}
	paths, err := filepath.Glob(filepath.Join(fs.Arg(0), "*"))
	if err != nil {
		return err
	}
	var srcs [][]byte
	rejected, failed := 0, 0
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !buildkitAccepts(src) {
			rejected++
			continue
		}
		if *bin != "" && exec.Command(*bin, p).Run() != nil {
			failed++
			continue
		}
		srcs = append(srcs, src)
	}
	fmt.Printf("%d files: %d BuildKit rejects, %d dockerfmt fails on, %d measured; %d rounds\n\n",
		len(paths), rejected, failed, len(srcs), *rounds)

	all := rules.All()
	formatters := []formatter{
		{"dockerfmt", func(src []byte) error {
			// As its command does: the lines, the last newline left out.
			lines := strings.SplitAfter(strings.TrimSuffix(string(src), "\n"), "\n")
			dockerfmt.FormatFileLines(lines, &dockerfmt.Config{IndentSize: 4, TrailingNewline: true})
			return nil
		}},
		{"dfopt --fmt (no rule)", func(src []byte) error {
			_, err := rewrite.Source(src, rewrite.Options{Path: "bench", Format: true})
			return err
		}},
		{"dfopt (default rules)", func(src []byte) error {
			_, err := rewrite.Source(src, rewrite.Options{Path: "bench", Rules: all})
			return err
		}},
	}
	perFile := make([][]float64, len(formatters)) // per formatter, ms a file per round
	for r := 0; r < *rounds+1; r++ {
		for i, f := range formatters {
			start := time.Now()
			for _, src := range srcs {
				if err := f.run(src); err != nil {
					return fmt.Errorf("%s: %w", f.name, err)
				}
			}
			if r > 0 { // the first round warms up
				perFile[i] = append(perFile[i], float64(time.Since(start).Microseconds())/1e3/float64(len(srcs)))
			}
		}
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "formatter\tms a file (median)\tmin\tmax\tfiles/s\tto dockerfmt\t")
	base := median(perFile[0])
	for i, f := range formatters {
		m := median(perFile[i])
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\t%.0f\t%.2f×\t\n", f.name, m, slices.Min(perFile[i]), slices.Max(perFile[i]), 1e3/m, m/base)
	}
	return tw.Flush()
}

// buildkitAccepts tells whether BuildKit parses a file, as dfopt's corpus
// test does.
func buildkitAccepts(src []byte) bool {
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return false
	}
	_, _, err = instructions.Parse(res.AST, linter.New(&linter.Config{}))
	return err == nil
}

func startup(args []string) error {
	fs := flag.NewFlagSet("startup", flag.ExitOnError)
	runs := fs.Int("runs", 200, "runs of each command")
	fs.Parse(args)
	type command struct {
		name      string
		argv      []string
		wall, cpu []time.Duration
	}
	var cmds []*command
	for _, a := range fs.Args() {
		name, line, ok := strings.Cut(a, "=")
		if !ok {
			return fmt.Errorf("startup: %q is not NAME=COMMAND", a)
		}
		cmds = append(cmds, &command{name: name, argv: strings.Fields(line)})
	}
	for r := 0; r < *runs+1; r++ {
		for _, c := range cmds {
			cmd := exec.Command(c.argv[0], c.argv[1:]...)
			cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
			start := time.Now()
			err := cmd.Run()
			wall := time.Since(start)
			if _, exit := err.(*exec.ExitError); err != nil && !exit {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			if r > 0 { // the first run fills the page cache
				c.wall = append(c.wall, wall)
				c.cpu = append(c.cpu, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
			}
		}
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "command\tmedian ms\tp10\tp90\tcpu ms (median)\t")
	for _, c := range cmds {
		slices.Sort(c.wall)
		slices.Sort(c.cpu)
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }
		n := len(c.wall)
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.2f\t%.2f\t\n", c.name, ms(c.wall[n/2]), ms(c.wall[n/10]), ms(c.wall[n*9/10]), ms(c.cpu[n/2]))
	}
	return tw.Flush()
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	return s[len(s)/2]
}
