package report

import (
	"fmt"
	"io"
	"strings"
)

// githubWriter writes workflow commands that GitHub Actions turns into
// annotations on the lines of a pull request:
//
//	::warning file=PATH,line=N,endLine=M,title=TITLE::MESSAGE
//
// The runner reads them from standard output, among any other lines.
type githubWriter struct {
	w    io.Writer
	tool Tool
}

// githubLevels are the commands for each Level.
var githubLevels = map[string]string{"error": "error", "warning": "warning", "note": "notice"}

func (g *githubWriter) Write(f File) error {
	for _, fd := range f.Findings {
		title := fmt.Sprintf("dfopt %s (%s)", fd.Rule, fd.Kind)
		_, err := fmt.Fprintf(g.w, "::%s file=%s,line=%d,endLine=%d,title=%s::%s\n",
			githubLevels[Level(fd)], githubProperty(relPath(f.Path, g.tool.WorkDir)),
			fd.Line, max(fd.Line, fd.EndLine), githubProperty(title), githubData(Message(fd)))
		if err != nil {
			return err
		}
	}
	return nil
}

func (g *githubWriter) Close() error { return nil }

// githubData escapes a command's message as the runner unescapes it.
var githubData = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace

// githubProperty escapes a property value, which also ends at ":" and ",".
var githubProperty = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace
