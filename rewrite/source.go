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
	// MergeSmall lets merge-runs also merge small RUNs whose merge saves no
	// bytes, only a layer (--merge=small).
	MergeSmall bool
	// MergeAll lets rules that keep builder stages apart treat them like
	// shipping stages, and implies MergeSmall (--merge=all).
	MergeAll bool
	// CacheMounts makes the package-manager rules give installing RUNs BuildKit
	// cache mounts instead of deleting the caches.
	CacheMounts bool
	// Context is the build context, when there is one (--context, or the
	// Dockerfile's folder); rules that need it report proposals without it.
	Context *BuildContext
	// WriteDockerignore lets the dockerignore rule extend the context's
	// ignore file (or create a .dockerignore); the change comes back in
	// Result.Files.
	WriteDockerignore bool
	// LargeFile is the size in bytes over which a file copied into the
	// image is reported as large (0: the default, 10 MiB).
	LargeFile int64
	// Only, when set, limits the findings whose edits are applied to those
	// it accepts (their Line is the input's); the others are still
	// reported. An editor's quick fix for one finding uses it, so that the
	// fix changes that place and not every place the rule would.
	Only func(Finding) bool
}

// Result is what Source made of one input.
type Result struct {
	Output   []byte
	Findings []Finding // lines refer to the input
	// Files are the changes to files other than the Dockerfile that applied
	// findings make (a .dockerignore, say), sorted by path. Source writes
	// nothing; the caller does, as it does with Output.
	Files []FileChange
	// Suppressed are the findings that ignore comments switched off, with
	// the reason each comment gives, sorted by line.
	Suppressed []Suppression
}

// Changed reports whether the output differs from the input.
func (r *Result) Changed(src []byte) bool { return string(r.Output) != string(src) }
