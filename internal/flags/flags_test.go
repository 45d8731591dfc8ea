package flags

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// table is testdata/parse.json: a set of flags and command lines with what
// parsing them gives. engine/internal/flagscompat runs pflag on the same
// table, so what this test holds Parse to is pflag's behaviour.
type table struct {
	Flags []flagDef `json:"flags"`
	Cases []struct {
		Args []string                   `json:"args"`
		Set  map[string]json.RawMessage `json:"set"`  // the flags changed, and their values
		Rest []string                   `json:"rest"` // the arguments left
		Err  string                     `json:"err"`
	} `json:"cases"`
}

// flagDef is a flag of the table.
type flagDef struct {
	Name    string          `json:"name"`
	Short   string          `json:"short"`
	Type    string          `json:"type"` // bool, string or strings
	Default json.RawMessage `json:"default"`
	Usage   string          `json:"usage"`
	Want    [2]string       `json:"want"` // what UnquoteUsage returns
}

func readTable(t *testing.T) *table {
	t.Helper()
	data, err := os.ReadFile("testdata/parse.json")
	if err != nil {
		t.Fatal(err)
	}
	var tab table
	if err := json.Unmarshal(data, &tab); err != nil {
		t.Fatalf("testdata/parse.json: %v", err)
	}
	return &tab
}

// newSet defines the table's flags; values holds where each one's value is.
func (tab *table) newSet(t *testing.T) (s *Set, values map[string]any) {
	s = &Set{}
	values = map[string]any{}
	for _, f := range tab.Flags {
		switch f.Type {
		case "bool":
			var def bool
			mustUnmarshal(t, f.Default, &def)
			values[f.Name] = s.BoolP(f.Name, f.Short, def, f.Usage)
		case "string":
			var def string
			mustUnmarshal(t, f.Default, &def)
			if f.Short != "" {
				t.Fatalf("--%s: string flags have no shorthand here", f.Name)
			}
			values[f.Name] = s.String(f.Name, def, f.Usage)
		case "strings":
			var def []string
			mustUnmarshal(t, f.Default, &def)
			values[f.Name] = s.StringSlice(f.Name, def, f.Usage)
		default:
			t.Fatalf("--%s: unknown type %q", f.Name, f.Type)
		}
	}
	return s, values
}

func mustUnmarshal(t *testing.T, data json.RawMessage, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
}

// sameJSON tells whether two JSON texts hold the same value.
func sameJSON(t *testing.T, a, b []byte) bool {
	var va, vb any
	mustUnmarshal(t, a, &va)
	mustUnmarshal(t, b, &vb)
	ca, _ := json.Marshal(va)
	cb, _ := json.Marshal(vb)
	return string(ca) == string(cb)
}

