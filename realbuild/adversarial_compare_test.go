package realbuild

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestFailureOf checks that a failure reads the same through a rewrite of
// the failing RUN and differently where the build stops for another reason.
func TestFailureOf(t *testing.T) {
	fail := func(out, cmd, code string) error {
		return fmt.Errorf("#4 [2/3] RUN apt-get install -y sudo\n#4 2.0 W: missing policy-rc.d\n#4 DONE 2.1s\n#5 [3/3] RUN %s\n#5 0.120 %s\n#5 ERROR: process \"/bin/sh -c %s\" did not complete successfully: exit code: %s\n------\nerror: failed to solve: process \"/bin/sh -c %s\" did not complete successfully: exit code: %s", cmd, out, cmd, code, cmd, code)
	}
	before := failureOf(fail("npm ERR! missing package-lock.json", "npm ci", "1"))
	if want := "npm ERR! missing package-lock.json / error: failed to solve: process did not complete successfully: exit code: 1"; before.String() != want {
		t.Errorf("failureOf = %q, want %q (the failing step's output only)", before, want)
	}
	if got := failureOf(fail("npm ERR! missing package-lock.json", "npm ci && npm cache clean --force", "1")); !sameFailure(got, before) {
		t.Errorf("the merged RUN fails otherwise: %q", got)
	}
	// BuildKit quotes the command line (%q): a quote in it is escaped.
	if got := failureOf(fail("npm ERR! missing package-lock.json", `bash -c \"npm ci\"`, "1")); !sameFailure(got, before) {
		t.Errorf("a command with quotes fails otherwise: %q", got)
	}
	// A COPY whose source is missing names a cache ref of its own build.
	copyFails := func(ref string) failure {
		return failureOf(fmt.Errorf("#9 [3/3] COPY --from=build /a /a\n#9 ERROR: failed to calculate checksum of ref %[1]s: \"/a\": not found\nerror: failed to solve: failed to compute cache key: failed to calculate checksum of ref %[1]s: \"/a\": not found", ref))
	}
	if a, b := copyFails("w1::r1"), copyFails("w1::r2"); !sameFailure(a, b) {
		t.Errorf("the same missing COPY source reads as two: %q, %q", a, b)
	}
	// A merged RUN prints what the RUN merged into it printed too.
	merged := fmt.Errorf("#5 [2/2] RUN apt-get install -y sudo && npm ci\n#5 2.0 W: missing policy-rc.d\n#5 3.0 npm ERR! missing package-lock.json\n#5 ERROR: process \"/bin/sh -c x\" did not complete successfully: exit code: 1\nerror: failed to solve: process \"/bin/sh -c x\" did not complete successfully: exit code: 1")
	if got := failureOf(merged); !sameFailure(before, got) || !sameFailure(got, before) {
		t.Errorf("the merged RUN fails otherwise: %q", got)
	}
	// apt's messages on standard output and error, in another order, with
	// other figures in its progress: the same failure.
	apt := func(lines ...string) error {
		var b strings.Builder
		for _, l := range lines {
			b.WriteString("#6 1.5 " + l + "\n")
		}
		return fmt.Errorf("%s#6 ERROR: process \"/bin/sh -c apt-get install -y x\" did not complete successfully: exit code: 100\nerror: failed to solve: process \"/bin/sh -c apt-get install -y x\" did not complete successfully: exit code: 100", b.String())
	}
	a1 := failureOf(apt("Fetched 1 MB in 1s (1,024 kB/s)", "is only available from another source", "E: Package 'x' has no installation candidate"))
	a2 := failureOf(apt("E: Package 'x' has no installation candidate", "Fetched 1 MB in 2s (512 kB/s)", "is only available from another source"))
	if !sameFailure(a1, a2) {
		t.Errorf("the same apt failure reads as two: %q, %q", a1, a2)
	}
	for _, other := range []error{
		fail("npm ERR! ENOTCACHED", "npm ci", "1"),
		fail("npm ERR! missing package-lock.json", "npm ci", "2"),
	} {
		if got := failureOf(other); sameFailure(got, before) {
			t.Errorf("%v: reads as the same failure", other)
		}
	}
	var row advRow
	compareOutcomes(&advCase{}, advOutcome{err: fail("a", "x", "1")}, advOutcome{err: fail("b", "x", "1")}, &row)
	if row.result != resFailDiffers || !row.failing() {
		t.Errorf("two failures for different reasons: %s", row.result)
	}
	compareOutcomes(&advCase{}, advOutcome{err: fail("a", "x", "1")}, advOutcome{err: fail("a", "x && y", "1")}, &row)
	if row.result != resBothFail || row.failing() {
		t.Errorf("the same failure: %s", row.result)
	}
}

