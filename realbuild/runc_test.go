package realbuild

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The tests that run images (TestMultiStage runs programs, TestStaticSite
// serves sites) do with Debian's runc what docker run did: each container is
// a bundle of its own, the image's file system unpacked from the store and
// a runtime configuration made from `runc spec`, with the image's command,
// environment, working folder and user, a network namespace of its own with
// only loopback (docker run --network none), the capabilities docker gives
// by default, and /etc/hosts and /etc/hostname as docker writes them. Every
// container is deleted by its ID when it is done.

// containerHostname is every container's host name.
const containerHostname = "dfopt-realbuild"

// container is one runc container of an image.
type container struct {
	e      *engine
	id     string
	bundle string
	pid    int      // a detached container's process
	log    *os.File // a detached container's output
}

// runOptions say how a container differs from the image's defaults.
type runOptions struct {
	args     []string // replaces the image's Cmd, as docker run IMAGE ARGS...
	netnsPID int      // joins that process's network namespace (docker run --network container:) instead of a new one
}

// newContainer makes the bundle of a container of image.
func (e *engine) newContainer(ctx context.Context, image string, opts runOptions) (*container, error) {
	if e.runc == "" {
		return nil, errNoRunc
	}
	id, err := e.imageID(image)
	if err != nil {
		return nil, err
	}
	info, err := e.inspect(id)
	if err != nil {
		return nil, err
	}
	var suffix [6]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		return nil, err
	}
	c := &container{e: e, id: "dfopt-realbuild-" + hex.EncodeToString(suffix[:])}
	if c.bundle, err = os.MkdirTemp(e.store.dir, "container-"); err != nil {
		return nil, err
	}
	rootfs := filepath.Join(c.bundle, "rootfs")
	err = os.Mkdir(rootfs, 0o755)
	if err == nil {
		start := time.Now()
		err = e.store.unpack(id, rootfs)
		e.count(func(c *engineCosts) { c.unpacks++; c.unpack += time.Since(start) })
	}
	if err == nil {
		err = writeRuntimeConfig(ctx, e.runc, c.bundle, info.Config, opts)
	}
	if err != nil {
		os.RemoveAll(c.bundle)
		return nil, fmt.Errorf("container of %s: %w", image, err)
	}
	return c, nil
}

// runc runs one runc command on the tests' own state folder, apart from
// the daemon's containers.
func (c *container) runc(ctx context.Context, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, c.e.runc, append([]string{"--root", filepath.Join(c.e.store.dir, "runc")}, args...)...)
}

// remove deletes the container, running or not, and its bundle.
func (c *container) remove() {
	_ = c.runc(context.Background(), "delete", "-f", c.id).Run()
	if c.log != nil {
		c.log.Close()
	}
	os.RemoveAll(c.bundle)
}

// runImage runs a container of image in the foreground, as docker run
// --rm --network none, with its standard output and error going to stdout
// and stderr (which may be one writer), and returns its exit code.
func (e *engine) runImage(ctx context.Context, image string, opts runOptions, stdout, stderr io.Writer) (int, error) {
	c, err := e.newContainer(ctx, image, opts)
	if err != nil {
		return 0, err
	}
	defer c.remove()
	// runc's own words where it cannot start the process are on its
	// standard error, before any of the process's.
	var runcSays bytes.Buffer
	cmd := c.runc(ctx, "run", "--bundle", c.bundle, c.id)
	cmd.Stdout, cmd.Stderr = stdout, io.MultiWriter(stderr, &runcSays)
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case strings.Contains(runcSays.String(), "runc run failed"):
		return 0, fmt.Errorf("runc run %s: %s", image, strings.TrimSpace(runcSays.String()))
	case errors.As(err, &exit):
		return exit.ExitCode(), nil
	case err != nil:
		return 0, fmt.Errorf("runc run %s: %w", image, err)
	}
	return 0, nil
}

