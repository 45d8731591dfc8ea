package realbuild

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/dfopt/dfopt/rewrite"
	"github.com/dfopt/dfopt/rules"
)

// adversarialDir holds TestAdversarial's cases, one folder each; a folder
// whose name starts with "_" is not a case.
const adversarialDir = "testdata/adversarial"

// advToolsDir is the build context of advToolsImage: busybox with fake
// package managers (its README says what each fake does).
const (
	advToolsDir   = adversarialDir + "/_tools"
	advToolsImage = "dfopt-adv-tools:latest"
)

// advCase is one adversarial case: a Dockerfile written to catch dfopt
// changing what a build makes, in a folder that is its build context.
type advCase struct {
	name       string
	dir        string // the build context, with the Dockerfile and README
	src        []byte // the Dockerfile
	hazard     string // the README's first line: what the case probes
	expectFail bool   // "expect: fail": the original build fails on purpose
	// proposals are rules whose proposals change the build on purpose
	// ("proposal: RULE why"): with --propose, a difference is theirs.
	proposals []string
	keep      []string
	req       requirements
}

// base names what a case builds FROM, for the summary: busybox, busybox with
// the fake tools, or debian.
func (c *advCase) base() string {
	switch {
	case slices.Contains(c.req.images, debianBase):
		return "debian"
	case slices.Contains(c.req.images, advToolsImage):
		return "fakes"
	}
	return "busybox"
}

// loadAdvCases reads every case folder of dir, sorted by name. A case's
// README starts with one line that says what it probes; a line "expect: fail"
// says the original must fail to build, and a line "keep: PATH" takes PATH out
// of deliberateRemovals for this case (a later build reads it).
func loadAdvCases(dir string) ([]*advCase, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var cases []*advCase
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), "_") {
			continue
		}
		c, err := loadAdvCase(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("case %s: %w", e.Name(), err)
		}
		cases = append(cases, c)
	}
	return cases, nil
}

// loadAdvCase reads one case folder.
func loadAdvCase(dir string) (*advCase, error) {
	c := &advCase{name: filepath.Base(dir), dir: dir}
	var err error
	if c.src, err = os.ReadFile(filepath.Join(dir, "Dockerfile")); err != nil {
		return nil, err
	}
	readme, err := os.ReadFile(filepath.Join(dir, "README"))
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(readme))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case c.hazard == "":
			c.hazard = line
		case line == "expect: fail":
			c.expectFail = true
		case strings.HasPrefix(line, "keep: "):
			c.keep = append(c.keep, strings.TrimSpace(strings.TrimPrefix(line, "keep: ")))
		case strings.HasPrefix(line, "proposal: "):
			rule, _, _ := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "proposal: ")), " ")
			if rewrite.Lookup(rules.All(), rule) == nil {
				return nil, fmt.Errorf("README: %q: no rule %s", line, rule)
			}
			c.proposals = append(c.proposals, rule)
		case strings.HasPrefix(line, "expect:"):
			return nil, fmt.Errorf("README: %q: only \"expect: fail\" is known", line)
		}
	}
	if c.hazard == "" {
		return nil, fmt.Errorf("README: no first line saying what the case probes")
	}
	if c.req, err = requirementsOf(c.src); err != nil {
		return nil, fmt.Errorf("BuildKit's parser rejects the Dockerfile: %w", err)
	}
	return c, nil
}

// advVariant is one way TestAdversarial runs dfopt on a case.
type advVariant struct {
	name string
	opts func(*rewrite.BuildContext) rewrite.Options
}

// advVariants are dfopt with its default options, as the CLI runs it on a
// Dockerfile in its build context, and with every switch that makes dfopt
// bolder: --merge=all --propose --cache-mounts.
func advVariants() []advVariant {
	return []advVariant{
		{"default", func(ctx *rewrite.BuildContext) rewrite.Options {
			return rewrite.Options{Rules: rules.All(), Context: ctx}
		}},
		{"all-flags", func(ctx *rewrite.BuildContext) rewrite.Options {
			return rewrite.Options{Rules: rules.All(), Context: ctx, MergeAll: true, Propose: true, CacheMounts: true}
		}},
	}
}

