package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// verifyCommand is the program "dfopt verify" runs: it builds images on a
// BuildKit engine and links BuildKit's client, which dfopt itself, started
// by pre-commit hooks and editors for each file, must not.
const verifyCommand = "dfopt-verify"

// runVerify runs "dfopt verify ARGS" as dfopt-verify ARGS, found beside
// this executable or else on PATH, and returns its exit status.
func runVerify(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	bin, err := findVerify()
	if err != nil {
		fmt.Fprintf(stderr, "dfopt verify: %v\n", err)
		return exitError
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return exit.ExitCode()
	}
	fmt.Fprintf(stderr, "dfopt verify: %v\n", err)
	return exitError
}

// findVerify looks for dfopt-verify beside the running dfopt (where go
// install puts both), then on PATH.
func findVerify() (string, error) {
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), verifyCommand)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	if p, err := exec.LookPath(verifyCommand); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("needs the %s command beside dfopt or on PATH: cd engine && go install ./cmd/dfopt-verify (in a checkout of dfopt)", verifyCommand)
}
