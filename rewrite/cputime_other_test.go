//go:build !unix

package rewrite_test

import "time"

// cpuTime is not known here.
func cpuTime() (time.Duration, bool) { return 0, false }
