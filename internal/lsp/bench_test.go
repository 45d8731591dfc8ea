package lsp

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkDidChange measures one round of an editor's session: a change
// of the text sent, its diagnostics back, over pipes. It runs on the
// README's example (with its folder as the build context) and on a large
// file of the corpus (skipped when ../shared is absent).
func BenchmarkDidChange(b *testing.B) {
	for name, path := range map[string]string{
		"readme-example": filepath.Join("..", "..", "fixtures", "all", "readme-example", "Dockerfile"),
		"corpus-postgres": filepath.Join("..", "..", "..", "shared", "corpus", "dockerfiles",
			"001-docker-library-postgres-18-bookworm.Dockerfile"),
	} {
		b.Run(name, func(b *testing.B) {
			src, err := os.ReadFile(path)
			if err != nil {
				b.Skip(err)
			}
			abs, _ := filepath.Abs(path)
			uri := fileURI(abs)
			c := startServer(b)
			c.initialize(`{}`)
			c.open(uri, string(src))
			c.diagnostics(uri)
			texts := []string{string(src) + "# edited\n", string(src)}
			b.ReportAllocs()
			b.ResetTimer()
			version := 1
			for b.Loop() {
				version++
				c.notify("textDocument/didChange", map[string]any{
					"textDocument":   map[string]any{"uri": uri, "version": version},
					"contentChanges": []any{map[string]any{"text": texts[version%2]}},
				})
				if d := c.diagnostics(uri); *d.Version != version {
					b.Fatalf("diagnostics of version %d, want %d", *d.Version, version)
				}
			}
		})
	}
}
