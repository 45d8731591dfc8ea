package rewrite

// Options controls one run of Source.
type Options struct {
	// Path names the input in findings and errors ("<stdin>" for standard input).
	Path string
	// Rules are the rules to run, in pipeline order (usually rules.All filtered by Select).
	Rules []*Rule
	// Propose applies the edits of Proposal rules too.
	Propose bool
	// Format prints every instruction canonically (--fmt), keeping its meaning.
	Format bool
	// MergeAll lets rules that keep builder stages apart treat them like shipping stages.
	MergeAll bool
	// CacheMounts makes the package-manager rules give installing RUNs BuildKit
	// cache mounts instead of deleting the caches.
	CacheMounts bool
	// Context is the build context, when there is one (--context, or the
	// Dockerfile's folder); rules that need it report proposals without it.
	Context *BuildContext
}

// Result is what Source made of one input.
type Result struct {
	Output   []byte
	Findings []Finding // lines refer to the input
}

// Changed reports whether the output differs from the input.
func (r *Result) Changed(src []byte) bool { return string(r.Output) != string(src) }
