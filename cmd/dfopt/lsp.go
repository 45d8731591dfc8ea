package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/dfopt/dfopt/internal/config"
	"github.com/dfopt/dfopt/internal/flags"
	"github.com/dfopt/dfopt/internal/lsp"
	"github.com/dfopt/dfopt/rewrite"
	"github.com/dfopt/dfopt/rules"
)

const lspUsageHead = `Usage: dfopt lsp [flags]

dfopt lsp is a Language Server (LSP 3.17) on standard input and output, for
editors: it shows what dfopt finds in each open Dockerfile as you type, offers
each finding's rewrite, all safe rewrites at once (source.fixAll.dfopt) and an
ignore comment as code actions, and formats as --fmt does. The build context
is each file's folder. It never writes a file.

Flags:
`

const lspUsageTail = `
Exit status: 0 after the client's shutdown and exit; 1 when the client ends
the session without shutdown; 2 on input that is not the protocol.
`

// exitNoShutdown is the status of a session the client ended without a
// shutdown request, as the LSP specification asks.
const exitNoShutdown = 1

// runLSP serves the Language Server Protocol on stdin and stdout until the
// client ends the session.
func runLSP(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := &flags.Set{}
	enable := fs.StringSlice("enable", nil, "switch on the rules `NAME,...` (or all)")
	disable := fs.StringSlice("disable", nil, "switch off the rules `NAME,...` (or all)")
	merge := fs.String("merge", "", "`small`: merge-runs also merges small RUNs that save no bytes; all: that, and in builder stages too")
	largeFile := fs.String("large-file", "", "report files copied into the image over `SIZE` (default 10MB; 512k, 1G, bytes)")
	var opts rewrite.Options
	fs.BoolVar(&opts.CacheMounts, "cache-mounts", false, "give installing RUNs BuildKit cache mounts instead of deleting package caches")
	help := fs.BoolP("help", "h", false, "print this help and exit")
	if err := fs.Parse(args); err != nil {
		return usageError(stderr, fmt.Errorf("lsp: %w", err))
	}
	if *help {
		fmt.Fprint(stdout, lspUsageHead)
		writeFlagUsages(stdout, fs)
		fmt.Fprint(stdout, lspUsageTail)
		return exitOK
	}
	if fs.NArg() > 0 {
		return usageError(stderr, fmt.Errorf("lsp takes no paths: the editor sends the files"))
	}
	switch *merge {
	case "":
	case "small":
		opts.MergeSmall = true
	case "all":
		opts.MergeSmall, opts.MergeAll = true, true
	default:
		return usageError(stderr, fmt.Errorf("invalid value %q for --merge: use small or all", *merge))
	}
	if *largeFile != "" {
		size, err := rules.ParseSize(*largeFile)
		if err != nil {
			return usageError(stderr, fmt.Errorf("--large-file: %w", err))
		}
		opts.LargeFile = size
	}
	selected, err := rewrite.Select(rules.All(), *enable, *disable)
	if err != nil {
		return usageError(stderr, err)
	}
	opts.Rules = selected

	// Each file's options are those of the .dfopt.yaml above it, under the
	// flags given here, as for the command; read again when it is saved.
	c := &cli{}
	if err := c.setFlags(fs, *enable, *disable, *merge, *largeFile); err != nil {
		return usageError(stderr, err)
	}
	srv := lsp.NewServer(opts, moduleVersion())
	srv.UseSettings(func(path string) (rewrite.Options, error) {
		c.finder = config.NewFinder() // a configuration edited meanwhile is read anew
		o, _, err := c.optionsFor(path, true)
		return o, err
	})
	err = srv.Serve(stdin, stdout)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, lsp.ErrNoShutdown):
		fmt.Fprintf(stderr, "dfopt lsp: %v\n", err)
		return exitNoShutdown
	}
	fmt.Fprintf(stderr, "dfopt lsp: %v\n", err)
	return exitError
}
