package runmodel

import (
	"path"
	"slices"
	"strings"
)

// JavaScript projects list in package.json the packages only their build
// needs (devDependencies: bundlers, compilers, test tools). An install that
// leaves them out is a production install; one that brings them must run
// before a build, but they then ship with the application unless they are
// taken out again. What follows is that knowledge for npm, yarn and pnpm.

// jsProdFlags are the flags with which an install of the manager leaves
// the devDependencies out.
var jsProdFlags = map[string][]string{
	"npm":  {"--production", "--omit=dev", "--only=prod", "--only=production", "--prod"},
	"yarn": {"--production", "--prod"},
	"pnpm": {"--prod", "-P", "--production"},
}

// DevInstall tells whether a call installs a project's devDependencies: a
// whole-project install (npm ci, npm install, yarn, yarn install, pnpm
// install, with no package named) without a production flag, nor the
// environment that makes it one (NODE_ENV=production, npm_config_omit=dev,
// …) set for the command or in env (what ENV and the RUN set).
func DevInstall(k Call, env func(name string) (string, bool)) bool {
	prod, ok := jsProdFlags[k.M.Name]
	if !ok || k.AnyUnknownArg() {
		return false
	}
	switch {
	case k.VerbAt < 0:
		if k.M.Name != "yarn" {
			return false // a bare yarn installs; a bare npm does nothing
		}
	case k.Verb == "ci" || k.Verb == "clean-install" || k.Verb == "install" || k.Verb == "i":
		if len(k.operands()) > 0 {
			return false // named packages: no devDependencies of the project
		}
	default:
		return false
	}
	if k.HasFlag(prod...) || k.HasFlag("--omit") && slices.Contains(k.argValues(), "dev") {
		return false
	}
	get := func(name string) (string, bool) {
		if w, ok := k.Assigns[name]; ok {
			return w.Value()
		}
		return env(name)
	}
	for _, name := range []string{"NODE_ENV", "npm_config_production", "NPM_CONFIG_PRODUCTION", "npm_config_omit", "NPM_CONFIG_OMIT", "YARN_PRODUCTION"} {
		v, set := get(name)
		if !set {
			continue
		}
		switch strings.ToLower(v) {
		case "", "false", "0", "development", "dev", "test":
			if name == "npm_config_omit" || name == "NPM_CONFIG_OMIT" {
				if strings.Contains(v, "dev") {
					return false
				}
			}
		default:
			return false // production, true, an unknown value
		}
	}
	return true
}

func (k Call) argValues() []string {
	var out []string
	for _, a := range k.Args {
		if v, ok := a.Value(); ok {
			out = append(out, v)
		}
	}
	return out
}

// BuildScript tells whether a command runs a project's build: npm run
// build (or build:prod, …), yarn build, pnpm build, or npx or a bundler
// (tsc, vite, webpack, next) that compiles the project.
func BuildScript(c *Cmd) bool {
	name := c.Name
	if name == "" {
		if v, ok := c.Prog.Value(); ok {
			name = path.Base(v)
		}
	}
	first := firstOperand(c.Args)
	second := ""
	if i := slices.IndexFunc(c.Args, func(a Word) bool { v, _ := a.Value(); return v == first }); i >= 0 {
		second = firstOperand(c.Args[i+1:])
	}
	builds := func(s string) bool {
		return s == "build" || strings.HasPrefix(s, "build:") || strings.HasSuffix(s, ":build")
	}
	switch name {
	case "npm", "pnpm", "yarn", "bun":
		if first == "run" || first == "run-script" {
			return builds(second)
		}
		return name != "npm" && builds(first)
	case "npx":
		return slices.Contains(bundlers, first) || builds(second)
	}
	return slices.Contains(bundlers, name)
}

var bundlers = []string{"tsc", "vite", "webpack", "next", "rollup", "esbuild", "parcel", "nuxt", "ng", "svelte-kit"}

// DevPruned tells whether a command takes a project's devDependencies out
// of it: npm prune --omit=dev (or --production), pnpm prune --prod, a
// production install after the build (yarn install --production), or rm of
// node_modules.
func DevPruned(c *Cmd) bool {
	if c.Opaque {
		return false
	}
	if c.Is("rm") {
		for _, a := range c.Args {
			if v, ok := a.Pattern(); ok && path.Base(strings.TrimRight(v, "/")) == "node_modules" {
				return true
			}
		}
		return false
	}
	m := ManagerOf(c)
	if m == nil || jsProdFlags[m.Name] == nil {
		return false
	}
	k := m.Read(c)
	if k.Verb == "prune" || k.Installs() || k.VerbAt < 0 && m.Name == "yarn" {
		return k.HasFlag(jsProdFlags[m.Name]...) || k.HasFlag("--omit") && slices.Contains(k.argValues(), "dev")
	}
	return false
}