// startImage starts a container of image detached, as docker run -d
// --network none; its output goes to a file that logs reads.
func (e *engine) startImage(ctx context.Context, image string) (*container, error) {
	c, err := e.newContainer(ctx, image, runOptions{})
	if err != nil {
		return nil, err
	}
	if c.log, err = os.Create(filepath.Join(c.bundle, "output")); err != nil {
		c.remove()
		return nil, err
	}
	pidFile := filepath.Join(c.bundle, "pid")
	// A file, not a pipe: the detached process keeps its output open after
	// runc returns.
	cmd := c.runc(ctx, "run", "--detach", "--pid-file", pidFile, "--bundle", c.bundle, c.id)
	cmd.Stdout, cmd.Stderr = c.log, c.log
	if err := cmd.Run(); err != nil {
		out := c.logs()
		c.remove()
		return nil, fmt.Errorf("runc run --detach %s: %w\n%s", image, err, out)
	}
	b, err := os.ReadFile(pidFile)
	if err == nil {
		c.pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	if err != nil {
		c.remove()
		return nil, fmt.Errorf("runc run --detach %s: the process ID: %w", image, err)
	}
	return c, nil
}

// logs is what a detached container printed so far.
func (c *container) logs() string {
	b, _ := os.ReadFile(filepath.Join(c.bundle, "output"))
	return string(b)
}

// runtimeProcess, runtimeMount and runtimeNamespace are the parts of an OCI
// runtime configuration that the tests set; the rest stays as runc spec
// writes it.
type runtimeProcess struct {
	Terminal bool `json:"terminal"`
	User     struct {
		UID            uint32   `json:"uid"`
		GID            uint32   `json:"gid"`
		AdditionalGids []uint32 `json:"additionalGids,omitempty"`
	} `json:"user"`
	Args            []string            `json:"args"`
	Env             []string            `json:"env,omitempty"`
	Cwd             string              `json:"cwd"`
	Capabilities    map[string][]string `json:"capabilities,omitempty"`
	Rlimits         json.RawMessage     `json:"rlimits,omitempty"`
	NoNewPrivileges bool                `json:"noNewPrivileges,omitempty"`
}

type runtimeMount struct {
	Destination string   `json:"destination"`
	Type        string   `json:"type,omitempty"`
	Source      string   `json:"source,omitempty"`
	Options     []string `json:"options,omitempty"`
}

type runtimeNamespace struct {
	Type string `json:"type"`
	Path string `json:"path,omitempty"`
}

// dockerCapabilities are the capabilities docker gives a container's root
// by default (nginx, say, switches to its user with them).
var dockerCapabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
	"CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// writeRuntimeConfig writes the bundle's config.json: runc spec's, with the
// process, root, host name, mounts and network namespace of a container of
// an image whose configuration is cfg, unpacked in bundle/rootfs.
func writeRuntimeConfig(ctx context.Context, runc, bundle string, cfg imageConfig, opts runOptions) error {
	if out, err := exec.CommandContext(ctx, runc, "spec", "--bundle", bundle).CombinedOutput(); err != nil {
		return fmt.Errorf("runc spec: %w: %s", err, out)
	}
	file := filepath.Join(bundle, "config.json")
	var spec map[string]json.RawMessage
	if err := readJSONFile(file, &spec); err != nil {
		return err
	}
	var proc runtimeProcess
	if err := json.Unmarshal(spec["process"], &proc); err != nil {
		return fmt.Errorf("runc spec's process: %w", err)
	}
	rootfs := filepath.Join(bundle, "rootfs")
	if err := containerProcess(&proc, cfg, rootfs, opts.args); err != nil {
		return err
	}
	var mounts []runtimeMount
	if err := json.Unmarshal(spec["mounts"], &mounts); err != nil {
		return fmt.Errorf("runc spec's mounts: %w", err)
	}
	for name, content := range map[string]string{
		"hosts":    "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.0.1\t" + containerHostname + "\n",
		"hostname": containerHostname + "\n",
	} {
		src := filepath.Join(bundle, name)
		if err := os.WriteFile(src, []byte(content), 0o644); err != nil {
			return err
		}
		mounts = append(mounts, runtimeMount{Destination: "/etc/" + name, Type: "bind", Source: src, Options: []string{"rbind", "rprivate"}})
	}
	var linux map[string]json.RawMessage
	if err := json.Unmarshal(spec["linux"], &linux); err != nil {
		return fmt.Errorf("runc spec's linux: %w", err)
	}
	var namespaces []runtimeNamespace
	if err := json.Unmarshal(linux["namespaces"], &namespaces); err != nil {
		return fmt.Errorf("runc spec's namespaces: %w", err)
	}
	if opts.netnsPID != 0 {
		for i := range namespaces {
			if namespaces[i].Type == "network" {
				namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/net", opts.netnsPID)
			}
		}
	}
	set := func(m map[string]json.RawMessage, key string, v any) error {
		b, err := json.Marshal(v)
		m[key] = b
		return err
	}
	err := errors.Join(
		set(linux, "namespaces", namespaces),
		set(spec, "linux", linux),
		set(spec, "process", proc),
		set(spec, "mounts", mounts),
		set(spec, "hostname", containerHostname),
		// Writable, as a container's layer is.
		set(spec, "root", map[string]any{"path": "rootfs", "readonly": false}),
	)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(spec, "", "\t")
	if err != nil {
		return err
	}
	return os.WriteFile(file, b, 0o644)
}

// containerProcess sets what a container of an image runs, as docker run
// does: Entrypoint and Cmd (args replacing Cmd), the image's Env with a
// PATH, HOSTNAME and HOME where it sets none, its working folder (made when
// missing) and its user, looked up in the image's /etc/passwd and
// /etc/group; a user other than root gets the capabilities in its bounding
// set only.
func containerProcess(proc *runtimeProcess, cfg imageConfig, rootfs string, args []string) error {
	if args == nil {
		args = cfg.Cmd
	}
	proc.Args = append(slices.Clone(cfg.Entrypoint), args...)
	if len(proc.Args) == 0 {
		return fmt.Errorf("the image has no command to run")
	}
	proc.Terminal = false
	proc.NoNewPrivileges = false
	u, err := lookupUser(rootfs, cfg.User)
	if err != nil {
		return err
	}
	proc.User.UID, proc.User.GID, proc.User.AdditionalGids = u.uid, u.gid, u.groups
	proc.Env = slices.Clone(cfg.Env)
	if !slices.ContainsFunc(proc.Env, func(s string) bool { return strings.HasPrefix(s, "PATH=") }) {
		proc.Env = append([]string{defaultPath}, proc.Env...)
	}
	proc.Env = append(proc.Env, "HOSTNAME="+containerHostname)
	if !slices.ContainsFunc(proc.Env, func(s string) bool { return strings.HasPrefix(s, "HOME=") }) {
		proc.Env = append(proc.Env, "HOME="+u.home)
	}
	proc.Cwd = cfg.WorkingDir
	if proc.Cwd == "" {
		proc.Cwd = "/"
	}
	if dir := strings.TrimPrefix(filepath.Clean(proc.Cwd), "/"); dir != "" {
		if r, err := os.OpenRoot(rootfs); err == nil {
			if _, err := r.Stat(dir); errors.Is(err, os.ErrNotExist) {
				err = r.MkdirAll(dir, 0o755)
			}
			r.Close()
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("working folder %s: %w", proc.Cwd, err)
			}
		}
	}
	caps := map[string][]string{"bounding": dockerCapabilities}
	if u.uid == 0 {
		caps["effective"], caps["permitted"] = dockerCapabilities, dockerCapabilities
	}
	proc.Capabilities = caps
	return nil
}

