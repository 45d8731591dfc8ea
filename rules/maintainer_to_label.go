package rules

import (
	"github.com/dfopt/dfopt/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// MaintainerToLabel replaces the deprecated MAINTAINER with the OCI authors label.
var MaintainerToLabel = &rewrite.Rule{
	Name:     "maintainer-to-label",
	Title:    "Replace deprecated MAINTAINER with the org.opencontainers.image.authors label (proposal: changes the image's config)",
	Kind:     rewrite.Proposal,
	Hadolint: []string{"DL4000"},
	Doc: `MAINTAINER has been deprecated since Docker 1.13. The OCI label
org.opencontainers.image.authors carries the same information where registries
and tools look for it. The value is quoted so that LABEL reads it back exactly,
$ and quotes included.

It is a proposal (reported always, applied with --propose): it changes the
image's config, whose Author field (docker inspect) MAINTAINER sets and the
label leaves empty, and the label replaces one of that name the base image
may set. Where an earlier LABEL of the stage (or of a stage it is built FROM)
already sets org.opencontainers.image.authors, the MAINTAINER is only
reported: the label would overwrite that value.

Bad:

    MAINTAINER Jane Doe <jane@example.com>

Good:

    LABEL org.opencontainers.image.authors="Jane Doe <jane@example.com>"
`,
	Run: func(p *rewrite.Pass) {
		for _, in := range p.Doc.Instructions {
			m, ok := in.Command.(*instructions.MaintainerCommand)
			if !ok {
				continue
			}
			if authorsLabelBefore(p.Doc, in) {
				p.Report(rewrite.Finding{
					Line:    in.StartLine,
					Message: "MAINTAINER is deprecated; an earlier LABEL sets org.opencontainers.image.authors already, which a LABEL here would overwrite: drop the MAINTAINER or merge the two by hand",
				})
				continue
			}
			text := p.Doc.Keyword(in, "LABEL") + " " + authorsLabel + "=" + p.Doc.Quote(m.Maintainer)
			p.Report(rewrite.Finding{
				Line:    in.StartLine,
				Message: "MAINTAINER is deprecated: use LABEL org.opencontainers.image.authors (proposal: the image's Author field goes, and the label replaces one the base image may set)",
				Edits:   []rewrite.Edit{p.Doc.ReplaceInstruction(in, text)},
			})
		}
	},
}

const authorsLabel = "org.opencontainers.image.authors"

// authorsLabelBefore tells whether a LABEL before in, in its stage or a
// stage it is built FROM, sets the authors label.
func authorsLabelBefore(d *rewrite.Document, in *rewrite.Instruction) bool {
	if in.Stage == nil {
		return false
	}
	for _, x := range instructionsBefore(d, in) {
		if l, ok := x.Command.(*instructions.LabelCommand); ok {
			for _, kv := range l.Labels {
				if kv.Key == authorsLabel {
					return true
				}
			}
		}
	}
	return false
}
