package rules_test

import (
	"strings"
	"testing"

	"github.com/dfopt/dfopt/rewrite"
	"github.com/dfopt/dfopt/rules"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"1": 1, "512k": 512 << 10, "512K": 512 << 10, "10MB": 10 << 20, "10mib": 10 << 20,
		"1G": 1 << 30, "1.5M": 3 << 19, " 2 kB ": 2 << 10, "100b": 100,
	} {
		got, err := rules.ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "ten", "10XB", "1e3", "k", "99999999T"} {
		if got, err := rules.ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, got)
		}
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 10 << 20: "10.0 MiB", 3 << 30: "3.0 GiB"} {
		if got := rules.FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestDataInImage(t *testing.T) {
	big := strings.Repeat("x", 2000)
	for _, tc := range []struct {
		name, dockerfile string
		files            map[string]string
		want             string // "" for no finding
	}{{
		name:       "a large file anywhere, data outside packages",
		dockerfile: "FROM node:22\nCOPY . /app\n",
		files:      map[string]string{"node_modules/p/big.node": big, "node_modules/p/t.csv": big[:500], "d/t.csv": big[:500]},
		want:       "COPY puts large files or data in the image: node_modules/p/big.node (2.0 KiB), d/t.csv (500 B), 2.4 KiB in all;",
	}, {
		name:       "--exclude and .git keep files out",
		dockerfile: "# syntax=docker/dockerfile:1.7-labs\nFROM alpine\nCOPY --exclude=*.csv . /app\n",
		files:      map[string]string{"t.csv": big, ".git/objects/pack/p.pack": big},
	}, {
		name:       "a builder stage does not ship",
		dockerfile: "FROM alpine AS data\nCOPY . /data\nFROM alpine\nCOPY --from=data /data/t.csv.sum /\n",
		files:      map[string]string{"t.csv": big},
	}, {
		name:       "more than five files",
		dockerfile: "FROM alpine\nCOPY *.csv /data/\n",
		files:      map[string]string{"a.csv": big, "b.csv": big, "c.csv": big, "d.csv": big, "e.csv": big, "f.csv": big, "g.csv": big},
		want:       "e.csv (2.0 KiB) (+2 more), 13.7 KiB in all; mount them as a volume or fetch them at start-up instead",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			tc.files["Dockerfile"] = tc.dockerfile
			dir := writeContext(t, tc.files)
			res := runInContext(t, dir, rewrite.Options{LargeFile: 1500}, rules.DataInImage)
			got := messages(res)
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
				t.Errorf("findings:\n%s\nwant %q", got, tc.want)
			}
		})
	}
}
