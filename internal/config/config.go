// Package config reads dfopt's configuration files, .dfopt.yaml: the rules
// to run, the options of the command line, the paths to leave alone and
// per-path settings. The command line and the language server share it, so
// that a Dockerfile is rewritten the same way whichever runs.
//
// A file looks like this:
//
//	disable: [maintainer-to-label]
//	merge: small
//	large-file: 50MB
//	fail-on: [proposal]
//	exclude: ["docs/**", "**/*.tmpl"]
//	overrides:
//	  - files: ["ci/**"]
//	    propose: true
//
// Parse checks every key, type and rule name and reports a mistake as
// PATH:LINE: message, so that a typo never silently switches nothing.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/moby/patternmatcher"
	"go.yaml.in/yaml/v3"

	"github.com/dfopt/dfopt/rewrite"
	"github.com/dfopt/dfopt/rules"
)

// Names are the file names a folder's configuration may have.
var Names = []string{".dfopt.yaml", ".dfopt.yml"}

// FailOn are the values the fail-on key accepts.
var FailOn = []string{"report", "proposal", "security"}

// File is one configuration file.
type File struct {
	// Path names the file in messages, as it was given or found.
	Path string
	// Dir is the absolute folder that exclude and files patterns are
	// relative to: the file's own.
	Dir string
	// Settings are the file's top-level settings, for every Dockerfile it
	// applies to.
	Settings
	// FailOn is the fail-on list (report, proposal, security); nil when the
	// file does not set it. It applies to the run, not to paths, so it is
	// not allowed in overrides.
	FailOn []string
	// Exclude are the patterns of the paths that dfopt leaves alone.
	Exclude   []string
	exclude   *patternmatcher.PatternMatcher
	Overrides []Override
}

// Override is one entry of overrides: settings for the paths its files
// patterns match, applied after the top-level settings and after the
// overrides before it.
type Override struct {
	Files []string
	Line  int // where the entry starts, for messages
	files *patternmatcher.PatternMatcher
	Settings
}

// Settings are the options one layer of configuration sets: the top level
// of a file, an override, or the command line. A nil pointer or list means
// that the layer leaves the option as the layers before it set it.
type Settings struct {
	Enable, Disable []string // rule names, hadolint IDs or "all"
	Propose         *bool
	Merge           *string // "small", "all" or "none"
	CacheMounts     *bool
	Dockerignore    *bool
	LargeFile       *int64 // bytes
}

// Error is a mistake in a configuration file, at a line when one is known.
type Error struct {
	Path string
	Line int // 0 when the mistake is not at one line
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg)
	}
	return e.Path + ": " + e.Msg
}

