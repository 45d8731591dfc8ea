package rewrite

import "strings"

// Parent returns the earlier stage this stage is built FROM, or nil when it
// starts from an image.
func (d *Document) Parent(s *Stage) *Stage {
	for _, prev := range d.Stages[:s.Index] {
		if prev.Name != "" && strings.EqualFold(prev.Name, s.Base) {
			return prev
		}
	}
	return nil
}

type shippingKey struct{}

// Shipping tells which stages' files reach the output image: the last stage
// and the stages it is built FROM, one after the other. The others are builder
// stages whose layers never ship (they feed COPY --from, or a --target build).
// The map is worked out once per document and shared by every caller, which
// must not change it.
func (d *Document) Shipping() map[*Stage]bool {
	return d.Fact(shippingKey{}, func() any { return d.shipping() }).(map[*Stage]bool)
}

func (d *Document) shipping() map[*Stage]bool {
	ship := map[*Stage]bool{}
	if len(d.Stages) == 0 {
		return ship
	}
	for s := d.Stages[len(d.Stages)-1]; s != nil && !ship[s]; s = d.Parent(s) {
		ship[s] = true
	}
	return ship
}

// Descendants returns the stages built FROM s, directly or through others.
func (d *Document) Descendants(s *Stage) []*Stage {
	var out []*Stage
	in := map[*Stage]bool{s: true}
	for _, t := range d.Stages[s.Index+1:] {
		if p := d.Parent(t); p != nil && in[p] {
			in[t] = true
			out = append(out, t)
		}
	}
	return out
}

// SrcOffset maps an offset in the instruction's Line to the source.
// An offset at the end of a piece of the line maps to just after that piece.
func (in *Instruction) SrcOffset(off int) int {
	for i, s := range in.seg {
		if off < s.log+s.n || i == len(in.seg)-1 {
			return s.src + (off - s.log)
		}
	}
	return in.Start
}

// SrcEnd maps the end of a range in the instruction's Line (exclusive) to the
// source, so that a range never swallows the continuation that follows it.
func (in *Instruction) SrcEnd(off int) int {
	if off == 0 {
		return in.SrcOffset(0)
	}
	return in.SrcOffset(off-1) + 1
}