// execUser is who a container's process runs as.
type execUser struct {
	uid, gid uint32
	groups   []uint32 // supplementary groups
	home     string
}

// lookupUser resolves an image's USER (name or ID, with an optional
// :group) against its /etc/passwd and /etc/group, as docker run does: a
// name must be there; an ID need not, and then runs with group 0 and home
// /; the user's supplementary groups are those of /etc/group that list its
// name.
func lookupUser(rootfs, spec string) (execUser, error) {
	u := execUser{home: "/"}
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	if userPart == "" {
		userPart = "0"
	}
	passwd := readColonFile(rootfs, "etc/passwd")
	entryOf := func(field int, value string) []string {
		for _, f := range passwd {
			if len(f) >= 6 && f[field] == value {
				return f
			}
		}
		return nil
	}
	var entry []string
	if n, err := strconv.ParseUint(userPart, 10, 32); err == nil {
		u.uid = uint32(n)
		entry = entryOf(2, userPart)
	} else if entry = entryOf(0, userPart); entry == nil {
		return u, fmt.Errorf("unable to find user %s: no matching entries in passwd file", userPart)
	}
	name := ""
	if entry != nil {
		uid, err1 := strconv.ParseUint(entry[2], 10, 32)
		gid, err2 := strconv.ParseUint(entry[3], 10, 32)
		if err1 != nil || err2 != nil {
			return u, fmt.Errorf("passwd entry of %s: %v", userPart, entry)
		}
		u.uid, u.gid, u.home, name = uint32(uid), uint32(gid), entry[5], entry[0]
	}
	groups := readColonFile(rootfs, "etc/group")
	if hasGroup {
		if n, err := strconv.ParseUint(groupPart, 10, 32); err == nil {
			u.gid = uint32(n)
		} else {
			ok := false
			for _, f := range groups {
				if len(f) >= 3 && f[0] == groupPart {
					if n, err := strconv.ParseUint(f[2], 10, 32); err == nil {
						u.gid, ok = uint32(n), true
						break
					}
				}
			}
			if !ok {
				return u, fmt.Errorf("unable to find group %s: no matching entries in group file", groupPart)
			}
		}
	}
	if name != "" {
		for _, f := range groups {
			if len(f) < 4 || !slices.Contains(strings.Split(f[3], ","), name) {
				continue
			}
			if n, err := strconv.ParseUint(f[2], 10, 32); err == nil && !slices.Contains(u.groups, uint32(n)) {
				u.groups = append(u.groups, uint32(n))
			}
		}
	}
	return u, nil
}