// rewriteCase runs dfopt on a case as the CLI would on its Dockerfile: the
// case's folder opened as the build context (with its .dockerignore).
func rewriteCase(c *advCase, v advVariant) (*rewrite.Result, error) {
	dockerfile := filepath.Join(c.dir, "Dockerfile")
	ctx, err := rewrite.OpenContext(c.dir, dockerfile)
	if err != nil {
		return nil, err
	}
	opts := v.opts(ctx)
	opts.Path = filepath.ToSlash(dockerfile)
	return rewrite.Source(c.src, opts)
}

// appliedRules lists, once each, the rules whose edits dfopt applied.
// appliedProposals lists the rules whose proposals dfopt applied.
func appliedProposals(res *rewrite.Result) []string {
	var names []string
	for _, f := range res.Findings {
		if f.Applied && f.Kind == rewrite.Proposal && !slices.Contains(names, f.Rule) {
			names = append(names, f.Rule)
		}
	}
	return names
}

func appliedRules(res *rewrite.Result) []string {
	var names []string
	for _, f := range res.Findings {
		if f.Applied && !slices.Contains(names, f.Rule) {
			names = append(names, f.Rule)
		}
	}
	return names
}

// advOutcome is what one build of a case gave: an image, or the error.
type advOutcome struct {
	img *built
	err error
}

// advRun builds the Dockerfiles of one test run, counts the cache-mount
// prunes and their cost, and remembers the images to remove.
type advRun struct {
	// mu guards the counters, and mounts orders the builds of tests that
	// run side by side: a build with a cache mount, which prunes the
	// daemon's cache mounts first, runs alone (Lock), the others together
	// (RLock).
	mu, mounts sync.RWMutex
	e          *engine
	prunes     int
	pruneTime  time.Duration
	buildTime  time.Duration
	builds     int
	// images are the images built, removed when the whole test ends: two
	// builds side by side can make the same image (same content, same ID),
	// and a subtest that removed it at its end took it from the other.
	images []string
}

// newAdvRun starts a run of builds on e whose images go when t ends.
func newAdvRun(t *testing.T, e *engine) *advRun {
	r := &advRun{e: e}
	t.Cleanup(func() { e.removeImage(r.images...) })
	return r
}

// checkPrune checks on the daemon that pruneCacheMounts empties a cache
// mount: a probe writes into one, the prune runs, a second probe must find
// it empty. Where it does not, the test cannot keep one build's cache
// mounts from another's, and fails.
func (r *advRun) checkPrune(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	mount := "RUN --mount=type=cache,id=dfopt-adv-prune-probe,target=/probe "
	probes := []string{mount + "touch /probe/x\n", mount + "test ! -e /probe/x\n"}
	for i, text := range probes {
		file := filepath.Join(dir, fmt.Sprint(i, ".Dockerfile"))
		if err := os.WriteFile(file, []byte("FROM "+probeBase+"\n"+text), 0o644); err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			if err := r.pruneCacheMounts(t.Context()); err != nil {
				t.Fatalf("prune the cache mounts: %v", err)
			}
		}
		id, _, err := r.e.build(t.Context(), file, dir, "")
		switch {
		case err == nil:
			r.e.removeImage(id)
		case i == 0:
			t.Fatalf("the cache-mount probe does not build: %v", err)
		default:
			t.Fatalf("%s leaves a cache mount's files: %s", pruneCommand, lastLine(err.Error()))
		}
	}
	r.prunes, r.pruneTime = 0, 0
	t.Logf("between builds with cache mounts: %s", pruneCommand)
}

// pruneCommand is what pruneCacheMounts runs, for the log.
const pruneCommand = "buildctl prune --filter type==exec.cachemount"