// Parse reads a configuration file. path names it in errors; dir is the
// folder its patterns are relative to (made absolute here).
func Parse(path, dir string, src []byte) (*File, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, &Error{Path: path, Msg: err.Error()}
	}
	f := &File{Path: path, Dir: abs}
	p := parser{path: path}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF):
		return f, nil // empty, or only comments
	case err != nil:
		return nil, p.yamlError(err, src)
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		line := more.Line
		if err != nil {
			return nil, p.yamlError(err, src)
		}
		return nil, p.errorf(line, "more than one YAML document: a configuration is one mapping of settings")
	}
	root := resolve(&doc)
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = resolve(root.Content[0])
	}
	if isNull(root) {
		return f, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, p.errorf(root.Line, "a configuration is a mapping of settings (enable: [...], exclude: [...], ...), not a %s", kindName(root))
	}
	err = p.mapping(root, func(key string, k, v *yaml.Node) error {
		switch key {
		case "fail-on":
			list, err := p.names(key, v, func(n *yaml.Node) error {
				if !slices.Contains(FailOn, n.Value) {
					return p.errorf(n.Line, "fail-on: unknown value %q: use %s", n.Value, strings.Join(FailOn, ", "))
				}
				return nil
			})
			f.FailOn = list
			if f.FailOn == nil && !isNull(v) {
				f.FailOn = []string{}
			}
			return err
		case "exclude":
			patterns, m, err := p.patterns(key, v)
			f.Exclude, f.exclude = patterns, m
			return err
		case "overrides":
			return p.overrides(v, f)
		}
		return p.setting(key, k, v, &f.Settings)
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Layers returns the settings of the file that apply to path, in the order
// they apply: the top level, then each override whose files patterns match.
// An empty path (standard input) gets the top level only.
func (f *File) Layers(path string) []Settings {
	layers := []Settings{f.Settings}
	rel, ok := f.rel(path)
	if !ok {
		return layers
	}
	for _, o := range f.Overrides {
		if matches(o.files, rel) {
			layers = append(layers, o.Settings)
		}
	}
	return layers
}

// Excluded tells whether exclude names path (a file or a folder), or a
// folder above it. Paths outside the file's folder are never excluded.
func (f *File) Excluded(path string) bool {
	rel, ok := f.rel(path)
	return ok && matches(f.exclude, rel)
}

// Prunes tells whether a walk may skip the folder dir without looking in
// it: exclude names it, and no "!" pattern could bring back a path below.
// A pattern can only match paths that start with its text up to its first
// wildcard, so one whose literal start leads elsewhere cannot.
func (f *File) Prunes(dir string) bool {
	if !f.Excluded(dir) {
		return false
	}
	rel, _ := f.rel(dir)
	below := rel + "/"
	for _, p := range f.exclude.Patterns() {
		if !p.Exclusion() {
			continue
		}
		text := filepath.ToSlash(p.String())
		lit := text[:len(text)-len(strings.TrimLeft(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-@+=,~"))]
		if strings.HasPrefix(lit, below) || strings.HasPrefix(below, lit) {
			return false
		}
	}
	return true
}

// rel is path relative to the file's folder, slash-separated; false when
// path is empty or lies outside that folder.
func (f *File) rel(path string) (string, bool) {
	if path == "" {
		return "", false
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", false
	}
	rel, err := filepath.Rel(f.Dir, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

func matches(m *patternmatcher.PatternMatcher, rel string) bool {
	if m == nil || rel == "." {
		return false
	}
	ok, err := m.MatchesOrParentMatches(rel)
	return err == nil && ok
}

// Apply sets opts as the layers say, one after the other: the later layer
// wins for an option it sets, and enable and disable switch the rules of
// opts.Rules (a subset of all) as rewrite.SelectFrom does. Layers that name
// no rules leave opts.Rules as it is.
func Apply(opts *rewrite.Options, all []*rewrite.Rule, layers ...Settings) error {
	for _, l := range layers {
		if l.Enable != nil || l.Disable != nil {
			on, err := rewrite.SelectFrom(all, opts.Rules, l.Enable, l.Disable)
			if err != nil {
				return err
			}
			opts.Rules = on
		}
		if l.Propose != nil {
			opts.Propose = *l.Propose
		}
		if l.Merge != nil {
			opts.MergeSmall = *l.Merge == "small" || *l.Merge == "all"
			opts.MergeAll = *l.Merge == "all"
		}
		if l.CacheMounts != nil {
			opts.CacheMounts = *l.CacheMounts
		}
		if l.Dockerignore != nil {
			opts.WriteDockerignore = *l.Dockerignore
		}
		if l.LargeFile != nil {
			opts.LargeFile = *l.LargeFile
		}
	}
	return nil
}

// MergeValues are the values of merge (and of --merge).
var MergeValues = []string{"small", "all", "none"}

// parser reads the YAML tree of one file.
type parser struct{ path string }

func (p parser) errorf(line int, format string, args ...any) error {
	return &Error{Path: p.path, Line: line, Msg: fmt.Sprintf(format, args...)}
}

var (
	// yamlLine finds the line in the YAML library's messages: "yaml: line 3: …".
	yamlLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^yaml: line (\d+): (.*)$`) })
	// starPattern finds an unquoted pattern that starts with "*".
	starPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(^|[-:\[,]\s*)\*`) })
)

// yamlError turns the YAML library's error into PATH:LINE: message. A
// pattern that starts with "*" reads as an alias to YAML and fails with a
// puzzling message; the error says to quote it.
func (p parser) yamlError(err error, src []byte) error {
	msg := err.Error()
	m := yamlLine().FindStringSubmatch(msg)
	if m == nil {
		return &Error{Path: p.path, Msg: strings.TrimPrefix(msg, "yaml: ")}
	}
	line, _ := strconv.Atoi(m[1])
	msg = m[2]
	lines := strings.Split(string(src), "\n")
	for _, ln := range []int{line, line - 1} {
		if ln >= 1 && ln <= len(lines) && starPattern().MatchString(lines[ln-1]) {
			msg += ` (a pattern that starts with "*" must be quoted: "*.tmpl")`
			break
		}
	}
	return p.errorf(line, "%s", msg)
}

// mapping calls fn for each key of a mapping node, in order, rejecting
// duplicate and non-string keys.
func (p parser) mapping(m *yaml.Node, fn func(key string, k, v *yaml.Node) error) error {
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := resolve(m.Content[i]), resolve(m.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			return p.errorf(k.Line, "a key must be a plain name, not a %s", kindName(k))
		}
		if line, ok := seen[k.Value]; ok {
			return p.errorf(k.Line, "key %q given twice (first at line %d)", k.Value, line)
		}
		seen[k.Value] = k.Line
		if err := fn(k.Value, k, v); err != nil {
			return err
		}
	}
	return nil
}

// setting reads one key of Settings; any other key is unknown.
func (p parser) setting(key string, k, v *yaml.Node, s *Settings) error {
	var err error
	switch key {
	case "enable", "disable":
		list, err := p.names(key, v, func(n *yaml.Node) error {
			if !rewrite.Known(rules.All(), n.Value) {
				return p.errorf(n.Line, "%s: unknown rule %q (see 'dfopt rules')", key, n.Value)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if list == nil {
			list = []string{} // set, if to nothing
		}
		if key == "enable" {
			s.Enable = list
		} else {
			s.Disable = list
		}
	case "propose":
		s.Propose, err = p.boolean(key, v)
	case "cache-mounts":
		s.CacheMounts, err = p.boolean(key, v)
	case "dockerignore":
		s.Dockerignore, err = p.boolean(key, v)
	case "merge":
		var m string
		if m, err = p.scalar(key, v, "small, all or none"); err == nil {
			if !slices.Contains(MergeValues, m) {
				return p.errorf(v.Line, "merge: unknown value %q: use small, all or none", m)
			}
			s.Merge = &m
		}
	case "large-file":
		var text string
		if text, err = p.scalar(key, v, "a size such as 10MB"); err == nil {
			size, serr := rules.ParseSize(text)
			if serr != nil {
				return p.errorf(v.Line, "large-file: %v", serr)
			}
			s.LargeFile = &size
		}
	default:
		return p.errorf(k.Line, "unknown key %q", key)
	}
	return err
}

// overrides reads the list of per-path settings.
func (p parser) overrides(v *yaml.Node, f *File) error {
	if isNull(v) {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		return p.errorf(v.Line, "overrides: want a list of entries (- files: [...]), not a %s", kindName(v))
	}
	for _, e := range v.Content {
		e = resolve(e)
		if e.Kind != yaml.MappingNode {
			return p.errorf(e.Line, "overrides: an entry is a mapping (files: [...] and settings), not a %s", kindName(e))
		}
		o := Override{Line: e.Line}
		err := p.mapping(e, func(key string, k, v *yaml.Node) error {
			switch key {
			case "files":
				patterns, m, err := p.patterns(key, v)
				o.Files, o.files = patterns, m
				return err
			case "exclude", "fail-on", "overrides":
				return p.errorf(k.Line, "%s is not allowed in overrides: give it at the top level", key)
			}
			return p.setting(key, k, v, &o.Settings)
		})
		if err != nil {
			return err
		}
		if len(o.Files) == 0 {
			return p.errorf(e.Line, "overrides: an entry needs files: the patterns of the paths it applies to")
		}
		f.Overrides = append(f.Overrides, o)
	}
	return nil
}

// names reads a list of names: a sequence of strings, or one string of
// names separated by commas, as the flags take them. check vets each.
func (p parser) names(key string, v *yaml.Node, check func(*yaml.Node) error) ([]string, error) {
	items, err := p.strings(key, v)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range items {
		for _, name := range strings.Split(n.Value, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			if err := check(&yaml.Node{Value: name, Line: n.Line}); err != nil {
				return nil, err
			}
			out = append(out, name)
		}
	}
	return out, nil
}

// patterns reads a list of path patterns, each checked and cleaned as a
// .dockerignore pattern is (a leading "/" means the file's folder too).
func (p parser) patterns(key string, v *yaml.Node) ([]string, *patternmatcher.PatternMatcher, error) {
	items, err := p.strings(key, v)
	if err != nil {
		return nil, nil, err
	}
	var out []string
	for _, n := range items {
		pat := strings.TrimSpace(n.Value)
		neg := strings.HasPrefix(pat, "!")
		body := strings.TrimPrefix(strings.TrimPrefix(pat, "!"), "/")
		if strings.TrimSpace(body) == "" {
			return nil, nil, p.errorf(n.Line, "%s: empty pattern", key)
		}
		if neg {
			body = "!" + body
		}
		if _, err := patternmatcher.New([]string{body}); err != nil {
			return nil, nil, p.errorf(n.Line, "%s: bad pattern %q: %v", key, n.Value, err)
		}
		out = append(out, body)
	}
	if len(out) == 0 {
		return nil, nil, nil
	}
	m, err := patternmatcher.New(out)
	if err != nil {
		return nil, nil, p.errorf(v.Line, "%s: %v", key, err)
	}
	return out, m, nil
}

// strings reads a sequence of string scalars, or a single one.
func (p parser) strings(key string, v *yaml.Node) ([]*yaml.Node, error) {
	switch {
	case isNull(v):
		return nil, nil
	case v.Kind == yaml.ScalarNode && v.Tag == "!!str":
		return []*yaml.Node{v}, nil
	case v.Kind != yaml.SequenceNode:
		return nil, p.errorf(v.Line, "%s: want a list of strings, not a %s", key, kindName(v))
	}
	var out []*yaml.Node
	for _, n := range v.Content {
		n = resolve(n)
		if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
			return nil, p.errorf(n.Line, "%s: want a string, not a %s", key, kindName(n))
		}
		out = append(out, n)
	}
	return out, nil
}

// boolean reads true or false.
func (p parser) boolean(key string, v *yaml.Node) (*bool, error) {
	if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" {
		return nil, p.errorf(v.Line, "%s: want true or false, not %s", key, describe(v))
	}
	var b bool
	if err := v.Decode(&b); err != nil {
		return nil, p.errorf(v.Line, "%s: %v", key, err)
	}
	return &b, nil
}

// scalar reads a string, a number or a word; want says what is expected.
func (p parser) scalar(key string, v *yaml.Node, want string) (string, error) {
	if v.Kind != yaml.ScalarNode || isNull(v) {
		return "", p.errorf(v.Line, "%s: want %s, not %s", key, want, describe(v))
	}
	return strings.TrimSpace(v.Value), nil
}

// resolve follows an alias (*name) to the node it stands for.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// kindName names a node's kind in messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	switch n.Tag {
	case "!!str":
		return "string"
	case "!!int", "!!float":
		return "number"
	case "!!bool":
		return "boolean"
	case "!!null":
		return "null"
	}
	return "value"
}

// describe shows a scalar's text, or the kind of anything else.
func describe(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		return strconv.Quote(n.Value)
	}
	return "a " + kindName(n)
}
