package runmodel

import "strings"

// Command reads a command line that runs in a container of the image
// rather than in the build (CMD, ENTRYPOINT, HEALTHCHECK CMD): the
// exec-form words exactly, or, with shell, the program text the SHELL
// runs (posix says that shell reads sh syntax). A rule asking what an image
// needs at run time reads it as it reads a RUN; the Run has no instruction
// and cannot be edited.
func Command(words []string, shell, posix bool) *Run {
	r := &Run{}
	switch {
	case len(words) == 0:
	case !shell:
		w := &walker{funcs: map[string]bool{}, known: true}
		w.resolve(&Cmd{}, literalWords(words), -1, placement{})
		r.Cmds, r.Assigns = w.cmds, w.assigns
	case !posix:
		r.whole("the SHELL is not a POSIX shell")
	default:
		f, err := parseText(strings.Join(words, " "))
		if err != nil {
			r.whole("a program the model cannot parse")
			return r
		}
		r.Cmds, r.Assigns = readProgram(f, false, false)
	}
	return r
}