// pruneCacheMounts removes every BuildKit cache mount of the daemon (see
// engine.pruneCacheMounts and checkPrune), so that what a build finds in
// its cache mounts never comes from an earlier build, of this case or
// another, or of another test on the same daemon: each build with a cache
// mount, original and rewritten alike, starts with them empty. Only a
// build with a cache mount can see one, so build prunes before those
// alone. Layers stay cached: a cached layer is what the same instruction
// on the same parent made, so it changes no result, and it spares the
// mirror repeated apt-get updates.
func (r *advRun) pruneCacheMounts(ctx context.Context) error {
	start := time.Now()
	err := r.e.pruneCacheMounts(ctx)
	r.mu.Lock()
	r.pruneTime += time.Since(start)
	r.prunes++
	r.mu.Unlock()
	return err
}

// build builds text as a case's Dockerfile in the case's folder and reads
// the image. The Dockerfile goes to a folder of its own, named Dockerfile
// with the case's Dockerfile.dockerignore beside it if there is one, so that
// the build context is the case's folder as it is (a COPY . copies the
// original Dockerfile in every variant alike).
func (r *advRun) build(t *testing.T, c *advCase, text []byte) advOutcome {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "Dockerfile")
	if err := os.WriteFile(file, text, 0o644); err != nil {
		t.Fatal(err)
	}
	if ignore, err := os.ReadFile(filepath.Join(c.dir, "Dockerfile.dockerignore")); err == nil {
		if err := os.WriteFile(file+".dockerignore", ignore, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := t.Context()
	if hasCacheMount(text) {
		r.mounts.Lock()
		defer r.mounts.Unlock()
		if err := r.pruneCacheMounts(ctx); err != nil {
			t.Fatalf("prune the cache mounts: %v", err)
		}
	} else {
		r.mounts.RLock()
		defer r.mounts.RUnlock()
	}
	start := time.Now()
	id, _, err := r.e.build(ctx, file, c.dir, "")
	r.mu.Lock()
	r.buildTime += time.Since(start)
	r.builds++
	r.mu.Unlock()
	if err != nil {
		return advOutcome{err: err}
	}
	r.mu.Lock()
	if !slices.Contains(r.images, id) {
		r.images = append(r.images, id)
	}
	r.mu.Unlock()
	img, err := r.e.read(id)
	if err != nil {
		t.Fatalf("read the image: %v", err)
	}
	return advOutcome{img: img}
}

// hasCacheMount says whether a Dockerfile may use a BuildKit cache mount:
// any "type=cache" in it, whatever the flag's spelling around it.
func hasCacheMount(text []byte) bool {
	return bytes.Contains(text, []byte("type=cache"))
}

// Results of comparing a variant's build with the original's.
const (
	resSame       = "same"
	resDeliberate = "same-with-deliberate-removals"
	resBothFail   = "same (both fail)"
	// Both fail, but not the same way: the last line the failing command
	// printed, or the exit code, differs, so the build stops elsewhere.
	resFailDiffers = "FAILS DIFFERENTLY"
	resByProposal  = "changed-by-proposal"
	resDiffers     = "DIFFERS"
	resSuccess     = "build-success-differs"
	resUnchanged   = "unchanged"
	resBroken      = "CASE BROKEN"
	resError       = "DFOPT ERROR"
	resSkipped     = "skipped"
)

// advRow is one line of the summary: a case, a variant, what came out.
type advRow struct {
	caseName, base, variant string
	changed                 string // "yes", "no" or "-"
	rules                   []string
	result                  string
	detail                  string   // one line for the table
	diffs                   []string // every difference, for the to-do list
	apart                   []string // deliberate removals
	stamps                  []string // build-time stamps set aside
	dfoptDiff               []byte   // dfopt's output as a unified diff
	hazard                  string
}

// failing says whether a row fails the test.
func (r advRow) failing() bool {
	switch r.result {
	case resDiffers, resSuccess, resFailDiffers, resBroken, resError:
		return true
	}
	return false
}

// compareOutcomes says how a variant's build compares with the original's:
// both fail (the same way, or FAILS DIFFERENTLY), one fails, or both build
// and their file systems and configs are compared with the deliberate
// removals and build stamps set apart.
func compareOutcomes(c *advCase, before, after advOutcome, row *advRow) {
	switch {
	case before.err != nil && after.err != nil:
		row.result = resBothFail
		row.detail = "after: " + lastLine(after.err.Error())
		bs, as := failureOf(before.err), failureOf(after.err)
		row.diffs = append(append([]string{"the original fails:"}, buildError(before.err)...),
			append([]string{"dfopt's output fails:"}, buildError(after.err)...)...)
		if !sameFailure(bs, as) {
			row.result = resFailDiffers
			row.detail = fmt.Sprintf("the original fails with %q, dfopt's output with %q", bs.String(), as.String())
		}
		return
	case before.err != nil:
		row.result, row.detail = resSuccess, "the original fails, dfopt's output builds"
		row.diffs = append([]string{"the original fails:"}, buildError(before.err)...)
		return
	case after.err != nil:
		row.result, row.detail = resSuccess, "dfopt's output fails: "+lastLine(after.err.Error())
		row.diffs = append([]string{"dfopt's output fails:"}, buildError(after.err)...)
		return
	}
	r := newRemovals(before.img.info.Config.Env, c.keep)
	b, a, apart := apartDeliberate(before.img.tree, after.img.tree, r)
	diffs, stamps := apartStamps(compareTrees(b, a))
	diffs = append(diffs, compareConfigs(before.img.info, after.img.info)...)
	row.apart, row.stamps, row.diffs = apart, stamps, diffs
	switch {
	case len(diffs) > 0:
		row.result = resDiffers
		row.detail = fmt.Sprintf("%d: %s", len(diffs), strings.Join(diffs[:min(len(diffs), 3)], " | "))
	case len(apart) > 0:
		row.result, row.detail = resDeliberate, summarizeApart(apart, r)
	default:
		row.result = resSame
	}
	if len(stamps) > 0 {
		row.detail = strings.TrimPrefix(row.detail+fmt.Sprintf("; %d build-time stamps set aside", len(stamps)), "; ")
	}
}

// failure is how a build failed, in words that a rewrite of the failing RUN
// does not change: the error messages the failing step printed (apt's "E:"
// lines, "npm ERR!", "not found", …; its last line where none reads as
// one), and buildctl's last line with what changes from one build to the
// next left out (volatileError): the RUN's command line in
// process "/bin/sh -c ..." did not complete successfully: exit code: 100
// goes, the exit code stays.
type failure struct {
	said []string // sorted: standard output and error interleave differently from one build to the next
	end  string
	out  string // the failing step's output, its lines joined by "\n"
}

func (f failure) String() string {
	return strings.Join(append(slices.Clone(f.said), f.end), " / ")
}

// sameFailure says whether two builds stop at the same command for the same
// reason: the same end, and the messages of one among the other's, since a
// merged RUN prints what the RUNs merged into it printed too. A build that
// now stops at another command, or with another error, fails otherwise.
func sameFailure(a, b failure) bool {
	return a.end == b.end && (saidIn(a.said, b) || saidIn(b.said, a))
}

// saidIn says whether every message of said is one f said too, or is in
// f's output with other output interleaved into it: a tool's standard
// error and output reach the log as they are written, and one build may
// read "E" + "Package curl is not available..." + ": Version ... was not
// found" where another read the message in one piece.
func saidIn(said []string, f failure) bool {
	for _, s := range said {
		if !slices.Contains(f.said, s) && !interleaved(s, f.out) {
			return false
		}
	}
	return true
}

// maxInterleaved is how much other output may come between the first and
// the last byte of a message that interleaved reads as one.
const maxInterleaved = 1024

// interleaved says whether out holds the bytes of s in order, over at most
// len(s)+maxInterleaved bytes: s written while other output was written
// too. The window keeps a short message from being found scattered over a
// long log.
func interleaved(s, out string) bool {
	if s == "" {
		return true
	}
	for i := 0; i < len(out); i++ {
		if out[i] != s[0] {
			continue
		}
		k, limit := 1, min(len(out), i+len(s)+maxInterleaved)
		for j := i + 1; j < limit && k < len(s); j++ {
			if out[j] == s[k] {
				k++
			}
		}
		if k == len(s) {
			return true
		}
	}
	return false
}

// failureOf reads a failed build's error. Only the failing step's output
// counts ("#7 ERROR: …" names it): an earlier step's output is there only
// when the engine did not take that step from its cache.
func failureOf(err error) failure {
	lines := strings.Split(err.Error(), "\n")
	step := ""
	for _, line := range lines {
		if m := failedStep.FindStringSubmatch(line); m != nil {
			step = m[1]
		}
	}
	var f failure
	last := ""
	for _, line := range lines {
		m := buildOutput.FindStringSubmatch(line)
		if m == nil || strings.TrimSpace(m[1]) == "" || step != "" && !strings.HasPrefix(line, "#"+step+" ") {
			continue
		}
		f.out += m[1] + "\n"
		for _, part := range splitMessages(m[1]) {
			last = part
			if errorMessage.MatchString(part) && !slices.Contains(f.said, part) {
				f.said = append(f.said, part)
			}
		}
	}
	if len(f.said) == 0 && last != "" {
		f.said = []string{last}
	}
	slices.Sort(f.said)
	f.end = lastLine(err.Error())
	for _, v := range volatileError {
		f.end = v.re.ReplaceAllString(f.end, v.with)
	}
	return f
}

// volatileError are the parts of BuildKit's last line that a rewrite
// changes, or that change from one build to the next, whatever the
// Dockerfile: the failing command line, which BuildKit quotes (%q), and
// the cache ref a COPY could not find its source in.
var volatileError = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`process ".*" did not complete`), "process did not complete"},
	{regexp.MustCompile(`checksum of ref [^ :]+::[^ :]+:`), "checksum of ref:"},
}

