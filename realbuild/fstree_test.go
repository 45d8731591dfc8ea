package realbuild

import "github.com/dfopt/dfopt/internal/imagefs"

// The comparison itself lives in internal/imagefs, shared with dfopt verify;
// these are its names in this package's tests.
type (
	fsEntry     = imagefs.Entry
	fsTree      = imagefs.Tree
	imageConfig = imagefs.Config
	removals    = imagefs.Removals
)

var (
	readTree        = imagefs.ReadTar
	compareTrees    = imagefs.Compare
	treeSummary     = imagefs.Summary
	newRemovals     = imagefs.NewRemovals
	apartDeliberate = imagefs.Apart
	apartStamps     = imagefs.ApartStamps
	summarizeApart  = imagefs.SummarizeApart
	apartContentOf  = imagefs.ApartContentOf
)

// imageInfo is the part of docker image inspect the tests read.
type imageInfo struct {
	ID     string `json:"Id"`
	Size   int64
	Author string
	Config imageConfig
	RootFS struct {
		Layers []string
	}
}

// compareConfigs lists the differences of two images' configurations (see
// imagefs.CompareConfigs).
func compareConfigs(before, after imageInfo) []string {
	return imagefs.CompareConfigs(imagefs.Image{Author: before.Author, Config: before.Config}, imagefs.Image{Author: after.Author, Config: after.Config})
}
