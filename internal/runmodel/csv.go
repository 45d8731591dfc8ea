package runmodel

import (
	"encoding/csv"
	"strings"
)

// csvFields splits a --mount value as BuildKit does: one CSV record.
func csvFields(s string) ([]string, error) {
	r := csv.NewReader(strings.NewReader(s))
	r.LazyQuotes = false
	return r.Read()
}
