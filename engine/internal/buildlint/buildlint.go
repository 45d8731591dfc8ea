// Package buildlint runs BuildKit's own Dockerfile checks (the rules of its
// frontend/dockerfile/linter package, as `docker build --check` runs them)
// on a Dockerfile without an engine or a registry. Its tests use it to prove
// that what dfopt writes gets no warning its input did not have (see
// outputs_test.go). It is in the engine module, as dfopt verify is: BuildKit's
// converter brings gRPC, OpenTelemetry and containerd, which neither dfopt
// nor the build of dfopt's module needs.
package buildlint

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Warning is one warning of BuildKit's linter.
type Warning struct {
	Rule    string // BuildKit's rule name, e.g. FromAsCasing
	Line    int    // first line it names, 0 when none
	Message string
}

func (w Warning) String() string { return fmt.Sprintf("%d: %s: %s", w.Line, w.Rule, w.Message) }

// Result is what BuildKit's checks make of one Dockerfile.
type Result struct {
	Warnings []Warning
	// Err is the error that stopped BuildKit's conversion of the file to a
	// build, if any; the checks of the steps after it did not run.
	Err error
}

// Check runs every check BuildKit runs on a build of src, for all its
// stages, the experimental ones included. Base images are not looked up: each
// stands for an empty Linux image of the build's platform, so that the checks
// that read a base image's configuration (its variables, its platform) see
// the same thing in a Dockerfile and in dfopt's rewrite of it.
func Check(src []byte) Result {
	var res Result
	caps := pb.Caps.CapSet(pb.Caps.All()) // a daemon that has every feature
	opt := dockerfile2llb.ConvertOpt{
		LLBCaps:      &caps,
		MetaResolver: emptyImages{},
		AllStages:    true,
		Warn: func(rule, _, _, msg string, loc []parser.Range) {
			w := Warning{Rule: rule, Message: msg}
			if len(loc) > 0 {
				w.Line = loc[0].Start.Line
			}
			res.Warnings = append(res.Warnings, w)
		},
	}
	src, shift := withExperimentalChecks(src)
	_, res.Err = dockerfile2llb.Dockerfile2LLB(context.Background(), src, opt)
	for i := range res.Warnings {
		res.Warnings[i].Line = max(0, res.Warnings[i].Line-shift)
	}
	return res
}

// Counts returns how many warnings each rule gave.
func (r Result) Counts() map[string]int {
	n := map[string]int{}
	for _, w := range r.Warnings {
		n[w.Rule]++
	}
	return n
}

// New returns the warnings of after that before did not have, counted per
// rule: for each rule that warns more often in after, its warnings in after.
func New(before, after Result) []Warning {
	had, has := before.Counts(), after.Counts()
	var out []Warning
	for _, rule := range slices.Sorted(maps.Keys(has)) {
		if has[rule] <= had[rule] {
			continue
		}
		for _, w := range after.Warnings {
			if w.Rule == rule {
				out = append(out, w)
			}
		}
	}
	return out
}

// withExperimentalChecks switches BuildKit's experimental checks on too, with
// a `# check=experimental=all` directive put first, and tells by how many
// lines that moved the file. A file with a check directive of its own keeps
// it, as BuildKit would read it.
func withExperimentalChecks(src []byte) ([]byte, int) {
	if _, _, _, ok := parser.ParseDirective("check", src); ok {
		return src, 0
	}
	const bom = "\ufeff"
	rest, hadBOM := bytes.CutPrefix(src, []byte(bom))
	out := []byte("# check=experimental=all\n")
	if hadBOM {
		out = append([]byte(bom), out...)
	}
	return append(out, rest...), 1
}

// emptyImages resolves every image reference to an empty Linux image of the
// platform asked for: one layer, no variables, no command.
type emptyImages struct{}

func (emptyImages) ResolveImageConfig(_ context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	p := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	if opt.ImageOpt != nil && opt.ImageOpt.Platform != nil {
		p = *opt.ImageOpt.Platform
	}
	img := ocispecs.Image{
		Platform: p,
		RootFS:   ocispecs.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromString(strings.ToLower(ref))}},
	}
	dt, err := json.Marshal(img)
	return ref, "", dt, err
}

// Added checks out, dfopt's rewrite of in, against in: it returns the
// warnings of out beyond those of in (see New), and the error of out when
// BuildKit took in without one.
func Added(in, out []byte) []string {
	before, after := Check(in), Check(out)
	var msgs []string
	if before.Err == nil && after.Err != nil {
		msgs = append(msgs, "BuildKit rejects the output: "+after.Err.Error())
	}
	for _, w := range New(before, after) {
		msgs = append(msgs, w.String())
	}
	return msgs
}

// Casing returns the warnings of the casing checks that --fmt answers:
// FromAsCasing and ConsistentInstructionCasing.
func (r Result) Casing() []Warning {
	var out []Warning
	for _, w := range r.Warnings {
		if w.Rule == "FromAsCasing" || w.Rule == "ConsistentInstructionCasing" {
			out = append(out, w)
		}
	}
	return out
}
