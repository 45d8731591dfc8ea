package rules

import (
	"strings"
	"testing"

	"github.com/dfopt/dfopt/internal/runmodel"
	"github.com/dfopt/dfopt/rewrite"
)

// TestRemoveCommand takes the command "drop me" out of RUNs laid out in the
// ways Dockerfiles write them and checks what is left, or that it is left alone.
func TestRemoveCommand(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"first of a chain", "RUN drop me && a && b\n", "RUN a && b\n"},
		{"middle of a chain", "RUN a && drop me && b\n", "RUN a && b\n"},
		{"last of a chain", "RUN a && drop me\n", "RUN a\n"},
		{"leading && layout, first",
			"RUN drop me \\\n    && a \\\n    && b\n",
			"RUN a \\\n    && b\n"},
		{"leading && layout, last",
			"RUN a \\\n    && b \\\n    && drop me\n",
			"RUN a \\\n    && b\n"},
		{"trailing && layout, middle",
			"RUN a && \\\n    drop me && \\\n    b\n",
			"RUN a && \\\n    b\n"},
		{"trailing && layout, first",
			"RUN drop me && \\\n    a\n",
			"RUN a\n"},
		{"comment above the next command stays",
			"RUN drop me \\\n    # about a\n    && a\n",
			"RUN \\\n    # about a\n    a\n"},
		{"comment above the removed command goes",
			"RUN a \\\n    # about drop\n    && drop me\n",
			"RUN a\n"},
		{"list, first", "RUN drop me; a; b\n", "RUN a; b\n"},
		{"list, last", "RUN a; b; drop me\n", "RUN a; b\n"},
		{"list, last with ;", "RUN a; drop me;\n", "RUN a\n"},
		{"chain in a list", "RUN set -e; drop me && a; b\n", "RUN set -e; a; b\n"},
		{"trailing comment", "RUN a && drop me # note\n", "RUN a # note\n"},
		{"alone", "RUN drop me\n", ""},
		{"in ||", "RUN drop me || a\n", ""},
		{"in a pipe", "RUN drop me | a\n", ""},
		{"in if", "RUN if x; then drop me; fi && a\n", ""},
		{"in a subshell", "RUN (drop me) && a\n", ""},
		{"redirected", "RUN drop me >/dev/null && a\n", ""},
		{"negated", "RUN ! drop me && a\n", ""},
		{"background before", "RUN a & drop me\n", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := "FROM alpine\n" + c.in
			d, err := rewrite.Parse("x", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			in := d.Instructions[1]
			drop := commandNamed(t, d, in, "drop")
			edits, ok := removeCommand(d, in, drop.Call)
			if !ok {
				if c.want != "" {
					t.Fatalf("not removed; want %q", c.want)
				}
				return
			}
			if c.want == "" {
				t.Fatalf("removed, want it left alone: %q", applyEditsForTest(src, edits))
			}
			if got := strings.TrimPrefix(applyEditsForTest(src, edits), "FROM alpine\n"); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// commandNamed finds the command of a RUN with that name.
func commandNamed(t *testing.T, d *rewrite.Document, in *rewrite.Instruction, name string) *runmodel.Cmd {
	t.Helper()
	for _, c := range runmodel.Of(d).Run(in).Cmds {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no command named %s", name)
	return nil
}

// TestPrependCommand puts "pre" in front of the command "x" and checks that
// the && and || list around it keeps its precedence.
func TestPrependCommand(t *testing.T) {
	cases := []struct{ in, want string }{
		{"RUN x y", "RUN pre && x y"},
		{"RUN a && x y", "RUN a && pre && x y"},
		{"RUN dpkg -i x.deb || x -f install", "RUN dpkg -i x.deb || { pre && x -f install; }"},
		{"RUN a || x; b", "RUN a || { pre && x; }; b"},
		{"RUN x || true", "RUN pre && x || true"},
		{"RUN a | x", "RUN pre && a | x"},
		{"RUN ! x", "RUN pre && ! x"},
		{"RUN if a; then x; fi", "RUN if a; then pre && x; fi"},
		{"RUN (a || x)", "RUN (a || { pre && x; })"},
		{"RUN sudo -E x y", "RUN sudo -E pre && sudo -E x y"},
		{"RUN A=1 x y", "RUN A=1 pre && A=1 x y"},
		{"RUN echo $(x)", ""},
		{"RUN echo y | xargs x", ""},
		{"RUN sh -c 'x'", ""},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			src := "FROM alpine\n" + c.in + "\n"
			d, err := rewrite.Parse("x", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			in := d.Instructions[1]
			edits, ok := prependCommand(in, commandNamed(t, d, in, "x"), "pre")
			if !ok {
				if c.want != "" {
					t.Fatalf("not put in front; want %q", c.want)
				}
				return
			}
			got := strings.TrimSuffix(strings.TrimPrefix(applyEditsForTest(src, edits), "FROM alpine\n"), "\n")
			if got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// applyEditsForTest applies edits given in source order.
func applyEditsForTest(src string, edits []rewrite.Edit) string {
	for i := len(edits) - 1; i >= 0; i-- {
		e := edits[i]
		src = src[:e.Start] + e.New + src[e.End:]
	}
	return src
}
