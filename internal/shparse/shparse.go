// Package shparse parses shell programs the way dfopt reads every RUN: in
// bash syntax (a superset of POSIX sh, so that what bash accepts is read
// and not taken for an error), comments kept. Its parsers are kept and used
// again, since mvdan/sh's parser is a large value and a file's RUNs are
// many small programs.
package shparse

import (
	"strings"
	"sync"

	"mvdan.cc/sh/v3/syntax"
)

// parsers holds parsers not in use.
var parsers = sync.Pool{New: func() any {
	return syntax.NewParser(syntax.KeepComments(true), syntax.Variant(syntax.LangBash))
}}

// Parse parses one program; positions in the tree are offsets in text.
func Parse(text string) (*syntax.File, error) {
	p := parsers.Get().(*syntax.Parser)
	defer parsers.Put(p)
	return p.Parse(strings.NewReader(text), "")
}
