package rules

import (
	"fmt"
	"path"
	"strings"

	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// JVMCache keeps Maven's and Gradle's dependency caches out of images that
// ship: removed after the last build, or kept in a cache mount.
var JVMCache = &rewrite.Rule{
	Name:  "jvm-cache",
	Title: "Maven and Gradle: no dependency cache left in the image",
	Kind:  rewrite.Safe,
	Doc: `mvn and gradle download every dependency into /root/.m2/repository and
/root/.gradle/caches, often hundreds of megabytes, and a stage that ships keeps
them. The last RUN of the shipping stages that runs mvn (or gradle) gets
rm -rf /root/.m2/repository (or /root/.gradle/caches) at its end, as root, when
the image's command does not run the build tool itself, no
-Dmaven.repo.local or GRADLE_USER_HOME moves the cache, and no later step may
read the cache (the tool offline, -o or --offline; a step that names the
cache; anything dfopt cannot see through, which makes it a proposal that
names the step). With --cache-mounts every such RUN
gets --mount=type=cache,target=/root/.m2 (or /root/.gradle) instead, all of
them or none, which needs BuildKit. A cache that an earlier RUN filled (a
dependency:go-offline step, say) still ships in that RUN's layer; cache mounts
avoid that too. Builder stages are left alone: their layers never ship.

Bad:

    FROM maven:3-eclipse-temurin-21
    COPY . /src
    RUN mvn -B -f /src/pom.xml package
    CMD ["java", "-jar", "/src/target/app.jar"]

Good:

    FROM maven:3-eclipse-temurin-21
    COPY . /src
    RUN mvn -B -f /src/pom.xml package \
        && rm -rf /root/.m2/repository
    CMD ["java", "-jar", "/src/target/app.jar"]
`,
	Run: runJVMCache,
}

// jvmTool is one build tool's cache.
type jvmTool struct {
	manager string // its name in the package-manager table
	names   []string
	cache   string // what the clean-up removes
	mount   string // what a cache mount covers
	moved   []string
}

var jvmTools = []jvmTool{
	jvmToolOf("maven", "maven.repo.local", "MAVEN_REPO", "MAVEN_CONFIG"),
	jvmToolOf("gradle", "GRADLE_USER_HOME", "gradle.user.home", "--project-cache-dir", "-g", "--gradle-user-home"),
}

// jvmToolOf reads a build tool's programs and cache from the package-manager
// table, for root: the cache the clean-up removes, and the folder above it
// that a cache mount covers.
func jvmToolOf(manager string, moved ...string) jvmTool {
	m := runmodel.ManagerNamed(manager)
	cache := "/root" + strings.TrimPrefix(m.Caches[0].Dir, "~")
	return jvmTool{manager: manager, names: m.Commands, cache: cache, mount: path.Dir(cache), moved: moved}
}

func runJVMCache(p *rewrite.Pass) {
	d := p.Doc
	m := runmodel.Of(d)
	ship := d.Shipping()
	for _, tool := range jvmTools {
		mgr := runmodel.ManagerNamed(tool.manager)
		var runs []*rewrite.Instruction
		root := true
		user := map[*rewrite.Instruction]bool{}
		for _, st := range d.Stages {
			if !ship[st] {
				continue
			}
			if par := d.Parent(st); par == nil {
				root = true
			}
			for _, in := range st.Instructions {
				if u, ok := in.Command.(*instructions.UserCommand); ok {
					name := strings.SplitN(u.User, ":", 2)[0]
					root = name == "root" || name == "0"
				}
				if in.Keyword == "run" && runsTool(m.Run(in), tool) {
					user[in] = root
					runs = append(runs, in)
				}
			}
		}
		if len(runs) == 0 {
			continue
		}
		if p.Options.CacheMounts {
			jvmMountAll(p, m, mgr, tool, runs, user)
			continue
		}
		last := runs[len(runs)-1]
		if !user[last] || last.Shell == nil {
			continue
		}
		r := m.Run(last)
		if hasJVMCacheMount(r, tool.mount) || movesCache(d, last, tool) || cleansPath(r, tool.cache) || commandRunsTool(d, tool) {
			continue
		}
		rd := jvmCacheReadLater(m, last, mgr, tool, nil)
		if rd != nil && !rd.Unseen {
			continue // a later step reads the cache
		}
		if e, ok := appendCommand(d, r, "rm -rf "+tool.cache); ok {
			f := rewrite.Finding{
				Line:    last.StartLine,
				Message: fmt.Sprintf("%s leaves its downloads in %s, which ships in this layer: remove it at the end of the last RUN that builds", tool.names[0], tool.cache),
				Edits:   []rewrite.Edit{e},
			}
			if rd != nil {
				f.Proposal = true
				f.Message += " (proposal: " + readerWhy(p, rd) + ")"
			}
			p.Report(f)
		}
	}
}

// jvmMountAll gives every RUN that runs the tool a cache mount, when each
// can take one (shell form, as root, the cache in its usual place) and no
// other step reads the cache from the image: a mount on some of them only
// would hide from the later ones what the earlier ones downloaded.
func jvmMountAll(p *rewrite.Pass, m *runmodel.Model, mgr *runmodel.Manager, tool jvmTool, runs []*rewrite.Instruction, user map[*rewrite.Instruction]bool) {
	d := p.Doc
	all := map[*rewrite.Instruction]bool{}
	for _, in := range runs {
		all[in] = true
	}
	var todo []*rewrite.Instruction
	for _, in := range runs {
		r := m.Run(in)
		if hasJVMCacheMount(r, tool.mount) {
			continue
		}
		if !user[in] || in.Shell == nil || movesCache(d, in, tool) || jvmCacheReadLater(m, in, mgr, tool, all) != nil ||
			jvmCacheReadHidden(m, r, mgr, tool, all) != nil {
			return
		}
		todo = append(todo, in)
	}
	for _, in := range todo {
		p.Report(rewrite.Finding{
			Line:    in.StartLine,
			Message: fmt.Sprintf("%s keeps its dependency cache in the image: keep it in a cache mount on %s", tool.names[0], tool.mount),
			Edits:   []rewrite.Edit{addRunFlags(d, in, "--mount=type=cache,target="+tool.mount)},
		})
	}
}

// runsTool tells whether the RUN runs the build tool (the model cannot see
// what the build does, but it sees the tool run).
func runsTool(r *runmodel.Run, tool jvmTool) bool {
	for _, c := range r.Cmds {
		if c.Is(tool.names...) {
			return true
		}
	}
	return false
}

// jvmCacheReadLater finds a step after in that may read the tool's cache
// from the image: the tool offline (-o, --offline), a step that names the
// cache, or one the model cannot see through.
func jvmCacheReadLater(m *runmodel.Model, in *rewrite.Instruction, mgr *runmodel.Manager, tool jvmTool, skip map[*rewrite.Instruction]bool) *runmodel.Reader {
	places := []runmodel.Place{{Path: tool.cache}}
	return m.LaterReaderSkipping(in, places, func(_ *runmodel.Run, c *runmodel.Cmd, _ runmodel.State) string {
		if c.Is(tool.names...) && c.HasFlag(mgr.OfflineFlags...) {
			return c.Name + " works offline, from its cache"
		}
		return ""
	}, func(x *rewrite.Instruction) bool { return skip[x] })
}

// jvmCacheReadHidden finds what a cache mount on the RUN would hide from
// it: the tool offline, another command of the RUN that may read the cache
// from the image, or an earlier step that put files there (the RUNs in skip
// get mounts alike).
func jvmCacheReadHidden(m *runmodel.Model, r *runmodel.Run, mgr *runmodel.Manager, tool jvmTool, skip map[*rewrite.Instruction]bool) *runmodel.Reader {
	places := []runmodel.Place{{Path: tool.cache}}
	offline := func(_ *runmodel.Run, c *runmodel.Cmd, _ runmodel.State) string {
		if c.Is(tool.names...) && c.HasFlag(mgr.OfflineFlags...) {
			return c.Name + " works offline, from its cache"
		}
		return ""
	}
	if rd := m.ReaderInExcept(r, nil, places, offline, func(c *runmodel.Cmd) bool { return c.Is(tool.names...) }); rd != nil {
		return rd
	}
	return m.EarlierWriter(r.In, places, func(x *rewrite.Instruction) bool { return skip[x] })
}

func hasJVMCacheMount(r *runmodel.Run, target string) bool {
	for _, t := range r.CacheTargets() {
		if t = path.Clean(t); t == target || strings.HasPrefix(target, t+"/") || strings.HasPrefix(t, target+"/") {
			return true
		}
	}
	return false
}

// movesCache tells whether the build tool's cache lives somewhere else: an
// option on the command line or an ENV of the stages.
func movesCache(d *rewrite.Document, in *rewrite.Instruction, tool jvmTool) bool {
	text := in.Line
	for _, x := range d.Instructions {
		if x.Keyword == "env" || x.Keyword == "arg" {
			text += "\n" + x.Line
		}
	}
	for _, m := range tool.moved {
		if strings.Contains(text, m) {
			return true
		}
	}
	return false
}

// cleansPath tells whether the RUN removes the cache (or a folder holding it).
func cleansPath(r *runmodel.Run, cache string) bool {
	for _, t := range r.Removed().Paths {
		if t = runmodel.LiteralPrefix(t); t != "" && t != "/" && (t == cache || strings.HasPrefix(cache, t+"/") || strings.HasPrefix(t, cache+"/")) {
			return true
		}
	}
	return false
}

// commandRunsTool tells whether the image's command runs the build tool, which
// would download everything again at start-up.
func commandRunsTool(d *rewrite.Document, tool jvmTool) bool {
	if len(d.Stages) == 0 {
		return false
	}
	for _, in := range d.Stages[len(d.Stages)-1].Instructions {
		if in.Keyword == "cmd" || in.Keyword == "entrypoint" {
			for _, n := range tool.names {
				if strings.Contains(in.Line, n) {
					return true
				}
			}
		}
	}
	return false
}
