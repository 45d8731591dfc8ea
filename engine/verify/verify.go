package verify

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/moby/buildkit/util/progress/progressui"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"

	"github.com/dfopt/dfopt/internal/imagefs"
	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
)

// Options say what to verify and where.
type Options struct {
	Dockerfile string // its path
	Context    string // the build context; "" is the Dockerfile's folder
	Target     string // the stage to build; "" is the last
	BuildArgs  map[string]string
	// Rewrite are dfopt's options (rules, merge policy, cache mounts, ...);
	// Path, Context and Propose are set per variant.
	Rewrite rewrite.Options
	// Variants are dfopt's outputs to build besides the original: "dfopt"
	// (the safe rules) and "propose" (with --propose).
	Variants []string

	Addr  string            // the BuildKit daemon, as buildctl's --addr
	Bases map[string]string // image references served from local root folders
	// Control builds the original twice, cold, and sets apart the content
	// differences of the paths that differ between those two builds.
	Control bool
	// RunFor is how long each image's command runs, with no network, for
	// its exit code and output to be compared; 0 runs nothing.
	RunFor time.Duration
	// Touch is the file of the context (relative) a rebuild edits; ""
	// chooses one (see chooseTouch), "-" measures no rebuild.
	Touch string

	Progress     io.Writer // BuildKit's progress display; nil shows none
	ProgressMode string    // auto, plain, tty (BuildKit's modes)
}

// Variant names, as results.json writes them.
const (
	Original = "original"
	Safe     = "dfopt"
	Propose  = "propose"
)

// Report is what a verification found: one Result per image.
type Report struct {
	Dockerfile string `json:"dockerfile"`
	Context    string `json:"context"`
	Touched    string `json:"touched,omitempty"` // the file a rebuild edited
	// Unsteady counts the paths that differ between two cold builds of the
	// original (Options.Control); dfopt's image may differ there in content.
	Unsteady int      `json:"unsteady,omitempty"`
	Results  []Result `json:"results"`
}

// Result is one image: the original, or one of dfopt's outputs compared with it.
type Result struct {
	Variant string   `json:"variant"`
	Changed bool     `json:"changed"`           // dfopt changed the Dockerfile (or its ignore file)
	Rules   []string `json:"rules,omitempty"`   // the rules whose edits it applied
	Error   string   `json:"error,omitempty"`   // the build failed
	Image   *Image   `json:"image,omitempty"`   // nil when it failed to build
	Ran     *Ran     `json:"ran,omitempty"`     // what its command did (Options.RunFor)
	Equal   *bool    `json:"equal"`             // nil for the original
	Differs []Diff   `json:"differs,omitempty"` // what no applied rule explains
	ByRules []Diff   `json:"by_rules,omitempty"`
	// Stamps are content differences of files that hold build times (logs,
	// caches of the package manager), or that differ between two builds of
	// the original (Options.Control): set apart, listed.
	Stamps []string `json:"stamps,omitempty"`
}

// Image is what one build made and took.
type Image struct {
	Bytes     int64   `json:"bytes"`      // the layers unpacked
	GzipBytes int64   `json:"gzip_bytes"` // the layers as a registry stores them
	Layers    int     `json:"layers"`
	BuildS    float64 `json:"build_s"`   // a build with no cache (bases aside)
	RebuildS  float64 `json:"rebuild_s"` // a build after the edit of Touched; 0 when none
	// RebuildSteps and RebuildCached count the rebuild's steps and those
	// BuildKit took from its cache.
	RebuildSteps  int `json:"rebuild_steps,omitempty"`
	RebuildCached int `json:"rebuild_cached,omitempty"`
}

// Diff is one difference between the original image and dfopt's, and the
// rule that made it, if any.
type Diff struct {
	What string `json:"what"`
	Rule string `json:"rule,omitempty"`
}