// splitMessages cuts a line of output where an error message starts in its
// middle: a tool's standard output without its newline yet, then its
// standard error ("Building dependency tree...E: Unable to locate package").
// A start counts after anything but a letter or digit.
func splitMessages(line string) []string {
	var cuts []int
	for _, start := range []string{"E: ", "W: ", "ERROR", "npm ERR!"} {
		for i := 0; ; {
			j := strings.Index(line[i:], start)
			if j < 0 {
				break
			}
			if at := i + j; at > 0 {
				if c := line[at-1]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
					cuts = append(cuts, at)
				}
			}
			i += j + len(start)
		}
	}
	slices.Sort(cuts)
	var out []string
	prev := 0
	for _, c := range append(slices.Compact(cuts), len(line)) {
		if part := strings.TrimSpace(line[prev:c]); part != "" {
			out = append(out, part)
		}
		prev = c
	}
	return out
}

// failedStep matches BuildKit's line for the step that failed.
var failedStep = regexp.MustCompile(`^#(\d+) ERROR:`)

// errorMessage matches a line of a command's output that says what went
// wrong, as opposed to progress, which may come out in another order or with
// other figures.
var errorMessage = regexp.MustCompile(`(?i)^(E|W): |error|err!|fatal|not found|no such|unable|cannot|can't|could not|unknown command|failed|denied|missing|abort`)

