package verify

import (
	"path"
	"slices"
	"strings"

	"github.com/dfopt/dfopt/rewrite"
)

// sourceExts are the extensions of files a developer edits between two
// builds, most likely first.
var sourceExts = []string{
	".go", ".c", ".cc", ".cpp", ".rs", ".py", ".js", ".mjs", ".ts", ".tsx", ".jsx", ".vue", ".svelte",
	".java", ".kt", ".scala", ".cs", ".rb", ".php", ".ex", ".hs", ".h", ".hpp",
	".sh", ".html", ".css", ".scss", ".md",
}

// notSources are files that look like sources but are a project's
// dependency manifests or build set-up: editing one is not the everyday edit
// a rebuild should measure.
var notSources = []string{
	"setup.py", "conftest.py", "manage.py", "vite.config.js", "vite.config.ts", "webpack.config.js",
	"rollup.config.js", "babel.config.js", "jest.config.js", "next.config.js", "tailwind.config.js",
	"postcss.config.js", "eslint.config.js", ".eslintrc.js", "svelte.config.js", "README.md", "CHANGELOG.md",
}

// chooseTouch picks the file of the build context whose edit the rebuild
// measures: a source file the build sends, by kind of source (sourceExts'
// order), then the shallowest, then by name. "" when there is none.
func chooseTouch(ctx *rewrite.BuildContext) (string, error) {
	files, err := ctx.Files()
	if err != nil {
		return "", err
	}
	best, bestRank, bestDepth := "", len(sourceExts), 0
	for _, f := range files {
		if f.Dir || f.Link || f.Size == 0 {
			continue
		}
		name := path.Base(f.Path)
		if slices.Contains(notSources, name) || strings.HasPrefix(name, ".") || strings.Contains(f.Path, "node_modules/") {
			continue
		}
		rank := slices.Index(sourceExts, path.Ext(name))
		if rank < 0 {
			continue
		}
		depth := strings.Count(f.Path, "/")
		if best == "" || rank < bestRank || rank == bestRank && (depth < bestDepth || depth == bestDepth && f.Path < best) {
			best, bestRank, bestDepth = f.Path, rank, depth
		}
	}
	return best, nil
}
