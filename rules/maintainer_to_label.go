package rules

import (
	"github.com/dfopt/dfopt/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// MaintainerToLabel replaces the deprecated MAINTAINER with the OCI authors label.
var MaintainerToLabel = &rewrite.Rule{
	Name:     "maintainer-to-label",
	Title:    "Replace deprecated MAINTAINER with the org.opencontainers.image.authors label",
	Kind:     rewrite.Safe,
	Hadolint: []string{"DL4000"},
	Doc: `MAINTAINER has been deprecated since Docker 1.13. The OCI label
org.opencontainers.image.authors carries the same information where registries
and tools look for it. The value is quoted so that LABEL reads it back exactly,
$ and quotes included.

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
			text := p.Doc.Keyword(in, "LABEL") + " org.opencontainers.image.authors=" + p.Doc.Quote(m.Maintainer)
			p.Report(rewrite.Finding{
				Line:    in.StartLine,
				Message: "MAINTAINER is deprecated: use LABEL org.opencontainers.image.authors",
				Edits:   []rewrite.Edit{p.Doc.ReplaceInstruction(in, text)},
			})
		}
	},
}