// buildOutput matches a line of a command's output in BuildKit's plain
// progress: "#7 0.091 ERROR: ...".
var buildOutput = regexp.MustCompile(`^#\d+ \d+\.\d+ (.*)$`)

// buildError keeps of a failed build's error what says why: the last lines
// the commands printed and docker's last line.
func buildError(err error) []string {
	var out []string
	for _, line := range strings.Split(err.Error(), "\n") {
		if m := buildOutput.FindStringSubmatch(line); m != nil {
			out = append(out, m[1])
		}
	}
	out = out[max(0, len(out)-6):]
	return append(out, lastLine(err.Error()))
}

// checkExpected says what is wrong with a case whose original build does not
// do what its README says ("" when it does): a case whose original fails
// by accident (the mirror, a typo) would prove nothing.
func checkExpected(c *advCase, o advOutcome) string {
	switch {
	case o.err != nil && !c.expectFail:
		return "the original does not build: " + lastLine(o.err.Error())
	case o.err == nil && c.expectFail:
		return "the original builds, but its README says \"expect: fail\""
	}
	return ""
}

// advOutput is dfopt's output of a case in one variant, or the error.
type advOutput struct {
	v   advVariant
	res *rewrite.Result
	err error
}

// buildUnchanged says whether TestAdversarial also builds the originals of
// cases that dfopt leaves unchanged (DFOPT_REALBUILD_ADV_ORIGINALS=1), to
// check that each does what its README says before dfopt starts to rewrite it.
func buildUnchanged() bool {
	return os.Getenv("DFOPT_REALBUILD_ADV_ORIGINALS") == "1"
}