func TestParse(t *testing.T) {
	tab := readTable(t)
	if len(tab.Cases) < 50 {
		t.Fatalf("testdata/parse.json: %d cases, too few to be the table", len(tab.Cases))
	}
	for _, c := range tab.Cases {
		t.Run(fmt.Sprintf("%q", c.Args), func(t *testing.T) {
			s, values := tab.newSet(t)
			err := s.Parse(c.Args)
			if c.Err != "" {
				if err == nil || err.Error() != c.Err {
					t.Fatalf("Parse: error %v, want %q", err, c.Err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !slices.Equal(s.Args(), c.Rest) || s.NArg() != len(c.Rest) {
				t.Errorf("Args() = %q, NArg() = %d, want %q", s.Args(), s.NArg(), c.Rest)
			}
			for i, a := range c.Rest {
				if s.Arg(i) != a {
					t.Errorf("Arg(%d) = %q, want %q", i, s.Arg(i), a)
				}
			}
			for _, f := range tab.Flags {
				got, _ := json.Marshal(values[f.Name])
				want, set := c.Set[f.Name]
				if !set {
					want = f.Default
				}
				if s.Changed(f.Name) != set {
					t.Errorf("Changed(%q) = %v, want %v", f.Name, s.Changed(f.Name), set)
				}
				if s.Lookup(f.Name).Changed != set {
					t.Errorf("Lookup(%q).Changed = %v, want %v", f.Name, s.Lookup(f.Name).Changed, set)
				}
				if !sameJSON(t, got, want) {
					t.Errorf("--%s = %s, want %s", f.Name, got, want)
				}
			}
			for name := range c.Set {
				if s.Lookup(name) == nil {
					t.Errorf("the case sets --%s, which the table does not define", name)
				}
			}
		})
	}
}

// TestParseGoTestFlags checks a case where dfopt does not do as pflag does:
// pflag drops a word that starts with -test. (a go test flag) silently;
// to dfopt it is a mistake to report.
func TestParseGoTestFlags(t *testing.T) {
	s, _ := readTable(t).newSet(t)
	err := s.Parse([]string{"-test.v", "Dockerfile"})
	if want := "unknown shorthand flag: 't' in -test.v"; err == nil || err.Error() != want {
		t.Errorf("Parse: error %v, want %q", err, want)
	}
}

func TestVisitAllAndUsage(t *testing.T) {
	tab := readTable(t)
	s, _ := tab.newSet(t)
	var names []string
	s.VisitAll(func(f *Flag) {
		names = append(names, f.Name)
		i := slices.IndexFunc(tab.Flags, func(d flagDef) bool { return d.Name == f.Name })
		want := tab.Flags[i]
		if f.Shorthand != want.Short || f.Usage != want.Usage || f.IsBool() != (want.Type == "bool") {
			t.Errorf("--%s: shorthand %q, usage %q, IsBool %v; want %q, %q, type %s", f.Name, f.Shorthand, f.Usage, f.IsBool(), want.Short, want.Usage, want.Type)
		}
		if name, usage := f.UnquoteUsage(); name != want.Want[0] || usage != want.Want[1] {
			t.Errorf("--%s: UnquoteUsage() = %q, %q; want %q, %q", f.Name, name, usage, want.Want[0], want.Want[1])
		}
	})
	var want []string
	for _, f := range tab.Flags {
		want = append(want, f.Name)
	}
	if !slices.Equal(names, want) {
		t.Errorf("VisitAll visits %q, want the order of definition %q", names, want)
	}
}

func TestGetBool(t *testing.T) {
	s := &Set{}
	s.Bool("propose", false, "")
	s.BoolVar(new(bool), "cache-mounts", true, "")
	s.String("merge", "", "")
	if err := s.Parse([]string{"--propose"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		want bool
		err  string
	}{
		{"propose", true, ""},
		{"cache-mounts", true, ""},
		{"merge", false, "flag --merge is not a boolean"},
		{"nope", false, "flag accessed but not defined: nope"},
	} {
		got, err := s.GetBool(c.name)
		errText := ""
		if err != nil {
			errText = err.Error()
		}
		if got != c.want || errText != c.err {
			t.Errorf("GetBool(%q) = %v, %v; want %v, %q", c.name, got, err, c.want, c.err)
		}
	}
	if s.Arg(0) != "" || s.Arg(-1) != "" || s.Changed("nope") {
		t.Errorf("Arg(0) = %q, Arg(-1) = %q, Changed(nope) = %v: want \"\", \"\", false", s.Arg(0), s.Arg(-1), s.Changed("nope"))
	}
}

func TestDefineTwicePanics(t *testing.T) {
	for _, c := range []struct {
		name string
		def  func(s *Set)
	}{
		{"same name", func(s *Set) { s.Bool("write", false, "") }},
		{"same shorthand", func(s *Set) { s.BoolP("wide", "w", false, "") }},
		{"long shorthand", func(s *Set) { s.BoolP("wide", "wi", false, "") }},
		{"empty name", func(s *Set) { s.Bool("", false, "") }},
		{"shorthand of a string", func(s *Set) { s.define(new(stringValue), "output", "o", "") }},
		{"name with =", func(s *Set) { s.Bool("a=b", false, "") }},
		{"name with a dash first", func(s *Set) { s.Bool("-a", false, "") }},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &Set{}
			s.BoolP("write", "w", false, "")
			defer func() {
				if v := recover(); v == nil || !strings.HasPrefix(fmt.Sprint(v), "flags: ") {
					t.Errorf("recover() = %v, want a panic of package flags", v)
				}
			}()
			c.def(s)
		})
	}
}
