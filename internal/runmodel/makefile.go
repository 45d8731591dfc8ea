package runmodel

import (
	"regexp"
	"strings"
	"sync"
)

// makefile is what dfopt reads of a GNU Makefile: its explicit rules, their
// recipe lines, and the variables set to literal text.
type makefile struct {
	rules     map[string]*makeRule
	first     string // the default goal: the first target that is not special or a pattern
	phony     map[string]bool
	vars      map[string]string // variables set once to text without references
	unknown   map[string]bool   // variables set otherwise (?=, +=, a reference, a condition)
	override  map[string]bool   // variables set with override: the command line does not change them
	ignoreAll bool              // .IGNORE with no prerequisites: errors are ignored
	posix     bool              // .POSIX: recipe lines run with sh -e
}

type makeRule struct {
	prereqs    []string
	recipe     []recipeLine
	cond       bool // defined inside ifeq, ifdef, ...: it may not be there
	unreadable bool // a rule dfopt does not read (two recipes, :: rules, target-specific variables)
}

type recipeLine struct {
	text string // without its leading tab; continuation lines joined by backslash-newline
	line int
}

// makeAssign matches a variable assignment: NAME = value, with :=, ::=,
// :::=, ?=, += or != and an optional override or export in front.
var makeAssign = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(?:(override|export|private)\s+)*([^\s:#=?+!$()]+)\s*(=|:=|::=|:::=|\?=|\+=|!=)(.*)$`)
})