// runCase rewrites a case in both variants and builds the original and each
// output that differs from it, appending one row per variant to rows as it
// goes (a skip ends the test at once). When dfopt changes neither variant
// nothing is built (unless buildUnchanged): there is nothing to compare, and
// the case is checked once dfopt starts to change it. An output equal to an
// earlier variant's takes that variant's result.
func runCase(t *testing.T, r *advRun, c *advCase, rows *[]advRow) {
	newRow := func(variant string) advRow {
		return advRow{caseName: c.name, base: c.base(), variant: variant, changed: "-", hazard: c.hazard}
	}
	var outs []advOutput
	changed := false
	for _, v := range advVariants() {
		res, err := rewriteCase(c, v)
		outs = append(outs, advOutput{v, res, err})
		changed = changed || err == nil && res.Changed(c.src)
	}
	var before advOutcome
	if changed || buildUnchanged() {
		before = r.build(t, c, c.src)
		if why, ok := frontendRejectsOutcome(before); ok {
			row := newRow("-")
			row.result, row.detail = resSkipped, "the engine's frontend rejects the input: "+why
			*rows = append(*rows, row)
			t.Skip(row.detail)
		}
		if msg := checkExpected(c, before); msg != "" {
			row := newRow("original")
			row.result, row.detail = resBroken, msg
			*rows = append(*rows, row)
			t.Errorf("case broken: %s", msg)
			return
		}
	}
	built := map[string]advRow{} // output -> the row of the variant that built it
	for _, o := range outs {
		row := newRow(o.v.name)
		switch {
		case o.err != nil:
			row.result, row.detail = resError, o.err.Error()
		case !o.res.Changed(c.src):
			row.changed, row.result = "no", resUnchanged
		default:
			row.changed, row.rules = "yes", appliedRules(o.res)
			row.dfoptDiff = rewrite.UnifiedDiff(filepath.ToSlash(filepath.Join(c.dir, "Dockerfile")), c.src, o.res.Output)
			if prev, seen := built[string(o.res.Output)]; seen {
				row = reuseRow(prev, row)
			} else {
				compareOutcomes(c, before, r.build(t, c, o.res.Output), &row)
				built[string(o.res.Output)] = row
			}
			// A proposal changes the build on purpose, and says so: where the
			// case names the rule whose proposal dfopt applied, the difference
			// is that proposal's, listed as such.
			if row.failing() && row.result != resBroken && row.result != resError {
				for _, rule := range appliedProposals(o.res) {
					if slices.Contains(c.proposals, rule) {
						row.result, row.detail = resByProposal, "changed by the "+rule+" proposal, as it says: "+row.detail
						break
					}
				}
			}
			if len(o.res.Files) > 0 {
				t.Logf("%s: dfopt would also write %d files beside the Dockerfile; not applied", o.v.name, len(o.res.Files))
			}
		}
		logRow(t, row)
		if row.failing() {
			t.Errorf("%s: %s: %s", o.v.name, row.result, row.detail)
		}
		*rows = append(*rows, row)
	}
}

