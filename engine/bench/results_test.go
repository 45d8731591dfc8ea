package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dfopt/dfopt/engine/verify"
)

// TestResults checks results.json's fields and RESULTS.md's figures on a
// made-up report of two apps.
func TestResults(t *testing.T) {
	yes, no := true, false
	img := func(bytes int64, build, rebuild float64) *verify.Image {
		return &verify.Image{Bytes: bytes << 20, GzipBytes: bytes << 19, Layers: 3, BuildS: build, RebuildS: rebuild}
	}
	var rows []row
	rows = append(rows, rowsOf("api", &verify.Report{Touched: "main.go", Results: []verify.Result{
		{Variant: verify.Original, Image: img(100, 10, 8)},
		{Variant: verify.Safe, Changed: true, Rules: []string{"apt-hygiene"}, Equal: &yes, Image: img(80, 9, 2), ByRules: []verify.Diff{{What: "x", Rule: "apt-hygiene"}}},
		{Variant: verify.Propose, Changed: true, Rules: []string{"multi-stage"}, Equal: &no, Image: img(10, 12, 4), Differs: []verify.Diff{{What: "/app: only in before"}}},
	}})...)
	rows = append(rows, rowsOf("control", &verify.Report{Results: []verify.Result{
		{Variant: verify.Original, Image: img(50, 5, 0)},
		{Variant: verify.Safe, Equal: &yes, Image: img(50, 5, 0)},
		{Variant: verify.Propose, Error: "exit code 1", Equal: &no},
	}})...)
	dir := t.TempDir()
	if err := writeJSON(filepath.Join(dir, "results.json"), rows); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "results.json"))
	var got []map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 6 {
		t.Fatalf("%d rows", len(got))
	}
	for _, key := range []string{"app", "variant", "bytes", "gzip_bytes", "layers", "build_s", "rebuild_s", "equal"} {
		for _, r := range got {
			if _, ok := r[key]; !ok {
				t.Errorf("row %v lacks %s", r, key)
			}
		}
	}
	if got[0]["equal"] != nil || got[1]["equal"] != true || got[2]["equal"] != false {
		t.Errorf("equal: %v %v %v", got[0]["equal"], got[1]["equal"], got[2]["equal"])
	}
	md := markdown(rows, time.Minute)
	for _, want := range []string{
		"| api | 100.0 MiB → 80.0 MiB (-20.0%) | 50.0 MiB → 40.0 MiB (-20.0%) | 3 → 3 | 10.0s → 9.0s | 8.0s → 2.0s (-75.0%) | yes (1 by rules) | apt-hygiene |",
		"| control | 50.0 MiB → 50.0 MiB (+0.0%)",
		"yes, unchanged",
		"- median size -10.0%, gzip -10.0%; total 150.0 MiB → 130.0 MiB (-13.3%)",
		"- median cold build -5.0%, rebuild after an edit -75.0%",
		"- built 2 of 2; same image (or differing only as the applied rules say) 2 of 2",
		"| api | 100.0 MiB → 10.0 MiB (-90.0%)",
		"| control | | | | | | build failed, unchanged |",
		"- built 1 of 2; same image (or differing only as the applied rules say) 0 of 2",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("RESULTS.md lacks %q:\n%s", want, md)
		}
	}
}

func TestMergeRows(t *testing.T) {
	old := []row{{App: "a", Variant: "original"}, {App: "b", Variant: "original", Bytes: 1}, {App: "c", Variant: "original"}}
	fresh := []row{{App: "b", Variant: "original", Bytes: 2}, {App: "b", Variant: "dfopt"}}
	got := mergeRows(old, fresh)
	var keys []string
	for _, r := range got {
		keys = append(keys, r.App+"/"+r.Variant)
	}
	if strings.Join(keys, " ") != "a/original b/original b/dfopt c/original" || got[1].Bytes != 2 {
		t.Errorf("merged %v", got)
	}
}
