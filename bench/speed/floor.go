//go:build ignore

// floor.go is the start-up floor of any tool built on BuildKit's Dockerfile
// parser: it links only BuildKit's parser and instructions packages (what
// dfopt needs to read a Dockerfile as BuildKit does), reads the file named
// by its argument and turns it into typed commands, and prints nothing.
// run.sh builds it inside a copy of dfopt's module, so that it links the
// same versions, and times it beside dfopt and a Go hello-world.
package main

import (
	"os"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

func main() {
	f, err := os.Open(os.Args[1])
	if err != nil {
		os.Exit(2)
	}
	res, err := parser.Parse(f)
	if err != nil {
		os.Exit(2)
	}
	if _, _, err := instructions.Parse(res.AST, nil); err != nil {
		os.Exit(2)
	}
}
