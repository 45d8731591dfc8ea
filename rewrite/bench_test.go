package rewrite_test

import (
	"os"
	"testing"

	"github.com/dfopt/dfopt/rewrite"
	"github.com/dfopt/dfopt/rules"
)

// BenchmarkCorpus runs the default pipeline over every corpus file buildkit
// accepts and reports files per second.
func BenchmarkCorpus(b *testing.B) {
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
	opts := rewrite.Options{Path: "bench", Rules: rules.All()}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, src := range srcs {
			if _, err := rewrite.Source(src, opts); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(srcs)*b.N)/b.Elapsed().Seconds(), "files/s")
}

// FuzzSource checks the engine's promises on any input: no panic, an output
// buildkit accepts and that is stable, and the identity with no rules.
func FuzzSource(f *testing.F) {
	f.Add([]byte("FROM alpine\nADD a.txt /a\nMAINTAINER x\n"))
	f.Add([]byte("# escape=`\nFROM x\nrun a `\n  b\n"))
	f.Add([]byte("FROM a\r\nRUN <<EOF\r\nx\r\nEOF\r\n"))
	f.Add([]byte("\xef\xbb\xbffrom a\nrun a &&\\\n b\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		opts := rewrite.Options{Path: "fuzz", Rules: rules.All(), Format: true}
		res, err := rewrite.Source(src, opts)
		if err != nil {
			return
		}
		if !buildkitAccepts(res.Output) {
			t.Fatalf("output does not parse:\n%q", res.Output)
		}
		id, err := rewrite.Source(src, rewrite.Options{Path: "fuzz"})
		if err != nil || string(id.Output) != string(src) {
			t.Fatalf("no rules: output differs from input")
		}
	})
}
