// Package links keeps short names for long URLs.
package links

import (
	"errors"
	"net/url"
	"sort"
	"sync"
)

// ErrBadURL is returned for a target that is not an absolute http(s) URL.
var ErrBadURL = errors.New("links: want an absolute http or https URL")

// Table maps short names to URLs; it is safe for concurrent use.
type Table struct {
	mu    sync.RWMutex
	links map[string]string
}

// New returns a table holding the given links.
func New(initial map[string]string) *Table {
	t := &Table{links: map[string]string{}}
	for name, target := range initial {
		t.links[name] = target
	}
	return t
}

// Set names target; it replaces what the name pointed to.
func (t *Table) Set(name, target string) error {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ErrBadURL
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.links[name] = target
	return nil
}

// Get returns the URL a name points to.
func (t *Table) Get(name string) (string, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	target, ok := t.links[name]
	return target, ok
}

// Names lists the names, sorted.
func (t *Table) Names() []string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	names := make([]string, 0, len(t.links))
	for name := range t.links {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
