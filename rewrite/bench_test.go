package rewrite_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/dfopt/dfopt/rewrite"
	"github.com/dfopt/dfopt/rules"
)

// BenchmarkCorpus runs the default pipeline over every corpus file buildkit
// accepts and reports files per second.
func BenchmarkCorpus(b *testing.B) {
	benchCorpus(b, rewrite.Options{Path: "bench", Rules: rules.All()})
}

// BenchmarkFormat runs --fmt alone (no rules) over the same files, the work
// a plain Dockerfile formatter does.
func BenchmarkFormat(b *testing.B) {
	benchCorpus(b, rewrite.Options{Path: "bench", Format: true})
}

// benchCorpus runs Source with opts over every corpus file buildkit accepts
// and reports files per second.
func benchCorpus(b *testing.B, opts rewrite.Options) {
	b.Helper()
	srcs := acceptedCorpus(b)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, _ := cpuTime()
	for b.Loop() {
		for _, src := range srcs {
			if _, err := rewrite.Source(src, opts); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportRates(b, len(srcs), cpu0)
}

// reportRates reports files per second, and the CPU time a file took (the
// process's, garbage collection included), which a machine busy with other
// work inflates less than the elapsed time.
func reportRates(b *testing.B, files int, cpu0 time.Duration) {
	b.ReportMetric(float64(files*b.N)/b.Elapsed().Seconds(), "files/s")
	if cpu1, ok := cpuTime(); ok {
		b.ReportMetric(float64((cpu1-cpu0).Microseconds())/float64(files*b.N), "cpu-µs/file")
	}
}

// acceptedCorpus reads the corpus files buildkit accepts.
func acceptedCorpus(b *testing.B) [][]byte {
	b.Helper()
	var srcs [][]byte
	for _, path := range corpusFiles(b) {
		src, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		if buildkitAccepts(src) {
			srcs = append(srcs, src)
		}
	}
	return srcs
}

// FuzzSource checks Source's promises (see checkPromises) on any input, with
// every option set. Its seeds: a few odd files, the Dockerfiles of
// TestNoPanic that reach the rules, the golden fixtures, and every file of
// ../shared/corpus/dockerfiles when it is there (read there, never copied in).
func FuzzSource(f *testing.F) {
	f.Add([]byte("FROM alpine\nADD a.txt /a\nMAINTAINER x\n"))
	f.Add([]byte("# escape=`\nFROM x\nrun a `\n  b\n"))
	f.Add([]byte("FROM a\r\nRUN <<EOF\r\nx\r\nEOF\r\n"))
	f.Add([]byte("\xef\xbb\xbffrom a\nrun a &&\\\n b\n"))
	for _, s := range append(ruleSeeds, fixtureSeeds()...) {
		f.Add([]byte(s.src))
	}
	for _, path := range corpusSeeds() {
		src, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	sets := optionSets(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		if broken := checkPromises(src, sets); len(broken) > 0 {
			t.Fatalf("input %q:\n%s", src, strings.Join(broken, "\n"))
		}
	})
}

// corpusSeeds lists the files of ../shared/corpus/dockerfiles; none when the
// folder is absent.
func corpusSeeds() []string {
	files, _ := filepath.Glob(filepath.Join("..", "..", "shared", "corpus", "dockerfiles", "*"))
	return files
}

// BenchmarkParse parses the same files into documents: the floor under
// BenchmarkCorpus and BenchmarkFormat (buildkit's parser and instructions,
// and mvdan/sh on every shell-form RUN).
func BenchmarkParse(b *testing.B) {
	srcs := acceptedCorpus(b)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, _ := cpuTime()
	for b.Loop() {
		for _, src := range srcs {
			if _, err := rewrite.Parse("bench", src); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportRates(b, len(srcs), cpu0)
}

// BenchmarkBuildKit does only what BuildKit itself does with the same files
// before any rule can look at them: its parser reads each file, and its
// instructions package turns every node into a typed command (which is also
// how dfopt rejects what BuildKit rejects). No tool built on BuildKit's
// parser that checks its input as BuildKit does can go below this;
// BenchmarkParse adds dfopt's own reading (source map, stages, mvdan/sh on
// every shell-form RUN), BenchmarkCorpus and BenchmarkFormat the rules and
// the formatter.
func BenchmarkBuildKit(b *testing.B) {
	benchBuildKit(b, false)
}

// BenchmarkBuildKitParser is BuildKit's parser alone, without the typed
// commands: the part of BenchmarkBuildKit that --fmt must pay twice, once
// for the input and once for the new text of every instruction it
// changes, to show that the new text means what the old one did.
func BenchmarkBuildKitParser(b *testing.B) {
	benchBuildKit(b, true)
}

func benchBuildKit(b *testing.B, parserOnly bool) {
	srcs := acceptedCorpus(b)
	lint := linter.New(&linter.Config{})
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, _ := cpuTime()
	for b.Loop() {
		for _, src := range srcs {
			res, err := parser.Parse(bytes.NewReader(src))
			if err != nil {
				b.Fatal(err)
			}
			if parserOnly {
				continue
			}
			for _, n := range res.AST.Children {
				if _, err := instructions.ParseInstructionWithLinter(n, lint); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	reportRates(b, len(srcs), cpu0)
}

// BenchmarkFormatFloor is the least a formatter that shows its output means
// what its input did must do on this design: dfopt's Parse of each file
// (BuildKit's parser and typed commands, mvdan/sh on every shell-form RUN)
// and BuildKit's parser on the new text of every instruction --fmt
// changes, the texts worked out before the timer starts. BenchmarkFormat
// is the whole of --fmt; the difference is what formatting itself costs.
func BenchmarkFormatFloor(b *testing.B) {
	srcs := acceptedCorpus(b)
	texts := make([]string, len(srcs))
	for i, src := range srcs {
		res, err := rewrite.Source(src, rewrite.Options{Path: "bench", Format: true})
		if err != nil {
			b.Fatal(err)
		}
		var all strings.Builder
		for _, f := range res.Findings {
			for _, e := range f.Edits {
				all.WriteString(e.New)
				all.WriteString("\n")
			}
		}
		texts[i] = all.String()
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, _ := cpuTime()
	for b.Loop() {
		for i, src := range srcs {
			if _, err := rewrite.Parse("bench", src); err != nil {
				b.Fatal(err)
			}
			if texts[i] == "" {
				continue
			}
			if _, err := parser.Parse(strings.NewReader(texts[i])); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportRates(b, len(srcs), cpu0)
}
