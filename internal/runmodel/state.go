package runmodel

import (
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/dfopt/dfopt/rewrite"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// State is what the instructions before a point of a stage have set, as far
// as the Dockerfile tells: the base image's own settings are not seen (its
// user is taken as root, its working directory and environment as unknown).
type State struct {
	// Workdir is the working directory: absolute, "" when unknown (the base
	// image's, or one made of variables the model cannot know).
	Workdir string
	// Env holds the variables ENV and ARG set.
	Env Env
	// User is the USER in force as written ("" before any: the base image's).
	User string
	// Shell is the SHELL in force (nil: /bin/sh -c).
	Shell []string
}

// Var is one variable ENV or ARG set.
type Var struct {
	Raw   string // as written, before expansion
	Value string
	Known bool // its value is all known (a reference to its own earlier value aside: the base image's PATH)
	Fixed bool // known, and set by ENV alone: no --build-arg can change it
	ByEnv bool // set by ENV, which an ARG of the same name does not override
}

// Env maps variable names to what ENV and ARG set them to. It is what
// BuildKit's word expansion reads.
type Env map[string]Var

// Get returns a variable's value, for BuildKit's shell lexer.
func (e Env) Get(k string) (string, bool) {
	v, ok := e[k]
	return v.Value, ok
}

// Keys lists the variables, for BuildKit's shell lexer.
func (e Env) Keys() []string { return slices.Collect(maps.Keys(e)) }

// Root tells whether the instructions run as root: no USER, or USER root or 0.
func (s State) Root() bool {
	u, _, _ := strings.Cut(strings.ToLower(s.User), ":")
	return s.User == "" || u == "root" || u == "0"
}

// Home returns the home folder of the user the instructions run as: HOME
// when ENV sets it, /root for root; ok is false when it is not known.
func (s State) Home() (string, bool) {
	if v, ok := s.Env["HOME"]; ok {
		return v.Value, v.Known && path.IsAbs(v.Value)
	}
	if s.Root() {
		return "/root", true
	}
	return "", false
}

// Errexit tells whether the SHELL stops at the first failing command (-e,
// -o errexit): merged RUNs would then not stop where they did apart.
func (s State) Errexit() bool {
	for i, a := range s.Shell {
		if i == 0 {
			continue
		}
		if a == "-o" && i+1 < len(s.Shell) && s.Shell[i+1] == "errexit" || a == "--errexit" {
			return true
		}
		if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.ContainsAny(a[1:], "eE") && a != "-c" {
			return true
		}
	}
	return false
}

// Login tells whether the SHELL reads profile files when it starts (a login
// or interactive shell, and zsh always): files of the image and the home
// folder that the model cannot read.
func (s State) Login() bool {
	if len(s.Shell) == 0 {
		return false
	}
	if path.Base(s.Shell[0]) == "zsh" {
		return true
	}
	for _, a := range s.Shell[1:] {
		if a == "--login" || a == "--interactive" || strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.ContainsAny(a[1:], "li") {
			return true
		}
	}
	return false
}

// Expand expands the variables of a Dockerfile word (a COPY destination, a
// WORKDIR) as BuildKit would; ok is false when a variable is not known, or
// may be changed by a --build-arg.
func (s State) Expand(lex *shell.Lex, word string) (string, bool) {
	res, err := lex.ProcessWordWithMatches(word, s.Env)
	if err != nil || len(res.Unmatched) > 0 {
		return "", false
	}
	for name := range res.Matched {
		if !s.Env[name].Fixed {
			return "", false
		}
	}
	return res.Result, true
}

// states computes the state before each instruction of every stage; a
// stage built FROM another starts with its state.
func states(d *rewrite.Document, lex *shell.Lex) map[*rewrite.Instruction]State {
	out := make(map[*rewrite.Instruction]State, len(d.Instructions))
	final := map[*rewrite.Stage]State{}
	for _, st := range d.Stages {
		cur := State{Env: Env{}}
		if parent := d.Parent(st); parent != nil {
			cur = final[parent]
			cur.Env = maps.Clone(cur.Env)
			maps.DeleteFunc(cur.Env, func(_ string, v Var) bool { return !v.ByEnv }) // build args stay in their stage
		}
		for _, in := range st.Instructions {
			out[in] = cur
			cur = cur.after(in, lex)
		}
		final[st] = cur
	}
	return out
}

// after returns the state once in has run.
func (s State) after(in *rewrite.Instruction, lex *shell.Lex) State {
	switch c := in.Command.(type) {
	case *instructions.EnvCommand:
		env := maps.Clone(s.Env)
		for _, kv := range c.Env {
			v := s.expand(kv.Key, kv.Value, lex) // one ENV sees the values from before it
			v.ByEnv, v.Raw = true, kv.Value
			env[kv.Key] = v
		}
		s.Env = env
	case *instructions.ArgCommand:
		env := maps.Clone(s.Env)
		for _, a := range c.Args {
			if old, ok := env[a.Key]; ok && old.ByEnv {
				continue
			}
			v := Var{}
			if a.Value != nil {
				v = State{Env: env}.expand(a.Key, *a.Value, lex)
				v.Fixed, v.Raw = false, *a.Value
			}
			env[a.Key] = v
		}
		s.Env = env
	case *instructions.ShellCommand:
		s.Shell = slices.Clone(c.Shell)
	case *instructions.UserCommand:
		s.User = c.User
	case *instructions.WorkdirCommand:
		res, err := lex.ProcessWordWithMatches(c.Path, s.Env)
		known := err == nil && len(res.Unmatched) == 0
		for name := range res.Matched {
			known = known && s.Env[name].Fixed
		}
		switch {
		case !known:
			s.Workdir = ""
		case path.IsAbs(res.Result):
			s.Workdir = path.Clean(res.Result)
		case s.Workdir != "":
			s.Workdir = path.Join(s.Workdir, res.Result)
		}
	}
	return s
}

// expand works out the value of variable name set to raw.
func (s State) expand(name, raw string, lex *shell.Lex) Var {
	res, err := lex.ProcessWordWithMatches(raw, s.Env)
	if err != nil {
		return Var{}
	}
	v := Var{Value: res.Result, Known: true, Fixed: true}
	for ref := range res.Unmatched {
		if ref != name {
			v.Known, v.Fixed = false, false
		}
	}
	for ref := range res.Matched {
		v.Known = v.Known && s.Env[ref].Known
		v.Fixed = v.Fixed && s.Env[ref].Fixed
	}
	return v
}
