//go:build unix

package main

import (
	"syscall"
	"time"
)

// cpuTime returns the processor time the process has used, user and
// system: on a shared machine it tells more of the work done than the wall
// clock, which counts the time other processes took.
func cpuTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