// readColonFile reads /etc/passwd or /etc/group of an image, one field
// list a line; a file the image lacks reads as empty.
func readColonFile(rootfs, name string) [][]string {
	r, err := os.OpenRoot(rootfs)
	if err != nil {
		return nil
	}
	defer r.Close()
	b, err := r.ReadFile(name)
	if err != nil {
		return nil
	}
	var out [][]string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, strings.Split(line, ":"))
	}
	return out
}

// TestLookupUser checks, without runc, who an image's USER runs as.
func TestLookupUser(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\napp:x:1000:1000::/home/app:/bin/sh\n",
		"etc/group":  "root:x:0:\nstaff:x:50:app,other\napp:x:1000:\nnogroup:x:65534:\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for spec, want := range map[string]string{
		"":            "0:0 [] /root",
		"app":         "1000:1000 [50] /home/app",
		"1000":        "1000:1000 [50] /home/app",
		"65534":       "65534:65534 [] /nonexistent",
		"4242":        "4242:0 [] /",
		"app:nogroup": "1000:65534 [50] /home/app",
		"app:7":       "1000:7 [50] /home/app",
	} {
		u, err := lookupUser(root, spec)
		if got := fmt.Sprintf("%d:%d %v %s", u.uid, u.gid, u.groups, u.home); err != nil || got != want {
			t.Errorf("lookupUser(%q) = %s, %v; want %s", spec, got, err, want)
		}
	}
	for _, spec := range []string{"ghost", "app:ghosts"} {
		if _, err := lookupUser(root, spec); err == nil {
			t.Errorf("lookupUser(%q): no error", spec)
		}
	}
	// An image without /etc/passwd (FROM scratch) runs a numeric user.
	if u, err := lookupUser(t.TempDir(), "65534"); err != nil || u.uid != 65534 || u.gid != 0 {
		t.Errorf("lookupUser in an empty image = %+v, %v", u, err)
	}
}

// TestContainerProcess checks, without runc, what a container of an image
// runs and with what.
func TestContainerProcess(t *testing.T) {
	root := t.TempDir()
	var p runtimeProcess
	cfg := imageConfig{Entrypoint: []string{"/bin/api"}, Cmd: []string{"--port", "80"}, Env: []string{"GREETING=hi"}, WorkingDir: "/srv/app", User: "65534"}
	if err := containerProcess(&p, cfg, root, nil); err != nil {
		t.Fatal(err)
	}
	if want := []string{"/bin/api", "--port", "80"}; !slices.Equal(p.Args, want) {
		t.Errorf("args %q, want %q", p.Args, want)
	}
	if want := []string{defaultPath, "GREETING=hi", "HOSTNAME=" + containerHostname, "HOME=/"}; !slices.Equal(p.Env, want) {
		t.Errorf("env %q, want %q", p.Env, want)
	}
	if st, err := os.Stat(filepath.Join(root, "srv/app")); err != nil || !st.IsDir() || p.Cwd != "/srv/app" {
		t.Errorf("working folder %s not made: %v", p.Cwd, err)
	}
	if p.User.UID != 65534 || len(p.Capabilities["effective"]) > 0 || len(p.Capabilities["bounding"]) == 0 {
		t.Errorf("a user other than root: uid %d, capabilities %v", p.User.UID, p.Capabilities)
	}
	if err := containerProcess(&p, imageConfig{Cmd: []string{"sh"}}, root, []string{"sh", "-c", "true"}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Args, []string{"sh", "-c", "true"}) || p.Cwd != "/" || !slices.Equal(p.Capabilities["effective"], dockerCapabilities) {
		t.Errorf("root with args: %q in %s, capabilities %v", p.Args, p.Cwd, p.Capabilities)
	}
}
