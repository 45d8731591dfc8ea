package rules

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
	"mvdan.cc/sh/v3/syntax"
)

// through is where copy-manifests-first found an install that a RUN runs
// from a file of the project: a recipe of its Makefile (make build) or a
// script (./build.sh).
type through struct {
	outer  *runmodel.Cmd    // the RUN's command that runs the file
	script *runmodel.Script // what it runs
	file   string           // the file, as the build context names it
	may    string           // why the file may not be what the context holds ("" when nothing changes it)
}

// where names the file's line an install is on: "Makefile line 12".
func (t *through) where(c *runmodel.Cmd) string {
	return fmt.Sprintf("%s line %d", t.file, t.script.Line(c))
}

// what names the RUN's command: make with its goals, or the script.
func (t *through) what() string {
	out := []string{t.outer.Prog.Text}
	for i := range t.outer.Args {
		v := t.outer.Arg(i)
		if v == "" || strings.HasPrefix(v, "-") || strings.Contains(v, "=") || len(out) == 3 {
			continue
		}
		out = append(out, v)
	}
	return strings.Join(out, " ")
}

// installThrough finds a dependency install that a command of the RUN runs
// from a Makefile or script the whole-project COPY brought (make build
// whose recipe runs go build, ./build.sh that runs npm install): the files
// are read as the build context holds them. into lists folders that steps
// between the COPY and the RUN write into (COPY --from=web dist
// ./public/dist): what lies there is not the context's. found is false when
// there is none; ok is false when there is one dfopt cannot place (its
// folder is unknown), which stops the search.
func installThrough(m *runmodel.Model, ctx *rewrite.BuildContext, in *rewrite.Instruction, wp *wholeProject, into []string) (inst install, found, ok bool) {
	r := m.Run(in)
	if r == nil || r.Onbuild || ctx == nil {
		return install{}, false, true
	}
	read := func(abs string) ([]byte, bool, bool) {
		rel, under := strings.CutPrefix(abs, strings.TrimSuffix(wp.dest, "/")+"/")
		if !under || wp.star && strings.Contains(rel, "/") {
			return nil, false, false // not from the COPY, or COPY * took its folder apart
		}
		for _, d := range into {
			if covers(d, abs) {
				return nil, false, false
			}
		}
		name := path.Join(wp.srcDir, rel)
		if !ctx.Sent(name) {
			return nil, false, true
		}
		full := filepath.Join(ctx.Dir, filepath.FromSlash(name))
		if fi, err := os.Lstat(full); err != nil || !fi.Mode().IsRegular() {
			return nil, false, false // a folder, a link: not read
		}
		data, err := os.ReadFile(full)
		return data, err == nil, err == nil
	}
	touches := m.Touches(r)
	for _, c := range r.Cmds {
		s, read := m.Through(m.State(in), c, read)
		if !read {
			continue
		}
		t := &through{outer: c, script: s, file: strings.TrimPrefix(path.Join(wp.srcDir, strings.TrimPrefix(s.File, strings.TrimSuffix(wp.dest, "/")+"/")), "/")}
		for _, tc := range touches.Places {
			if !covers(tc.Path, s.File) || tc.Cmd != nil && !runmodel.Before(tc.Cmd, c) {
				continue
			}
			if !tc.May {
				return install{}, false, false // the RUN changes the file before it runs it
			}
			t.may = tc.Why
		}
		for _, sc := range s.Cmds {
			inst, found := detectInstall(sc)
			if !found {
				continue
			}
			inst.cwd = throughDir(s, sc)
			inst.via = t
			return inst, true, inst.cwd != ""
		}
	}
	return install{}, false, true
}

// throughDir is the folder an install of a script works in, as installDir.
func throughDir(s *runmodel.Script, c *runmodel.Cmd) string {
	cwd := s.Cwd(c)
	dir, set, ok := runmodel.ManagerOf(c).Read(c).Dir()
	switch {
	case cwd == "":
		return ""
	case !set:
		return cwd
	case !ok:
		return ""
	}
	return path.Join(cwd, dir)
}

// covers tells whether a place (a path and all below it) holds file.
func covers(place, file string) bool {
	return place == "/" || place == file || strings.HasPrefix(file, strings.TrimSuffix(place, "/")+"/")
}

// throughAlone says why a dependency-only step, a RUN of its own before the
// COPY, would not run as the install does inside the file ("" when it
// would): the script sets variables before it, or the install may not run
// (its target may be up to date, a condition), or may fail without failing
// the build.
// itself says the step runs the install as the file writes it, so the
// variables set for it alone count too (where go mod download keeps none
// of go build's words).
func throughAlone(inst install, itself bool) string {
	t, c := inst.via, inst.call
	if set := t.script.SetBefore(c); len(set) > 0 {
		return fmt.Sprintf("%s sets %s before %s, which the step before the COPY would run without", t.file, strings.Join(set, ", "), commandOf(c))
	}
	if itself && len(c.Assigns) > 0 {
		return fmt.Sprintf("%s runs %s with variables of its own, which the step before the COPY would run without", t.where(c), commandOf(c))
	}
	switch {
	case c.Cond:
		return fmt.Sprintf("%s runs %s only on a condition (a target that may be up to date, an if), where the step before the COPY would always run it", t.where(c), commandOf(c))
	case c.FailOK:
		return fmt.Sprintf("%s may fail there without failing the build, where the step before the COPY would stop it", commandOf(c))
	}
	return ""
}

// quotedWords writes a command's literal words as a shell reads them back.
func quotedWords(c *runmodel.Cmd) string {
	out := make([]string, 0, len(c.Args)+1)
	for _, w := range words(c) {
		if q, err := syntax.Quote(w, syntax.LangPOSIX); err == nil {
			w = q
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}

// throughKeepsManifests reads what the file runs before the install against
// the manifests (context paths) the step before the COPY would install
// from: ok is false when a command surely changes one (sed -i ...
// requirements.txt), and the install would then read other manifests
// than the step; why says what may change one ("" when nothing does).
func throughKeepsManifests(m *runmodel.Model, run *rewrite.Instruction, inst install, wp *wholeProject, files []string) (why string, ok bool) {
	abs := make([]string, 0, len(files))
	for _, f := range files {
		abs = append(abs, path.Join(wp.dest, strings.TrimPrefix(strings.TrimPrefix(f, wp.srcDir), "/")))
	}
	var places []runmodel.Touch
	for _, t := range m.TouchesBefore(m.Run(run), inst.via.script, inst.call).Places {
		if t.Cmd != nil && t.Cmd.Is("cd", "pushd", "popd") && len(t.Cmd.Redirs) == 0 {
			continue // it goes to a folder, and changes nothing
		}
		places = append(places, t)
	}
	return mayTouch(places, func(p string) bool {
		for _, f := range abs {
			if covers(p, f) || covers(f, p) {
				return true
			}
		}
		return false
	})
}
