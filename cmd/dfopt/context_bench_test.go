package main

import (
	"fmt"
	"io"
	"strings"
	"testing"
)

// contextDockerfiles are the Dockerfiles BenchmarkContext puts side by side
// in one build context: each copies the whole context, so that the
// dockerignore rule scans it and reads its sibling Dockerfiles, and the
// copy rules look at what it sends.
var contextDockerfiles = []string{
	"FROM node:22-bookworm\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD [\"node\", \"src/index.js\"]\n",
	"FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n",
	"FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y curl\nCOPY . /srv\nCMD [\"/srv/run.sh\"]\n",
}

// contextProject is the rest of the build context: a small project with a
// .git folder and a .env, which the dockerignore rule flags.
var contextProject = map[string]string{
	"package.json":     `{"name":"app","scripts":{"start":"node src/index.js"}}` + "\n",
	"requirements.txt": "flask==3.0.0\n",
	"app.py":           "print('hi')\n",
	"run.sh":           "#!/bin/sh\nexec node src/index.js\n",
	".env":             "API_KEY=x\n",
	".git/HEAD":        "ref: refs/heads/main\n",
	".git/config":      "[core]\n",
}

// BenchmarkContext runs dfopt --check with the default rules over a folder
// of N Dockerfiles that share one build context (the folder) and reports
// the time per file, which stays flat when the context is walked once per
// run rather than once per Dockerfile: wall-clock time and, where the
// system tells, processor time (the steadier of the two on a busy machine).
func BenchmarkContext(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("files=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			files := map[string]string{}
			for name, body := range contextProject {
				files[name] = body
			}
			for i := range 40 {
				files[fmt.Sprintf("src/mod%02d.js", i)] = fmt.Sprintf("module.exports = %d\n", i)
			}
			for i := range n {
				files[fmt.Sprintf("svc%04d.Dockerfile", i)] = contextDockerfiles[i%len(contextDockerfiles)]
			}
			writeFiles(b, dir, files)
			var stderr strings.Builder
			cpu0, cpuKnown := cpuTime()
			b.ResetTimer()
			for b.Loop() {
				stderr.Reset()
				if code := run([]string{"--check", dir}, strings.NewReader(""), io.Discard, &stderr); code != exitChanged {
					b.Fatalf("exit status %d, want %d:\n%s", code, exitChanged, stderr.String())
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(n*b.N), "ms/file")
			if cpu1, ok := cpuTime(); ok && cpuKnown {
				b.ReportMetric((cpu1-cpu0).Seconds()*1e3/float64(n*b.N), "cpu-ms/file")
			}
		})
	}
}
