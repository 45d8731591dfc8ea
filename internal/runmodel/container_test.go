package runmodel

import (
	"slices"
	"testing"
)

func TestCommand(t *testing.T) {
	tests := []struct {
		words        []string
		shell, posix bool
		names        []string // the commands' names, opaque ones included
		opaque       bool
	}{
		{[]string{"curl", "-f", "http://localhost/"}, false, true, []string{"curl"}, false},
		{[]string{"curl -f http://localhost/ || exit 1"}, true, true, []string{"curl", "exit"}, false},
		{[]string{"sh", "-c", "wget -qO- localhost && echo ok"}, false, true, []string{"wget", "echo"}, false},
		{[]string{"python", "app.py"}, false, true, []string{"python"}, true},
		{[]string{"gosu", "app", "node", "server.js"}, false, true, []string{"node"}, true},
		{[]string{"./entrypoint.sh"}, false, true, []string{"entrypoint.sh"}, true},
		{[]string{"curl localhost"}, true, false, nil, true},
		{nil, false, true, nil, false},
	}
	for _, tt := range tests {
		r := Command(tt.words, tt.shell, tt.posix)
		var names []string
		for _, c := range r.Cmds {
			if c.Name != "" {
				names = append(names, c.Name)
			}
		}
		if !slices.Equal(names, tt.names) {
			t.Errorf("Command(%q, %v): names %q, want %q", tt.words, tt.shell, names, tt.names)
		}
		if op, _ := r.Opaque(); op != tt.opaque {
			t.Errorf("Command(%q, %v): opaque %v, want %v", tt.words, tt.shell, op, tt.opaque)
		}
	}
}
