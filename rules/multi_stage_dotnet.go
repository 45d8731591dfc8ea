package rules

import (
	"path"
	"strings"

	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
)

// findDotnetBuild finds a framework-dependent dotnet publish -o DIR in a
// stage on Microsoft's .NET SDK image whose command runs what it
// published (dotnet DIR/App.dll, or the app host DIR/App): the folder goes
// onto the ASP.NET Core runtime image of the same tag, which runs console
// apps as well as web apps.
func findDotnetBuild(p *rewrite.Pass, m *runmodel.Model, st *rewrite.Stage) (*stageSplit, bool) {
	rt, ok := dotnetRuntime(st.Base)
	if !ok {
		return nil, false
	}
	pub, at, ok := buildRun(m, st, false, func(r *runmodel.Run, c *runmodel.Cmd) (runmodel.DotnetPublish, bool, bool) {
		if c.Name != "dotnet" || c.Arg(0) != "publish" {
			return runmodel.DotnetPublish{}, false, true
		}
		d, ok := m.DotnetPublishOf(r, c)
		return d, true, ok
	})
	if !ok {
		return nil, false
	}
	sp := &stageSplit{build: at, main: pub.Cmd, program: pub.Out, outputs: []string{pub.Out}, runtime: rt}
	under := func(f, wd string) bool {
		if !path.IsAbs(f) {
			if wd == "" {
				return false
			}
			f = path.Join(wd, f)
		}
		return strings.HasPrefix(f, pub.Out+"/") && !strings.Contains(f, "$")
	}
	sp.runs = func(argv []string, wd string) bool {
		switch {
		case len(argv) >= 2 && argv[0] == "dotnet":
			return strings.HasSuffix(argv[1], ".dll") && under(argv[1], wd)
		case len(argv) >= 1:
			return under(argv[0], wd)
		}
		return false
	}
	sp.step = func(c *runmodel.Cmd) bool {
		if c.Name == "dotnet" {
			switch c.Arg(0) {
			case "restore", "build", "test", "publish", "--info", "--version":
				return true
			}
			return false
		}
		return leftBehind(c, func(string) bool { return false })
	}
	sp.source = func(rel string) bool {
		base, ext := path.Base(rel), path.Ext(rel)
		switch ext {
		case ".cs", ".fs", ".vb", ".csproj", ".fsproj", ".vbproj", ".sln", ".props", ".targets", ".resx":
			return true
		}
		return strings.EqualFold(base, "nuget.config") || base == "global.json" || base == ".editorconfig"
	}
	sp.assumes = append(sp.assumes, "the app needs no SDK tool at run time (dotnet ef, dotnet watch)")
	return sp, true
}

// dotnetRuntime names the runtime image for Microsoft's SDK image: the
// aspnet repository next to the sdk one, with the same tag (8.0,
// 8.0-alpine, 8.0-jammy-chiseled has no sdk twin and is not named).
func dotnetRuntime(base string) (string, bool) {
	ref := strings.ToLower(base)
	if strings.Contains(ref, "@") || strings.Contains(ref, "$") {
		return "", false
	}
	for _, repo := range []string{"mcr.microsoft.com/dotnet/sdk:", "mcr.microsoft.com/dotnet/core/sdk:"} {
		if tag, ok := strings.CutPrefix(ref, repo); ok && tag != "" {
			return strings.Replace(repo, "/sdk:", "/aspnet:", 1) + tag, true
		}
	}
	return "", false
}
