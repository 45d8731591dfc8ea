package main

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestWriteSameAsOneByOne checks what a -w run over folders keeps of its
// build contexts from one write to the next (rewrite.SharedKeep): the run
// must leave every file as running dfopt -w on each file in turn, each in a
// process of its own that reads everything afresh, leaves it, and print
// the same findings. The corpus files share three contexts (a .dockerignore,
// a .env and .git, a .dfopt.yaml); with --dockerignore the runs also write
// ignore files, which adds paths.
func TestWriteSameAsOneByOne(t *testing.T) {
	files := corpusFiles(t)
	layout := threeContexts()
	var names []string
	for i, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := []string{"a", "b", "c"}[i%3] + "/" + filepath.Base(path)
		layout[name] = string(src)
		names = append(names, name)
	}
	slices.Sort(names) // the order a walk of the folders takes
	for _, flags := range [][]string{{"-w"}, {"-w", "--dockerignore", "--fmt"}} {
		whole, each := t.TempDir(), t.TempDir()
		writeFiles(t, whole, layout)
		writeFiles(t, each, layout)
		var wholeErr, eachErr bytes.Buffer
		t.Chdir(whole)
		run(append(slices.Clone(flags), "a", "b", "c"), strings.NewReader(""), io.Discard, &wholeErr)
		t.Chdir(each)
		for _, name := range names {
			run(append(slices.Clone(flags), name), strings.NewReader(""), io.Discard, &eachErr)
		}
		if wholeErr.String() != eachErr.String() {
			t.Errorf("dfopt %s: the findings of one run differ from those of a run for each file", strings.Join(flags, " "))
		}
		if wholeErr.Len() == 0 {
			t.Errorf("dfopt %s printed no finding: the test sees nothing", strings.Join(flags, " "))
		}
		changed := 0
		err := filepath.WalkDir(whole, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(whole, p)
			got, _ := os.ReadFile(p)
			want, err := os.ReadFile(filepath.Join(each, rel))
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("dfopt %s: %s differs from the run for each file", strings.Join(flags, " "), rel)
			}
			if layout[filepath.ToSlash(rel)] != string(got) {
				changed++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if changed < 10 {
			t.Errorf("dfopt %s changed %d files: the test sees too little", strings.Join(flags, " "), changed)
		}
	}
}