// TestSplitMessages checks that an error message glued to the end of other
// output reads as its own line, whatever the interleaving.
func TestSplitMessages(t *testing.T) {
	for in, want := range map[string][]string{
		"Building dependency tree...E: Unable to locate package curl": {"Building dependency tree...", "E: Unable to locate package curl"},
		"E: Unable to locate package curl":                            {"E: Unable to locate package curl"},
		"NOTE: nothing":                                               {"NOTE: nothing"},
		"done.npm ERR! a ERROR b":                                     {"done.", "npm ERR! a", "ERROR b"},
		"  ":                                                          nil,
	} {
		if got := splitMessages(in); !slices.Equal(got, want) {
			t.Errorf("splitMessages(%q) = %q, want %q", in, got, want)
		}
	}
	glued := failureOf(fmt.Errorf("#6 1.0 Reading package lists...\n#6 1.1 Building dependency tree...E: Unable to locate package curl\n#6 ERROR: process \"/bin/sh -c x\" did not complete successfully: exit code: 100\nerror: failed to solve: process \"/bin/sh -c x\" did not complete successfully: exit code: 100"))
	apart := failureOf(fmt.Errorf("#7 1.0 Reading package lists...\n#7 1.1 Building dependency tree...\n#7 1.1 E: Unable to locate package curl\n#7 ERROR: process \"/bin/sh -c y\" did not complete successfully: exit code: 100\nerror: failed to solve: process \"/bin/sh -c y\" did not complete successfully: exit code: 100"))
	if !sameFailure(glued, apart) {
		t.Errorf("the same failure, glued and apart, reads as two: %q, %q", glued, apart)
	}
}

// TestInterleavedFailure checks that one failure reads as the same when
// apt's error came out in pieces, its standard output written between
// them (as a real build of volatile-copy-later's fixture did), and that a
// message the other build did not print still tells two failures apart.
func TestInterleavedFailure(t *testing.T) {
	const end = "error: failed to solve: process \"/bin/sh -c x\" did not complete successfully: exit code: 100"
	whole := failureOf(fmt.Errorf("#9 1.0 Building dependency tree...\n#9 1.1 E: Version '7.88.1-10' for 'curl' was not found\n#9 1.1 Package curl is not available, but is referred to by another package.\n#9 1.1 This may mean that the package is missing, has been obsoleted, or\n#9 ERROR: process \"/bin/sh -c x\" did not complete successfully: exit code: 100\n" + end))
	pieces := failureOf(fmt.Errorf("#9 1.0 Building dependency tree...\n#9 1.1 EPackage curl is not available, but is referred to by another package.\n#9 1.1 This may mean that the package is missing, has been obsoleted, or\n#9 1.1 : Version '7.88.1-10' for 'curl' was not found\n#9 ERROR: process \"/bin/sh -c y\" did not complete successfully: exit code: 100\n" + end))
	if !sameFailure(whole, pieces) || !sameFailure(pieces, whole) {
		t.Errorf("one failure, its message whole and in pieces, reads as two: %q, %q", whole, pieces)
	}
	other := failureOf(fmt.Errorf("#9 1.0 Building dependency tree...\n#9 1.1 E: Unable to locate package curl\n#9 ERROR: process \"/bin/sh -c y\" did not complete successfully: exit code: 100\n" + end))
	if sameFailure(whole, other) || sameFailure(other, whole) {
		t.Errorf("two failures with other messages read as one: %q, %q", whole, other)
	}
	if interleaved("E: Version", "E"+strings.Repeat(".", 2000)+": Version") {
		t.Error("a message scattered over a long log reads as written")
	}
}