// Failed says whether the report holds a failure: an output that did not
// build while the original did, or a difference no applied rule explains.
func (r *Report) Failed() bool {
	orig := r.Results[0]
	for _, res := range r.Results[1:] {
		if res.Error != "" && orig.Error == "" || res.Equal != nil && !*res.Equal {
			return true
		}
	}
	return false
}

// Run builds the original Dockerfile and each variant dfopt makes of it,
// compares them and says what it found. An error is returned only when
// nothing could be compared (a file that does not parse, no engine).
func Run(ctx context.Context, o Options) (*Report, error) {
	src, err := os.ReadFile(o.Dockerfile)
	if err != nil {
		return nil, err
	}
	if o.Context == "" {
		o.Context = filepath.Dir(o.Dockerfile)
	}
	bctx, err := rewrite.OpenContext(o.Context, o.Dockerfile)
	if err != nil {
		return nil, err
	}
	rep := &Report{Dockerfile: o.Dockerfile, Context: o.Context, Touched: o.Touch}
	if o.Touch == "" {
		if rep.Touched, err = chooseTouch(bctx); err != nil {
			return nil, err
		}
	} else if o.Touch == "-" {
		rep.Touched = ""
	} else if !bctx.Sent(o.Touch) {
		return nil, fmt.Errorf("--touch %s: not a file the build context sends", o.Touch)
	}

	// Rewrite first: a file dfopt cannot read is an error before any build.
	type output struct {
		name          string
		res           *rewrite.Result
		ignore        []byte // the ignore file to build with, if the Dockerfile's own
		ignoreChanged bool
		unsent        []string // what the new ignore file keeps out that the old one sent
	}
	var outs []output
	// Each build sees the Dockerfile as "Dockerfile" in a folder of its own:
	// an ignore file named after the user's Dockerfile goes with it, and
	// the ignore file in force is where dfopt may write.
	inForce := bctx.IgnoreFile
	if inForce == "" {
		inForce = filepath.Join(o.Context, ".dockerignore")
	}
	var origIgnore []byte
	if bctx.IgnoreFile != "" && bctx.IgnoreFile == o.Dockerfile+".dockerignore" {
		if origIgnore, err = os.ReadFile(bctx.IgnoreFile); err != nil {
			return nil, err
		}
	}
	for _, v := range o.Variants {
		opts := o.Rewrite
		opts.Path, opts.Context, opts.Propose = o.Dockerfile, bctx, v == Propose
		res, err := rewrite.Source(src, opts)
		if err != nil {
			return nil, err
		}
		out := output{name: v, res: res, ignore: origIgnore}
		for _, f := range res.Files {
			if filepath.Clean(f.Path) == filepath.Clean(inForce) {
				out.ignore, out.ignoreChanged = f.New, true
				if out.unsent, err = unsentBy(bctx, f.New); err != nil {
					return nil, err
				}
			}
		}
		outs = append(outs, out)
	}

	c, err := dial(ctx, o.Addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	e := &engine{c: c, bases: o.Bases, progress: o.Progress, mode: progressui.DisplayMode(o.ProgressMode)}
	if e.mode == "" {
		e.mode = progressui.AutoMode
	}

	// Each image's rebuild edits the file its own way: two outputs alike
	// (dfopt's with and without --propose) must not find each other's
	// rebuild in the cache.
	seed := uint64(time.Now().UnixNano())
	orig, origLayout := buildOne(ctx, e, o, rep.Touched, touchSuffix(seed), Original, src, origIgnore)
	rep.Results = append(rep.Results, orig)
	// A second cold build of the original shows what differs between any
	// two builds of it (a jar's entry times, a keystore, a machine-id):
	// those paths are set apart from dfopt's differences, and listed.
	var noise map[string]bool
	if o.Control && origLayout != nil {
		ctl := o
		ctl.RunFor = 0
		if _, layout := buildOne(ctx, e, ctl, "", "", Original+" again", src, origIgnore); layout != nil {
			noise = map[string]bool{}
			for _, d := range imagefs.Compare(origLayout.Tree, layout.Tree) {
				p, _, _ := strings.Cut(d, ": ")
				noise[p] = true
			}
			rep.Unsteady = len(noise)
		}
	}
	for i, out := range outs {
		changed := out.res.Changed(src) || out.ignoreChanged
		if !changed {
			r := orig
			r.Variant, r.Changed = out.name, false
			r.Equal = boolPtr(orig.Error == "")
			rep.Results = append(rep.Results, r)
			continue
		}
		r, layout := buildOne(ctx, e, o, rep.Touched, touchSuffix(seed+uint64(i)+1), out.name, out.res.Output, out.ignore)
		r.Changed = true
		r.Rules = appliedRules(out.res)
		if origLayout != nil && layout != nil {
			compare(&r, origLayout, layout, out.unsent, noise)
			compareRuns(&r, orig.Ran)
		}
		if r.Error != "" && orig.Error == "" {
			r.Equal = boolPtr(false)
		}
		rep.Results = append(rep.Results, r)
	}
	return rep, nil
}

func boolPtr(b bool) *bool { return &b }

// buildOne builds one Dockerfile cold, exports and reads its image, then
// rebuilds it after the edit of touch.
func buildOne(ctx context.Context, e *engine, o Options, touch, suffix, variant string, df, ignore []byte) (Result, *imagefs.Layout) {
	r := Result{Variant: variant}
	dir, err := os.MkdirTemp("", "dfopt-verify-oci-")
	if err != nil {
		r.Error = err.Error()
		return r, nil
	}
	defer os.RemoveAll(dir)
	spec := buildSpec{name: variant + ", cold build", dockerfile: df, ignore: ignore, context: o.Context, target: o.Target, buildArgs: o.BuildArgs, noCache: true, out: dir}
	cold, err := e.build(ctx, spec)
	if err != nil {
		r.Error = err.Error()
		return r, nil
	}
	layout, err := imagefs.ReadLayout(dir)
	if err != nil {
		r.Error = fmt.Sprintf("read the image: %v", err)
		return r, nil
	}
	r.Image = &Image{Bytes: layout.Bytes(), GzipBytes: layout.Compressed(), Layers: len(layout.Layers), BuildS: cold.seconds}
	if o.RunFor > 0 {
		run := spec
		run.name, run.noCache, run.out = variant+", run its command", false, ""
		if r.Ran, err = e.runImage(ctx, run, o.RunFor); err != nil {
			r.Error = "run: " + err.Error()
			return r, layout
		}
	}
	if touch != "" {
		rdir, err := os.MkdirTemp("", "dfopt-verify-oci-")
		if err != nil {
			r.Error = err.Error()
			return r, layout
		}
		defer os.RemoveAll(rdir)
		spec.name, spec.noCache, spec.touch, spec.suffix, spec.out = variant+", rebuild after editing "+touch, false, touch, suffix, rdir
		re, err := e.build(ctx, spec)
		if err != nil {
			r.Error = "rebuild: " + err.Error()
			return r, layout
		}
		r.Image.RebuildS, r.Image.RebuildSteps, r.Image.RebuildCached = re.seconds, re.steps, re.cached
	}
	return r, layout
}

// appliedRules lists the rules whose edits dfopt applied, in pipeline order.
func appliedRules(res *rewrite.Result) []string {
	var out []string
	for _, f := range res.Findings {
		if f.Applied && !slices.Contains(out, f.Rule) {
			out = append(out, f.Rule)
		}
	}
	return out
}

// cacheRules name the rule that takes each package manager's caches out of
// an image (or, with --cache-mounts, mounts them); every manager of the
// table with caches is here (TestCacheRules).
var cacheRules = map[string]string{
	"apt": "apt-hygiene", "apk": "apk-no-cache",
	"yum": "rpm-clean", "dnf": "rpm-clean", "microdnf": "rpm-clean", "tdnf": "rpm-clean", "zypper": "rpm-clean",
	"pip": "pip-no-cache", "uv": "pip-no-cache", "poetry": "pip-no-cache", "pipenv": "pip-no-cache", "conda": "pip-no-cache",
	"npm": "node-cache", "yarn": "node-cache", "pnpm": "node-cache", "bun": "node-cache",
	"gem": "node-cache", "bundler": "node-cache", "composer": "node-cache",
	"go": "go-clean", "maven": "jvm-cache", "gradle": "jvm-cache",
	// No rule removes these caches: a path of theirs missing is a difference.
	"cargo": "", "dotnet": "", "mix": "",
}

// rebaseRules are the proposals that change what the image is made of (its
// base, or the packages it keeps): every difference that remains with one of
// them applied is theirs, and listed as such.
var rebaseRules = []string{"multi-stage", "slim-base", "build-tools-shipped", "apt-no-install-recommends"}

// compare sets r.Equal, r.Differs and r.ByRules from the two images.
func compare(r *Result, before, after *imagefs.Layout, unsent []string, noise map[string]bool) {
	rm := imagefs.NewRemovals(before.Image.Config.Env, nil)
	b, a, apart := imagefs.Apart(before.Tree, after.Tree, rm)
	diffs, stamps := imagefs.ApartStamps(imagefs.Compare(b, a))
	r.Stamps = stamps
	if len(noise) > 0 {
		var kept []string
		for _, d := range diffs {
			p, rest, _ := strings.Cut(d, ": ")
			// Only a change of content or size: a path that appears or
			// goes is never noise.
			if noise[p] && (strings.HasPrefix(rest, "content differs") || strings.HasPrefix(rest, "size ")) {
				r.Stamps = append(r.Stamps, d)
				continue
			}
			kept = append(kept, d)
		}
		diffs = kept
	}
	var unexplained []string // set apart as a cache no applied rule removes
	for _, line := range apart {
		p, _, _ := strings.Cut(line, ": ")
		rule := cacheRuleOf(p, r.Rules, before.Image.Config.Env)
		if rule == "" {
			unexplained = append(unexplained, line)
			continue
		}
		r.ByRules = append(r.ByRules, Diff{What: line, Rule: rule})
	}
	// npm's debug logs lie in its home cache folder, which Apart takes out
	// first: the stamps among what no rule explains are stamps all the same
	// (the bench's node-ts, whose dfopt applies no node-cache).
	unexplained, stamps = imagefs.ApartStamps(unexplained)
	r.Stamps = append(r.Stamps, stamps...)
	diffs = append(diffs, unexplained...)
	diffs = append(diffs, imagefs.CompareConfigs(before.Image, after.Image)...)
	rebase := r.rebase()
	for _, d := range diffs {
		if p, _, ok := strings.Cut(d, ": only in before ("); ok {
			if slices.ContainsFunc(unsent, func(f string) bool { return strings.HasSuffix(p, "/"+f) }) {
				r.ByRules = append(r.ByRules, Diff{What: d, Rule: "dockerignore"})
				continue
			}
		}
		if rebase != "" {
			r.ByRules = append(r.ByRules, Diff{What: d, Rule: rebase})
			continue
		}
		r.Differs = append(r.Differs, Diff{What: d})
	}
	r.Equal = boolPtr(len(r.Differs) == 0)
}

// unsentBy lists the paths of the context (slash-separated, relative) that
// the build sends with its ignore file today and would not send with the
// ignore file ignore: what dfopt's dockerignore rule keeps out on purpose.
func unsentBy(bctx *rewrite.BuildContext, ignore []byte) ([]string, error) {
	patterns, err := ignorefile.ReadAll(bytes.NewReader(ignore))
	if err != nil {
		return nil, err
	}
	m, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, err
	}
	files, err := bctx.Files()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range files {
		if ok, err := m.MatchesOrParentMatches(f.Path); err == nil && ok {
			out = append(out, f.Path)
		}
	}
	return out, nil
}