// readMakefile reads a Makefile as GNU make would, for what dfopt needs: the
// recipes of explicit targets. It returns nil for a Makefile whose reading
// could depend on what it cannot see: include, targets named by variables,
// functions at the top level, .ONESHELL, .SECONDEXPANSION, a SHELL or
// .RECIPEPREFIX of its own. Rules inside conditionals are kept but marked.
func readMakefile(text string) *makefile {
	mf := &makefile{rules: map[string]*makeRule{}, phony: map[string]bool{}, vars: map[string]string{}, unknown: map[string]bool{}, override: map[string]bool{}}
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	depth := 0
	var cur []*makeRule // the rules the recipe lines that follow belong to
	for i := 0; i < len(lines); i++ {
		raw, lineNo := lines[i], i+1
		if strings.HasPrefix(raw, "\t") && cur != nil {
			text := raw[1:]
			for strings.HasSuffix(text, `\`) && i+1 < len(lines) {
				i++
				text += "\n" + strings.TrimPrefix(lines[i], "\t")
			}
			for _, r := range cur {
				r.recipe = append(r.recipe, recipeLine{text: text, line: lineNo})
			}
			continue
		}
		logical := raw
		for strings.HasSuffix(logical, `\`) && i+1 < len(lines) {
			i++
			logical = strings.TrimSuffix(logical, `\`) + " " + strings.TrimSpace(lines[i])
		}
		if k := strings.IndexByte(logical, '#'); k >= 0 {
			logical = logical[:k]
		}
		line := strings.TrimSpace(logical)
		if line == "" {
			continue // blank lines and comments do not end a recipe
		}
		word, rest, _ := strings.Cut(line, " ")
		switch word {
		case "ifeq", "ifneq", "ifdef", "ifndef":
			depth++
			cur = nil
			continue
		case "else":
			if depth == 0 {
				return nil
			}
			cur = nil
			continue
		case "endif":
			if depth == 0 {
				return nil
			}
			depth--
			cur = nil
			continue
		case "include", "-include", "sinclude", "load", "-load":
			return nil
		case "define":
			name := strings.Fields(rest)
			if len(name) > 0 {
				mf.setUnknown(name[0])
			}
			for i+1 < len(lines) && strings.TrimSpace(lines[i]) != "endef" {
				i++
			}
			cur = nil
			continue
		case "vpath", "unexport", "undefine":
			cur = nil
			continue
		case "export":
			if !strings.Contains(rest, "=") {
				cur = nil
				continue // export NAME...: the variables go to the environment
			}
		}
		cur = nil
		if m := makeAssign().FindStringSubmatch(line); m != nil {
			name, op, value := m[2], m[3], strings.TrimSpace(m[4])
			switch name {
			case "SHELL", ".SHELLFLAGS", ".RECIPEPREFIX", ".DEFAULT_GOAL", "MAKEFLAGS", "MAKEFILES", ".ONESHELL":
				return nil
			}
			if m[1] == "override" {
				mf.override[name] = true
			}
			if depth > 0 || op == "?=" || op == "+=" || op == "!=" || strings.Contains(value, "$") {
				mf.setUnknown(name)
			} else if !mf.unknown[name] {
				mf.vars[name] = value
			}
			continue
		}
		colon := strings.IndexByte(line, ':')
		if colon <= 0 || strings.Contains(line[:colon], "$") || strings.Contains(line[:colon], "=") {
			return nil // a function call, targets named by variables, or what dfopt does not read
		}
		targets := strings.Fields(line[:colon])
		after := line[colon+1:]
		double := strings.HasPrefix(after, ":")
		after = strings.TrimPrefix(after, ":")
		prereqText, inline, hasInline := strings.Cut(after, ";")
		unreadable := double || strings.Contains(prereqText, "=") || strings.HasPrefix(strings.TrimSpace(after), "&")
		var prereqs []string
		for _, p := range strings.Fields(prereqText) {
			if p == "|" {
				continue // order-only prerequisites run first too
			}
			if strings.ContainsAny(p, "$%") {
				unreadable = true // named by a variable, or a pattern
			}
			prereqs = append(prereqs, p)
		}
		for _, t := range targets {
			switch t {
			case ".PHONY":
				for _, p := range prereqs {
					mf.phony[p] = true
				}
				continue
			case ".ONESHELL", ".SECONDEXPANSION", ".DEFAULT", ".SUFFIXES", ".EXPORT_ALL_VARIABLES":
				return nil
			case ".IGNORE":
				if len(prereqs) == 0 {
					mf.ignoreAll = true
				} else {
					return nil
				}
				continue
			case ".POSIX":
				mf.posix = true
				continue
			}
			if strings.HasPrefix(t, ".") && strings.ToUpper(t) == t {
				continue // .SILENT, .NOTPARALLEL, .DELETE_ON_ERROR, ...: not what runs
			}
			if strings.Contains(t, "%") {
				continue // a pattern rule: a target it makes is not read
			}
			r := mf.rules[t]
			if r == nil {
				r = &makeRule{}
				mf.rules[t] = r
				if mf.first == "" && !strings.HasPrefix(t, ".") {
					mf.first = t
				}
			}
			r.prereqs = append(r.prereqs, prereqs...)
			r.cond = r.cond || depth > 0
			r.unreadable = r.unreadable || unreadable
			if len(r.recipe) > 0 || hasInline && r.unreadable {
				r.unreadable = true // a second recipe replaces the first
			}
			cur = append(cur, r)
		}
		if hasInline {
			for _, r := range cur {
				if len(r.recipe) > 0 {
					r.unreadable = true
				}
				r.recipe = append(r.recipe, recipeLine{text: strings.TrimSpace(inline), line: lineNo})
			}
		}
		if len(cur) == 0 {
			cur = nil
		}
	}
	if depth != 0 {
		return nil
	}
	return mf
}

func (mf *makefile) setUnknown(name string) {
	delete(mf.vars, name)
	mf.unknown[name] = true
}

// expand does make's expansion of a recipe line: $$ is $, $@ the target,
// $(NAME) or ${NAME} a variable set to literal text; any other reference
// (automatic variables, functions, variables from the environment)
// becomes a shell expansion, a word the model does not know.
func (mf *makefile) expand(text, target string) string {
	const unknown = "${__dfopt_make_reference}"
	var b strings.Builder
	for i := 0; i < len(text); i++ {
		ch := text[i]
		if ch != '$' || i+1 >= len(text) {
			b.WriteByte(ch)
			continue
		}
		i++
		switch next := text[i]; next {
		case '$':
			b.WriteByte('$')
		case '@':
			b.WriteString(target)
		case '(', '{':
			closer := byte(')')
			if next == '{' {
				closer = '}'
			}
			depth, j := 1, i+1
			for ; j < len(text) && depth > 0; j++ {
				switch text[j] {
				case next:
					depth++
				case closer:
					depth--
				}
			}
			if depth > 0 {
				b.WriteString(unknown)
				i = len(text)
				continue
			}
			name := text[i+1 : j-1]
			if v, ok := mf.vars[name]; ok && !mf.unknown[name] {
				b.WriteString(v)
			} else {
				b.WriteString(unknown)
			}
			i = j - 1
		default:
			b.WriteString(unknown)
		}
	}
	return b.String()
}
