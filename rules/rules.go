// Package rules holds dfopt's rewrite rules, one file per rule, and the ordered
// list that is the pipeline.
package rules

import "github.com/dfopt/dfopt/rewrite"

// All returns every rule in pipeline order. The order matters: a rule may rely
// on the rewrites of the rules before it.
func All() []*rewrite.Rule {
	return []*rewrite.Rule{
		AddToCopy,
		MergeRuns,
		MultiStage,
		AptHygiene,
		AptNoInstallRecommends,
		ApkNoCache,
		RPMClean,
		PipNoCache,
		NodeCache,
		GoClean,
		JVMCache,
		Dockerignore,
		DataInImage,
		CopyManifestsFirst,
		VolatileCopyLater,
		CopyThenRemove,
		BuildToolsShipped,
		CopyChown,
		SlimBase,
		MaintainerToLabel,
	}
}