// compareRuns adds to r what differs between the original's run and its
// own: whether the command exited, and how, is always compared; its output
// is set apart as a rebasing proposal's when that proposal changed the
// command itself (multi-stage serving a site with nginx instead of serve).
func compareRuns(r *Result, orig *Ran) {
	ran := r.Ran
	if orig == nil && ran == nil {
		return
	}
	add := func(d string, byRule bool) {
		if rule := r.rebase(); byRule && rule != "" {
			r.ByRules = append(r.ByRules, Diff{What: d, Rule: rule})
			return
		}
		r.Differs = append(r.Differs, Diff{What: d})
	}
	switch {
	case orig == nil || ran == nil:
		add(fmt.Sprintf("run: the command is %s before, %s after", argsOf(orig), argsOf(ran)), false)
	case orig.Running != ran.Running || orig.Exit != ran.Exit:
		add(fmt.Sprintf("run: %s before, %s after", orig.how(), ran.how()), false)
	default:
		same := slices.Equal(orig.Args, ran.Args)
		if untimed(orig.Stdout) != untimed(ran.Stdout) {
			add(fmt.Sprintf("run: standard output differs: %q -> %q", clip(orig.Stdout), clip(ran.Stdout)), !same)
		}
		if untimed(orig.Stderr) != untimed(ran.Stderr) {
			add(fmt.Sprintf("run: standard error differs: %q -> %q", clip(orig.Stderr), clip(ran.Stderr)), !same)
		}
	}
	r.Equal = boolPtr(len(r.Differs) == 0)
}

