package runmodel_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dfopt/dfopt/internal/runmodel"
)

// throughOf reads what the first command of a RUN runs from the files given
// (absolute path → content; any other path is surely absent), and lists
// its commands as "line: words [cwd] marks".
func throughOf(t *testing.T, run string, files map[string]string) string {
	t.Helper()
	m, r := runOf(t, "FROM busybox\nWORKDIR /app\nRUN "+run+"\n", 0)
	read := func(abs string) ([]byte, bool, bool) {
		s, ok := files[abs]
		return []byte(s), ok, true
	}
	var c *runmodel.Cmd
	for _, x := range r.Cmds {
		if x.Name != "cd" {
			c = x
			break
		}
	}
	s, ok := m.Through(m.State(r.In), c, read)
	if !ok {
		return "not read"
	}
	var out []string
	for _, sc := range s.Cmds {
		words := []string{sc.Name}
		for i := range sc.Args {
			if v, ok := sc.Args[i].Value(); ok {
				words = append(words, v)
			} else {
				words = append(words, "?")
			}
		}
		line := fmt.Sprintf("%d: %s [%s]", s.Line(sc), strings.Join(words, " "), s.Cwd(sc))
		if sc.Cond {
			line += " cond"
		}
		if sc.FailOK {
			line += " failok"
		}
		if set := s.SetBefore(sc); len(set) > 0 {
			line += " set=" + strings.Join(set, ",")
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

func TestThroughMake(t *testing.T) {
	makefile := `# Build
GO = go
FLAGS ?= -v

.PHONY: all deps build
all: build

deps:
	@echo fetching
	cd web && npm install

build: deps
	$(GO) build $(FLAGS) -o /out/app . \
	  && echo $@ $$HOME
	-X=1 rm -f /tmp/x; ls

app: main.go
	go build -o app .
`
	files := map[string]string{"/app/Makefile": makefile, "/app/main.go": "package main"}
	for _, tc := range []struct{ run, want string }{
		{"make", `9: echo fetching [/app]
10: cd web [/app]
10: npm install [/app/web]
13: go build ? -o /out/app . [/app]
14: echo build ? [/app]
15: rm -f /tmp/x [/app] failok
15: ls [/app] failok`},
		{"make deps GO=gotip", "9: echo fetching [/app]\n10: cd web [/app]\n10: npm install [/app/web]"},
		{"make build GO=gotip", "9: echo fetching [/app]\n10: cd web [/app]\n10: npm install [/app/web]\n13: gotip build ? -o /out/app . [/app]\n14: echo build ? [/app]\n15: rm -f /tmp/x [/app] failok\n15: ls [/app] failok"},
		{"make -j4 -s app", "18: go build -o app . [/app] cond"},
		{"cd / && make -C app deps", "9: echo fetching [/app]\n10: cd web [/app]\n10: npm install [/app/web]"},
		{"make -f Makefile deps || true", "9: echo fetching [/app] failok\n10: cd web [/app] failok\n10: npm install [/app/web] failok"},
		{"make --directory=/app --file=Makefile -j 2 -i deps", "9: echo fetching [/app] failok\n10: cd web [/app] failok\n10: npm install [/app/web] failok"},
		{"cd / && make -C/app --jobs=3 -l 2.5 -s deps", "9: echo fetching [/app]\n10: cd web [/app]\n10: npm install [/app/web]"},
		{"make -j deps", "9: echo fetching [/app]\n10: cd web [/app]\n10: npm install [/app/web]"},
		{"make -f Makefile -f other.mk", "not read"}, // two Makefiles
		{"make --file=a --file=b", "not read"},
		{"make -C", "not read"},
		{"make -n deps", "not read"},     // a dry run: nothing runs
		{"make nosuch", "not read"},      // no rule: a file, or a built-in rule
		{"make $TARGET", "not read"},     // a goal dfopt cannot read
		{"make -C sub", "not read"},      // no Makefile there
		{"make -f other.mk", "not read"}, // the file named is not there
	} {
		if got := throughOf(t, tc.run, files); got != tc.want {
			t.Errorf("RUN %s:\n got: %s\nwant: %s", tc.run, got, tc.want)
		}
	}
}

func TestThroughMakeUnread(t *testing.T) {
	for name, mk := range map[string]string{
		"include":        "include common.mk\nall:\n\tnpm ci\n",
		"conditional":    "all:\nifeq ($(X),1)\n\tnpm ci\nendif\n",
		"dynamic":        "$(BIN):\n\tgo build\n",
		"oneshell":       ".ONESHELL:\nall:\n\tcd web\n\tnpm ci\n",
		"shell":          "SHELL := /bin/bash\nall:\n\tnpm ci\n",
		"double-colon":   "all::\n\tnpm ci\n",
		"target-var":     "all: GOOS=linux\nall:\n\tgo build\n",
		"two-recipes":    "all:\n\tnpm ci\nall:\n\tnpm install\n",
		"pattern-prereq": "all: %.o\n\tcc\n",
		"implicit":       "all: app\n", // app has no rule and is no file: a built-in rule may make it
		"function":       "$(info hi)\nall:\n\tnpm ci\n",
	} {
		files := map[string]string{"/app/Makefile": mk, "/app/app.c": ""}
		if got := throughOf(t, "make", files); got != "not read" {
			t.Errorf("%s: read as\n%s", name, got)
		}
	}
	// A rule line continued, an exported and an overridden variable.
	mk2 := "override A = x\nexport B = y\nexport B\nall: \\\n  pre\n\techo $(A) $(B)\npre:\n\techo pre\n.PHONY: all pre\n"
	if got, want := throughOf(t, "make A=z", map[string]string{"/app/Makefile": mk2}), "8: echo pre [/app]\n6: echo x y [/app]"; got != want {
		t.Errorf("continued rule:\n got: %s\nwant: %s", got, want)
	}
	// A condition elsewhere does not stop the reading; a rule inside one is
	// conditional.
	mk := "ifdef CI\nX = 1\nall: lint\nendif\nall:\n\tnpm ci\nlint:\n\techo lint\n"
	if got, want := throughOf(t, "make all", map[string]string{"/app/Makefile": mk}), "8: echo lint [/app] cond\n6: npm ci [/app] cond"; got != want {
		t.Errorf("conditional prerequisite:\n got: %s\nwant: %s", got, want)
	}
}

func TestThroughScript(t *testing.T) {
	script := "#!/bin/sh -e\nexport NODE_ENV=production\ncd web\nnpm ci\nif [ -f x ]; then pip install -r requirements.txt; fi\n"
	files := map[string]string{
		"/app/build.sh":     script,
		"/app/noshebang":    "go build ./...\n",
		"/app/run.py":       "#!/usr/bin/env python3\nprint(1)\n",
		"/app/bash.sh":      "#!/usr/bin/env bash\n[[ -n $X ]] && go mod download\n",
		"/app/scripts/b.sh": "npm ci\n",
	}
	for _, tc := range []struct{ run, want string }{
		{"./build.sh", "0: export NODE_ENV [/app] set=NODE_ENV\n3: cd web [/app] set=NODE_ENV\n4: npm ci [/app/web] set=NODE_ENV\n5: [ -f x ] [/app/web] failok set=NODE_ENV\n5: pip install -r requirements.txt [/app/web] cond set=NODE_ENV"},
		{"sh build.sh", "0: export NODE_ENV [/app] failok set=NODE_ENV\n3: cd web [/app] failok set=NODE_ENV\n4: npm ci [/app/web] failok set=NODE_ENV\n5: [ -f x ] [/app/web] failok set=NODE_ENV\n5: pip install -r requirements.txt [/app/web] cond set=NODE_ENV"},
		{"/app/noshebang", "1: go build ./... [/app]"},
		{"bash -e scripts/b.sh arg", "1: npm ci [/app]"},
		{"./bash.sh", "2: go mod download [/app]"},
		{"./run.py", "not read"},
		{"sh -l build.sh", "not read"},
		{"sh -o errexit scripts/b.sh", "1: npm ci [/app]"},
		{"sh +o errexit -- scripts/b.sh", "not read"},
		{"sh $X scripts/b.sh", "not read"},
		{"sh -c ./scripts/b.sh", "1: npm ci [/app]"}, // the program string runs the script
		{"./missing.sh", "not read"},
		{"sh $SCRIPT", "not read"},
	} {
		if got := throughOf(t, tc.run, files); got != tc.want {
			t.Errorf("RUN %s:\n got: %s\nwant: %s", tc.run, got, tc.want)
		}
	}
}

// FuzzThroughMake reads any Makefile without a panic (go test runs the
// seeds; go test -fuzz FuzzThroughMake looks further).
func FuzzThroughMake(f *testing.F) {
	for _, s := range []string{
		"all: a\n\t@echo $@ $(X) ${Y} $$Z $\na:\n\t-cd web && npm ci\n",
		"X := 1\nifeq ($(X),1)\nall:\n\tgo build\nendif\n",
		"define X\nall:\nendef\nall: ; echo $(\n",
		"a b: c | d\n\techo \\\n\tx\nc d:\n",
		"\t\n$\n:\n::\n=\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, mk string) {
		for _, run := range []string{"make", "make all X=2 -j4"} {
			throughOf(t, run, map[string]string{"/app/Makefile": mk, "/app/c": ""})
		}
	})
}
