// Package flags parses dfopt's command lines the GNU way, as
// github.com/spf13/pflag does: --name, --name=value and --name value,
// -x shorthands that combine (-lw), flags and arguments in any order, and
// -- to end the flags. It has only the flag types dfopt's commands use:
// booleans, strings and comma-separated lists.
//
// dfopt used pflag itself until pflag's IP flag types, which dfopt never
// used, made it link package net, and with it cgo wherever a C compiler is
// installed: go install then made a dynamically linked binary that loads
// libc and starts cgo on every run, some 2 ms of the 6 a run on a small
// file takes. The error messages are pflag's, word for word, since users
// and scripts see them.
package flags

import (
	"encoding/csv"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// A Set is the flags of one command, in the order they were defined, and
// after Parse the arguments that are not flags. It prints nothing: Parse
// returns its errors and the command writes its own usage.
type Set struct {
	flags   []*Flag
	byName  map[string]*Flag
	byShort map[byte]*Flag
	args    []string
}

// A Flag is one flag of a Set.
type Flag struct {
	Name      string
	Shorthand string // one letter, or "" for none
	Usage     string
	// Changed tells whether the command line set the flag, to whatever
	// value: a setting given on the command line wins over a
	// configuration file's, even where it equals the default.
	Changed bool

	value value
}

// value is what a flag holds; set parses one occurrence on the command line.
type value interface {
	set(s string) error
}

// IsBool tells whether the flag is a boolean, which takes no argument: --write
// means --write=true.
func (f *Flag) IsBool() bool {
	_, ok := f.value.(*boolValue)
	return ok
}

// UnquoteUsage returns the name of the flag's value and its usage text: the
// name is what the usage holds between its first two back quotes, which are
// dropped from the text ("the rules `NAME,...`" names NAME,...). Without
// them the name is the value's type as pflag spells it, string or strings,
// and "" for a boolean.
func (f *Flag) UnquoteUsage() (name, usage string) {
	if open := strings.IndexByte(f.Usage, '`'); open >= 0 {
		if n := strings.IndexByte(f.Usage[open+1:], '`'); n >= 0 {
			name = f.Usage[open+1 : open+1+n]
			return name, f.Usage[:open] + name + f.Usage[open+1+n+1:]
		}
	}
	switch f.value.(type) {
	case *stringValue:
		name = "string"
	case *stringsValue:
		name = "strings"
	}
	return name, f.Usage
}

// define adds a flag. Defining a name or a shorthand twice, a shorthand of
// more than one byte, or one for a flag that is not a boolean, is a mistake
// in the program, not in its input, so it panics, as pflag and the flag
// package do. (dfopt's shorthands are all booleans; -ovalue and -o value
// are not needed.)
func (s *Set) define(v value, name, shorthand, usage string) {
	if s.byName == nil {
		s.byName = map[string]*Flag{}
		s.byShort = map[byte]*Flag{}
	}
	if _, ok := s.byName[name]; ok || name == "" || strings.HasPrefix(name, "-") || strings.Contains(name, "=") {
		panic(fmt.Sprintf("flags: bad or duplicate flag name %q", name))
	}
	f := &Flag{Name: name, Shorthand: shorthand, Usage: usage, value: v}
	if shorthand != "" {
		if _, ok := s.byShort[shorthand[0]]; ok || len(shorthand) != 1 || shorthand == "-" || shorthand == "=" || !f.IsBool() {
			panic(fmt.Sprintf("flags: bad or duplicate shorthand %q for --%s", shorthand, name))
		}
		s.byShort[shorthand[0]] = f
	}
	s.flags = append(s.flags, f)
	s.byName[name] = f
}

// BoolVarP defines a boolean flag with a shorthand ("" for none), which
// sets *p, starting at value.
func (s *Set) BoolVarP(p *bool, name, shorthand string, value bool, usage string) {
	*p = value
	s.define((*boolValue)(p), name, shorthand, usage)
}

// BoolVar defines a boolean flag, which sets *p, starting at value.
func (s *Set) BoolVar(p *bool, name string, value bool, usage string) {
	s.BoolVarP(p, name, "", value, usage)
}

// BoolP defines a boolean flag with a shorthand and returns where its value is.
func (s *Set) BoolP(name, shorthand string, value bool, usage string) *bool {
	p := new(bool)
	s.BoolVarP(p, name, shorthand, value, usage)
	return p
}

// Bool defines a boolean flag and returns where its value is.
func (s *Set) Bool(name string, value bool, usage string) *bool {
	return s.BoolP(name, "", value, usage)
}

// StringVar defines a string flag, which sets *p, starting at value.
func (s *Set) StringVar(p *string, name, value, usage string) {
	*p = value
	s.define((*stringValue)(p), name, "", usage)
}

// String defines a string flag and returns where its value is.
func (s *Set) String(name, value, usage string) *string {
	p := new(string)
	s.StringVar(p, name, value, usage)
	return p
}

// StringSlice defines a list flag and returns where its value is. Each
// occurrence is split at its commas as one CSV record ("a,b" gives a and b,
// and a comma in quotes stays: "\"a,b\",c" gives a,b and c); the first one
// replaces the default and the others append to it, so that --enable=a
// --enable=b,c gives [a b c]. An empty value gives no element.
func (s *Set) StringSlice(name string, value []string, usage string) *[]string {
	v := &stringsValue{list: value}
	s.define(v, name, "", usage)
	return &v.list
}

// Lookup returns the flag called name, or nil.
func (s *Set) Lookup(name string) *Flag {
	return s.byName[name]
}

// Changed tells whether the command line set the flag called name; false
// for a flag the set does not have.
func (s *Set) Changed(name string) bool {
	f := s.byName[name]
	return f != nil && f.Changed
}

// GetBool returns the value of the boolean flag called name.
func (s *Set) GetBool(name string) (bool, error) {
	f := s.byName[name]
	if f == nil {
		return false, fmt.Errorf("flag accessed but not defined: %s", name)
	}
	b, ok := f.value.(*boolValue)
	if !ok {
		return false, fmt.Errorf("flag --%s is not a boolean", name)
	}
	return bool(*b), nil
}

// VisitAll calls fn for each flag in the order they were defined, which
// is the order usage texts list them in.
func (s *Set) VisitAll(fn func(*Flag)) {
	for _, f := range s.flags {
		fn(f)
	}
}

// Args returns the arguments that are not flags, in their order.
func (s *Set) Args() []string { return s.args }

// NArg returns how many arguments are not flags.
func (s *Set) NArg() int { return len(s.args) }

// Arg returns the i-th argument that is not a flag, or "" if there are
// fewer.
func (s *Set) Arg(i int) string {
	if i < 0 || i >= len(s.args) {
		return ""
	}
	return s.args[i]
}

// Parse reads the command line, without the command's name. Flags and
// arguments may come in any order: "-" alone is an argument (standard
// input) and "--" makes every word after it an argument. It stops at the
// first error, in pflag's words: "unknown flag: --x", "unknown shorthand
// flag: 'x' in -x", "flag needs an argument: --format", "invalid argument
// ...".
func (s *Set) Parse(args []string) error {
	s.args = make([]string, 0, len(args))
	for len(args) > 0 {
		arg := args[0]
		args = args[1:]
		var err error
		switch {
		case len(arg) < 2 || arg[0] != '-':
			s.args = append(s.args, arg)
		case arg == "--":
			s.args = append(s.args, args...)
			return nil
		case arg[1] == '-':
			args, err = s.parseLong(arg, args)
		default:
			err = s.parseShorts(arg)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// parseLong reads one --name or --name=value, and the word after it for
// the value of a flag that is not a boolean; it returns the words left.
func (s *Set) parseLong(arg string, rest []string) ([]string, error) {
	name := arg[2:]
	if name[0] == '-' || name[0] == '=' {
		return rest, fmt.Errorf("bad flag syntax: %s", arg)
	}
	name, val, hasVal := strings.Cut(name, "=")
	f := s.byName[name]
	switch {
	case f == nil:
		return rest, fmt.Errorf("unknown flag: --%s", name)
	case hasVal:
	case f.IsBool():
		val = "true"
	case len(rest) > 0:
		// The next word is the value even when it starts with a dash,
		// as in --format -d: pflag reads it so, and a value may.
		val, rest = rest[0], rest[1:]
	default:
		return rest, fmt.Errorf("flag needs an argument: --%s", name)
	}
	return rest, s.set(f, val)
}

// parseShorts reads one word of shorthands: -x, -lw, or -x=false. Only
// booleans have shorthands, so no shorthand takes the next word.
func (s *Set) parseShorts(arg string) error {
	// Each step takes the first letter of shorts. pflag works on bytes, and
	// its messages name the letters left from the one that failed: -wz
	// says "unknown shorthand flag: 'z' in -z".
	for shorts := arg[1:]; shorts != ""; {
		c := shorts[0]
		f := s.byShort[c]
		if f == nil {
			return fmt.Errorf("unknown shorthand flag: %q in -%s", rune(c), shorts)
		}
		val := "true"
		if len(shorts) > 2 && shorts[1] == '=' {
			val, shorts = shorts[2:], ""
		} else {
			shorts = shorts[1:]
		}
		if err := s.set(f, val); err != nil {
			return err
		}
	}
	return nil
}

// set gives a flag one value from the command line.
func (s *Set) set(f *Flag, val string) error {
	if err := f.value.set(val); err != nil {
		name := "--" + f.Name
		if f.Shorthand != "" {
			name = "-" + f.Shorthand + ", --" + f.Name
		}
		return fmt.Errorf("invalid argument %q for %q flag: %w", val, name, err)
	}
	f.Changed = true
	return nil
}

type boolValue bool

func (b *boolValue) set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("must be true or false")
	}
	*b = boolValue(v)
	return nil
}

type stringValue string

func (v *stringValue) set(s string) error {
	*v = stringValue(s)
	return nil
}

// stringsValue is a list flag's value. The first occurrence on the command
// line replaces the default, the others append to it.
type stringsValue struct {
	list      []string
	appending bool
}

func (v *stringsValue) set(s string) error {
	items := []string{}
	if s != "" {
		// One CSV record, as pflag reads it: quotes may hold commas, and
		// whatever follows a line break is not read.
		var err error
		items, err = csv.NewReader(strings.NewReader(s)).Read()
		if err != nil {
			return err
		}
	}
	if v.appending {
		items = append(v.list, items...)
	}
	v.list, v.appending = items, true
	return nil
}