// frontendRejectsOutcome says whether a build failed because the engine's
// Dockerfile frontend rejects the file (RUN --network on 20.10, say).
func frontendRejectsOutcome(o advOutcome) (string, bool) {
	if o.err == nil {
		return "", false
	}
	return frontendRejects(o.err)
}

// reuseRow gives a variant whose output equals an earlier variant's that
// variant's result, saying so.
func reuseRow(prev, row advRow) advRow {
	out := prev
	out.variant, out.rules, out.dfoptDiff = row.variant, row.rules, row.dfoptDiff
	out.detail = strings.TrimSuffix("output as "+prev.variant+"; "+prev.detail, "; ")
	return out
}

// logRow writes a variant's result, and for a failure everything the
// comparison saw, to the test log.
func logRow(t *testing.T, row advRow) {
	t.Helper()
	t.Logf("%s: dfopt changed it: %s (rules: %s); result: %s %s", row.variant, row.changed, strings.Join(row.rules, ","), row.result, row.detail)
	if len(row.apart) > 0 {
		t.Logf("%s: deliberate removals (allowed, listed):\n%s", row.variant, report(row.apart))
	}
	if len(row.stamps) > 0 {
		t.Logf("%s: build-time stamps set aside:\n%s", row.variant, report(row.stamps))
	}
	if row.result == resBothFail && len(row.diffs) > 0 {
		t.Logf("%s: both fail the same way:\n%s", row.variant, report(row.diffs))
	}
	if row.failing() && len(row.diffs) > 0 {
		t.Logf("%s: differences (original -> dfopt's output):\n%s\n%s", row.variant, report(row.diffs), row.dfoptDiff)
	}
}

// buildTools builds advToolsImage from advToolsDir, removed when t ends.
func buildTools(t *testing.T, e *engine) {
	t.Helper()
	if _, _, err := e.build(t.Context(), filepath.Join(advToolsDir, "Dockerfile"), advToolsDir, advToolsImage); err != nil {
		t.Fatalf("build %s: %v", advToolsImage, err)
	}
	t.Cleanup(func() { e.removeImage(advToolsImage) })
}

// advSkip says why a case cannot be built here, or "".
func advSkip(e *engine, c *advCase) string {
	if slices.Contains(c.req.images, debianBase) && os.Getenv("DFOPT_REALBUILD_DEBIAN") != "1" {
		return "builds on debian:bookworm: set DFOPT_REALBUILD_DEBIAN=1"
	}
	return c.req.whyNot(e)
}

// TestAdversarial builds every case of testdata/adversarial before and after
// dfopt, with its default options and with --merge=all --propose
// --cache-mounts, on BuildKit, and demands what dfopt promises: the same
// build success, the same files (type, mode, owner, content, link target),
// the same image configuration; only package-manager caches and indexes
// (deliberateRemovals) may be missing after dfopt, and they are listed. It
// ends with a summary table, also written to DFOPT_REALBUILD_REPORT, and a
// list of every difference with dfopt's diff: the cases are written to make
// dfopt fail, so each failure is a hazard dfopt's model misses.
func TestAdversarial(t *testing.T) {
	e := requireEngine(t)
	cases, err := loadAdvCases(adversarialDir)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	buildTools(t, e)
	r := newAdvRun(t, e)
	r.checkPrune(t)
	var rows []advRow
	for _, c := range cases {
		ran := false
		var caseRows []advRow
		t.Run(c.name, func(t *testing.T) {
			ran = true
			t.Logf("probes: %s", c.hazard)
			if why := advSkip(e, c); why != "" {
				caseRows = []advRow{{caseName: c.name, base: c.base(), variant: "-", changed: "-", result: resSkipped, detail: why, hazard: c.hazard}}
				t.Skip(why)
			}
			runCase(t, r, c, &caseRows)
		})
		if ran {
			rows = append(rows, caseRows...)
		}
	}
	table := advTable(rows, r, time.Since(start))
	t.Logf("summary:\n%s", table)
	appendReport(t, []string{table})
}

