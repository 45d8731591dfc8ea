// Package flagscompat holds the proof that dfopt's own flag parser,
// github.com/dfopt/dfopt/internal/flags, reads a command line as
// github.com/spf13/pflag does. It lives in the engine module because that
// module still uses pflag, and dfopt's module must not need it: pflag links
// package net, and with it cgo, into the dfopt binary.
package flagscompat

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/spf13/pflag"

	"github.com/dfopt/dfopt/internal/flags"
)

// tablePath is the table internal/flags' tests hold Parse to.
var tablePath = filepath.Join("..", "..", "..", "internal", "flags", "testdata", "parse.json")

type table struct {
	Flags []struct {
		Name    string          `json:"name"`
		Short   string          `json:"short"`
		Type    string          `json:"type"`
		Default json.RawMessage `json:"default"`
		Usage   string          `json:"usage"`
		Want    [2]string       `json:"want"`
	} `json:"flags"`
	Cases []struct {
		Args []string                   `json:"args"`
		Set  map[string]json.RawMessage `json:"set"`
		Rest []string                   `json:"rest"`
		Err  string                     `json:"err"`
	} `json:"cases"`
}

func readTable(t *testing.T) *table {
	t.Helper()
	data, err := os.ReadFile(tablePath)
	if err != nil {
		t.Fatal(err)
	}
	var tab table
	if err := json.Unmarshal(data, &tab); err != nil {
		t.Fatalf("%s: %v", tablePath, err)
	}
	return &tab
}

// result is what parsing one command line gives, in a form both parsers'
// results take: the flags changed with their values as JSON, the
// arguments left, or the error.
type result struct {
	Set  map[string]string
	Rest []string
	Err  string
}

func (r result) String() string {
	if r.Err != "" {
		return "error " + r.Err
	}
	return fmt.Sprintf("set %v, args %q", r.Set, r.Rest)
}

func equal(a, b result) bool {
	if a.Err != "" || b.Err != "" {
		return a.Err == b.Err
	}
	return fmt.Sprint(a.Set) == fmt.Sprint(b.Set) && slices.Equal(a.Rest, b.Rest)
}

// parseFunc parses args with the table's flags and says what came of it.
type parseFunc func(t *testing.T, tab *table, args []string) result

// withPflag parses as pflag does, set up as dfopt's commands set it up.
func withPflag(t *testing.T, tab *table, args []string) result {
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	fs.SetOutput(discard{})
	fs.Usage = func() {}
	fs.SortFlags = false
	values := map[string]any{}
	for _, f := range tab.Flags {
		switch f.Type {
		case "bool":
			values[f.Name] = fs.BoolP(f.Name, f.Short, unmarshal[bool](t, f.Default), f.Usage)
		case "string":
			values[f.Name] = fs.StringP(f.Name, f.Short, unmarshal[string](t, f.Default), f.Usage)
		case "strings":
			values[f.Name] = fs.StringSliceP(f.Name, f.Short, unmarshal[[]string](t, f.Default), f.Usage)
		}
	}
	if err := fs.Parse(args); err != nil {
		return result{Err: err.Error()}
	}
	return collect(t, values, fs.Changed, fs.Args())
}

// withFlags parses with dfopt's package flags.
func withFlags(t *testing.T, tab *table, args []string) result {
	var fs flags.Set
	values := map[string]any{}
	for _, f := range tab.Flags {
		switch f.Type {
		case "bool":
			values[f.Name] = fs.BoolP(f.Name, f.Short, unmarshal[bool](t, f.Default), f.Usage)
		case "string":
			values[f.Name] = fs.String(f.Name, unmarshal[string](t, f.Default), f.Usage)
		case "strings":
			values[f.Name] = fs.StringSlice(f.Name, unmarshal[[]string](t, f.Default), f.Usage)
		}
	}
	if err := fs.Parse(args); err != nil {
		return result{Err: err.Error()}
	}
	return collect(t, values, fs.Changed, fs.Args())
}

func collect(t *testing.T, values map[string]any, changed func(string) bool, rest []string) result {
	r := result{Set: map[string]string{}, Rest: rest}
	for name, v := range values {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if changed(name) {
			r.Set[name] = string(data)
		} else {
			r.Set[name+" (default)"] = string(data)
		}
	}
	return r
}

func unmarshal[T any](t *testing.T, data json.RawMessage) T {
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	return v
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// TestTableIsPflags checks that pflag gives what the table says, the
// table that internal/flags' tests hold dfopt's parser to.
func TestTableIsPflags(t *testing.T) {
	tab := readTable(t)
	for _, c := range tab.Cases {
		got := withPflag(t, tab, c.Args)
		if c.Err != "" {
			if got.Err != c.Err {
				t.Errorf("%q: pflag gives %v, the table says error %q", c.Args, got, c.Err)
			}
			continue
		}
		want := result{Set: map[string]string{}, Rest: c.Rest}
		for _, f := range tab.Flags {
			if v, ok := c.Set[f.Name]; ok {
				want.Set[f.Name] = compact(t, v)
			} else {
				want.Set[f.Name+" (default)"] = compact(t, f.Default)
			}
		}
		if !equal(got, want) {
			t.Errorf("%q: pflag gives %v, the table says %v", c.Args, got, want)
		}
	}
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	for _, f := range tab.Flags {
		switch f.Type {
		case "bool":
			fs.BoolP(f.Name, f.Short, false, f.Usage)
		case "string":
			fs.StringP(f.Name, f.Short, "", f.Usage)
		case "strings":
			fs.StringSliceP(f.Name, f.Short, nil, f.Usage)
		}
		name, usage := pflag.UnquoteUsage(fs.Lookup(f.Name))
		if name != f.Want[0] || usage != f.Want[1] {
			t.Errorf("--%s: pflag.UnquoteUsage gives %q, %q; the table says %q, %q", f.Name, name, usage, f.Want[0], f.Want[1])
		}
	}
}

func compact(t *testing.T, data json.RawMessage) string {
	out, err := json.Marshal(unmarshal[any](t, data))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestSameAsPflag parses every command line of up to three words from a
// vocabulary of flags, values and mistakes with both parsers and checks that
// they agree on each. The one known difference is left out of the
// vocabulary: pflag drops a word that starts with -test. (a go test flag)
// without a word, where dfopt reports it.
func TestSameAsPflag(t *testing.T) {
	tab := readTable(t)
	words := []string{
		"Dockerfile", "-", "--", "", "-w", "-lw", "-dq", "-wx", "-x", "-w=false", "-w=", "-=", "-h",
		"--write", "--write=false", "--write=no", "--check", "--color=0",
		"--format", "--format=json", "--format=", "json", "-d",
		"--enable", "--enable=a,b", "--enable=", "a,\"b,c\"", "a\"b", "--label=x",
		"--nope", "--nope=1", "---x", "--=x", "--help", "-é",
	}
	var lines [][]string
	for _, a := range words {
		lines = append(lines, []string{a})
		for _, b := range words {
			lines = append(lines, []string{a, b})
			for _, c := range words {
				lines = append(lines, []string{a, b, c})
			}
		}
	}
	differ := 0
	for _, args := range lines {
		want, got := withPflag(t, tab, args), withFlags(t, tab, args)
		if !equal(got, want) {
			differ++
			if differ <= 20 {
				t.Errorf("%q: package flags gives %v, pflag %v", args, got, want)
			}
		}
	}
	if differ > 0 {
		t.Errorf("%d of %d command lines parse otherwise than with pflag", differ, len(lines))
	}
}