// clockTimes match the dates and times programs print when they start (Go's
// log, RFC 3339, syslog-like and common web server forms), which differ
// between any two runs.
var clockTimes = regexp.MustCompile(`\d{4}[-/]\d{2}[-/]\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?` +
	`|\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}` +
	`|[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}( \d{4})?`)

// untimed is an output with its clock times replaced, for comparison.
func untimed(s string) string { return clockTimes.ReplaceAllString(s, "<time>") }

func argsOf(r *Ran) string {
	if r == nil {
		return "none"
	}
	return fmt.Sprintf("%q", r.Args)
}

// how says how a run ended.
func (r *Ran) how() string {
	if r.Running {
		return "still running when stopped"
	}
	return fmt.Sprintf("exit code %d", r.Exit)
}

// clip shortens an output for a difference line.
func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// rebase names the applied rebasing proposals, joined, or "".
func (r *Result) rebase() string {
	var out []string
	for _, rule := range r.Rules {
		if slices.Contains(rebaseRules, rule) {
			out = append(out, rule)
		}
	}
	return strings.Join(out, ",")
}

// cacheRuleOf names the applied rule that removes the cache p lies in (or
// holds, or leads to), or "". env is the original image's environment,
// which may move a cache (PIP_CACHE_DIR).
func cacheRuleOf(p string, applied, env []string) string {
	near := func(dir string) bool {
		return p == dir || strings.HasPrefix(p, dir+"/") || strings.HasPrefix(dir, p+"/")
	}
	vars := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = path.Clean(v)
		}
	}
	for _, m := range runmodel.Managers {
		rule := cacheRules[m.Name]
		if rule == "" || !slices.Contains(applied, rule) {
			continue
		}
		for _, c := range m.Caches {
			if rel, home := strings.CutPrefix(c.Dir, "~/"); home {
				if strings.Contains(p+"/", "/"+rel+"/") || strings.HasSuffix(p, "/"+rel) || strings.Contains("/"+rel, p[strings.LastIndex(p, "/"):]+"/") {
					return rule
				}
			} else if near(c.Dir) {
				return rule
			}
			for _, e := range c.Env {
				name, sub, _ := strings.Cut(e, "/")
				if v := vars[name]; path.IsAbs(v) && v != "/" && near(path.Join(v, sub)) {
					return rule
				}
			}
		}
	}
	if slices.Contains(applied, "go-clean") && near("/go/pkg/mod") {
		return "go-clean"
	}
	return ""
}