// advTable prints the summary: one line per case and variant, then the
// count of each result, the cost of the prunes, and every failing variant
// with its differences and dfopt's diff.
func advTable(rows []advRow, r *advRun, wall time.Duration) string {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "case\tbase\tvariant\tchanged\tresult\trules applied\tdetail")
	counts := map[string]int{}
	for _, row := range rows {
		counts[row.result]++
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", row.caseName, row.base, row.variant, row.changed, row.result,
			strings.Join(row.rules, ","), oneLine(row.detail, 160))
	}
	tw.Flush()
	cases := map[string]bool{}
	for _, row := range rows {
		cases[row.caseName] = true
	}
	fmt.Fprintf(&buf, "\n%d cases, %d rows in %s:", len(cases), len(rows), secs(wall))
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		fmt.Fprintf(&buf, " %s %d;", k, counts[k])
	}
	fmt.Fprintf(&buf, "\n%d builds took %s; %d cache-mount prunes (%s, before each build with a cache mount) took %s in all (%s each)\n",
		r.builds, secs(r.buildTime), r.prunes, pruneCommand, secs(r.pruneTime), perPrune(r))
	for _, row := range rows {
		if !row.failing() {
			continue
		}
		fmt.Fprintf(&buf, "\n=== %s [%s, %s] %s\nprobes: %s\nrules applied: %s\n", row.caseName, row.base, row.variant, row.result, row.hazard, strings.Join(row.rules, ","))
		if len(row.diffs) > 0 {
			fmt.Fprintf(&buf, "differences (original -> dfopt's output):\n%s\n", report(row.diffs[:min(len(row.diffs), 20)]))
		}
		buf.Write(row.dfoptDiff)
	}
	return buf.String()
}

func perPrune(r *advRun) string {
	if r.prunes == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fs", (r.pruneTime / time.Duration(r.prunes)).Seconds())
}

// oneLine cuts s to one line of at most n bytes for the table.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n-3] + "..."
	}
	return s
}

// minAdvCases is how many cases the suite must have at least: fewer means
// cases were lost (a bad glob, a folder renamed into _tools).
const minAdvCases = 70

// TestAdversarialCases checks the cases without an engine: each has a
// Dockerfile BuildKit parses and a README that says what it probes, dfopt
// runs on it in both variants without an error, and no case gives
// apt-no-install-recommends anything to change (every apt-get install has
// --no-install-recommends, so that which packages get installed is the same
// before and after). It logs what dfopt does to each case.
func TestAdversarialCases(t *testing.T) {
	cases, err := loadAdvCases(adversarialDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < minAdvCases {
		t.Errorf("%d cases in %s, want at least %d", len(cases), adversarialDir, minAdvCases)
	}
	for _, c := range cases {
		for _, v := range advVariants() {
			res, err := rewriteCase(c, v)
			if err != nil {
				t.Errorf("%s (%s): dfopt: %v", c.name, v.name, err)
				continue
			}
			applied := appliedRules(res)
			if slices.Contains(applied, rules.AptNoInstallRecommends.Name) {
				t.Errorf("%s (%s): apt-no-install-recommends changes it: give every apt-get install --no-install-recommends", c.name, v.name)
			}
			t.Logf("%-40s %-9s changed: %-5v rules: %s", c.name, v.name, res.Changed(c.src), strings.Join(applied, ","))
		}
	}
}
