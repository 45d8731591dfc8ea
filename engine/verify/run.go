package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/moby/buildkit/client"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/pb"

	"github.com/dfopt/dfopt/internal/imagefs"
)

// Ran is what the image's command did when started with no network: its
// exit code, or that it still ran when its time was up (a server), and
// what it printed then.
type Ran struct {
	Args    []string `json:"args"`
	Exit    int      `json:"exit"`
	Running bool     `json:"running,omitempty"` // still running after the time given
	Stdout  string   `json:"stdout"`
	Stderr  string   `json:"stderr"`
}

// maxOutput is how much of each stream a Ran keeps.
const maxOutput = 64 << 10

// runImage builds spec (from the cache, as it was just built) and starts
// its image's command (Entrypoint and Cmd, with its Env, WorkingDir and
// User) in a container of BuildKit with no network, for at most timeout.
// It returns nil when the image has no command.
func (e *engine) runImage(ctx context.Context, spec buildSpec, timeout time.Duration) (*Ran, error) {
	opt, done, err := e.solveOpt(spec)
	if err != nil {
		return nil, err
	}
	defer done()
	frontendAttrs := opt.FrontendAttrs
	opt.Frontend, opt.FrontendAttrs = "", nil
	var run *Ran
	err = e.withProgress(ctx, spec.name, nil, func(ctx context.Context, ch chan *client.SolveStatus) error {
		_, err := e.c.Build(ctx, opt, "dfopt-verify", func(ctx context.Context, c gateway.Client) (*gateway.Result, error) {
			res, err := c.Solve(ctx, gateway.SolveRequest{Frontend: "dockerfile.v0", FrontendOpt: frontendAttrs})
			if err != nil {
				return nil, err
			}
			ref, err := res.SingleRef()
			if err != nil {
				return nil, err
			}
			var img struct {
				Config imagefs.Config `json:"config"`
			}
			if b := res.Metadata["containerimage.config"]; len(b) > 0 {
				if err := json.Unmarshal(b, &img); err != nil {
					return nil, fmt.Errorf("image config: %w", err)
				}
			}
			args := append(append([]string{}, img.Config.Entrypoint...), img.Config.Cmd...)
			if len(args) == 0 {
				return gateway.NewResult(), nil
			}
			run, err = startAndWait(ctx, c, ref, img.Config, args, timeout)
			return gateway.NewResult(), err
		}, ch)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", spec.name, err)
	}
	return run, nil
}

func startAndWait(ctx context.Context, c gateway.Client, ref gateway.Reference, cfg imagefs.Config, args []string, timeout time.Duration) (*Ran, error) {
	ctr, err := c.NewContainer(ctx, gateway.NewContainerRequest{
		Mounts:  []gateway.Mount{{Dest: "/", MountType: pb.MountType_BIND, Ref: ref}},
		NetMode: pb.NetMode_NONE,
	})
	if err != nil {
		return nil, err
	}
	defer ctr.Release(context.WithoutCancel(ctx))
	cwd := cfg.WorkingDir
	if cwd == "" {
		cwd = "/"
	}
	var stdout, stderr limitedBuffer
	proc, err := ctr.Start(ctx, gateway.StartRequest{
		Args: args, Env: cfg.Env, Cwd: cwd, User: cfg.User,
		Stdout: &stdout, Stderr: &stderr,
	})
	if err != nil {
		return nil, err
	}
	waited := make(chan error, 1)
	go func() { waited <- proc.Wait() }()
	r := &Ran{Args: args}
	select {
	case err = <-waited:
	case <-time.After(timeout):
		r.Running = true
		proc.Signal(ctx, syscall.SIGKILL)
		<-waited
		err = nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var exit *gwpb.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.Exit = int(exit.ExitCode)
	default:
		return nil, err
	}
	r.Stdout, r.Stderr = stdout.String(), stderr.String()
	return r, nil
}

// limitedBuffer keeps the first maxOutput bytes written to it.
type limitedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := maxOutput - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *limitedBuffer) Close() error { return nil }

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
