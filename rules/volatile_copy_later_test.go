package rules

import (
	"slices"
	"strings"
	"testing"

	"github.com/dfopt/dfopt/rewrite"
)

func TestIsManifestSource(t *testing.T) {
	for src, want := range map[string]bool{
		".": false, "./": false, "*": false, "./*": false, "src/": false, "app": false,
		"entrypoint.sh": false, "config/app.yml": false, "unlock_admin.php": false, "blockchain/": false,
		"package.json": true, "./package.json": true, "package*.json": true, "yarn.lock": true,
		"requirements.txt": true, "requirements-dev.txt": true, "requirements/prod.txt": true,
		"go.mod": true, "go.sum": true, "Gemfile": true, "Gemfile.lock": true, "pom.xml": true,
		"App.csproj": true, "*.csproj": true, "Cargo.toml": true, "Cargo.lock": true,
		"composer.json": true, "pyproject.toml": true, "poetry.lock": true, "bun.lockb": true,
		"packages.lock.json": true, "gradle/": true, "*.json": true, "src/package.json": true,
	} {
		if got := isManifestSource(src); got != want {
			t.Errorf("isManifestSource(%q) = %v, want %v", src, got, want)
		}
	}
}

// TestRunsPassed checks which RUNs a COPY . /app (with WORKDIR /app) moves
// past, one RUN at a time.
func TestRunsPassed(t *testing.T) {
	for run, want := range map[string]bool{
		"apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10 ca-certificates":       true,
		"apt-get -o Dpkg::Options::=--force-confnew install -y -t bookworm-backports git":                   true,
		"DEBIAN_FRONTEND=noninteractive apt-get install -yq curl && rm -rf /var/lib/apt/lists/*":            true,
		"set -eux; apt-get update; apt-get install -y curl; apt-get clean":                                  true,
		"apt-get install -y curl=${CURL_VERSION}":                                                           true,
		"apk add --no-cache --virtual .build-deps gcc so:libssl.so.3 && apk del .build-deps":                true,
		"yum -y install epel-release https://example.com/x.rpm && yum clean all":                            true,
		"dnf install -y --setopt=install_weak_deps=False python3 && dnf clean all":                          true,
		"zypper --non-interactive install -y curl":                                                          true,
		"pip install --no-cache-dir -U pip 'flask>=2,<3' \"uvicorn[standard]\"":                             true,
		"pip3 install --index-url https://pypi.example.com/simple gunicorn":                                 true,
		"npm install -g pm2@5 @angular/cli":                                                                 false, // npm's install scripts see the working directory
		"gem install bundler -v 2.4.22":                                                                     false, // gem looks for NAME*.gem in the working directory
		"useradd --system --create-home app && mkdir -p /var/lib/app && ln -s /var/lib/app /data":           true,
		"echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/bp.list": true,
		"export DEBIAN_FRONTEND=noninteractive && apt-get install -y curl":                                  true,
		"apt-get install -y curl > /dev/null 2>&1":                                                          true,
		"apt-get install -y ./tool.deb":                                                                     false,
		"apt-get install -y tool.deb":                                                                       false,
		"apt-get install -y $PACKAGES":                                                                      false,
		"apt-get install -y $(cat packages.txt)":                                                            false,
		"apt-get install -y php*":                                                                           false, // the shell matches php* against /app
		"apt-get install -y curl && echo $X*":                                                               false,
		"apt-get build-dep -y .":                                                                            false,
		"apk add --no-cache ./local.apk":                                                                    false,
		"apk add --root /app curl":                                                                          false,
		"pip install -r requirements.txt":                                                                   false,
		"pip install -qr requirements.txt":                                                                  false,
		"pip install --requirement=requirements.txt":                                                        false,
		"pip install -e .": false,
		"pip install .":    false,
		"pip install dist/app-1.0-py3-none-any.whl":            false,
		"pip install --target vendor requests":                 false, // into /app/vendor
		"pip install --find-links file:///app/wheels requests": false,
		"PIP_TARGET=/app/lib pip install requests":             false,
		"python -m pip install gunicorn":                       false, // python -m reads modules from the working directory
		"mkdir -p logs":                                        false,
		"rm -rf /app/tmp":                                      false,
		"echo ok > ready":                                      false,
		"cat /etc/os-release":                                  false,
		"cd /tmp && apt-get install -y curl":                   true, // the model follows cd
		"cd /app && apt-get install -y ./tool.deb":             false,
		"cd $DIR && mkdir -p x":                                false,
		"curl -fsSL https://example.com/install.sh | sh":       false,
		"if true; then apt-get install -y curl; fi":            true, // every command of it is known
		"ln -s /app /data && echo x > /data/f":                 false,
		"echo x > /srv/../app/f":                               false,
		"sh -c 'apt-get install -y curl'":                      true,
		"sudo -u app apt-get install -y curl":                  false, // another user's home and environment
		"./install.sh":                                         false,
		"xargs apt-get install -y < pkgs.txt":                  false,
		"apt-get install -y curl &":                            false,
		"make":                                                 false,
	} {
		// An install after the RUN makes a move worth it once the RUN is passed.
		src := "FROM debian:bookworm\nWORKDIR /app\nCOPY . .\nRUN " + run + "\nRUN apt-get install -y jq\nCMD [\"/app/run\"]\n"
		res, err := rewrite.Source([]byte(src), rewrite.Options{Rules: []*rewrite.Rule{VolatileCopyLater}})
		if err != nil {
			t.Fatalf("RUN %s: %v", run, err)
		}
		if got := res.Changed([]byte(src)); got != want {
			t.Errorf("RUN %s: moved %v, want %v", run, got, want)
		}
	}
}

// TestMountsAndEnvironment checks what RUN flags and the environment do.
func TestMountsAndEnvironment(t *testing.T) {
	for _, tc := range []struct {
		before, run string
		want        bool
	}{
		{"", "--mount=type=cache,target=/var/cache/apt apt-get install -y curl", true},
		{"", "--mount=type=secret,id=netrc apt-get install -y curl", true},
		{"", "--network=host apt-get install -y curl", true},
		{"", "--mount=type=cache,target=/app/.cache apt-get install -y curl", false},
		{"", "--mount=type=bind,source=.,target=/app apt-get install -y curl", false},
		{"ENV PATH=/app/bin:$PATH\n", "apt-get install -y curl", false},
		{"ENV PYTHONPATH=/app\n", "pip install flask", false},
		{"ENV PYTHONUNBUFFERED=1 APP_HOME=/app\n", "pip install flask", true},
		{"ENV PATH=$JAVA_HOME/bin:$PATH\n", "apt-get install -y curl", false}, // JAVA_HOME comes from the base image
		{"ARG PIP_INDEX_URL\n", "pip install flask", false},
		{"ARG PIP_INDEX_URL=https://pypi.example.com/simple\n", "pip install flask", true},
		{"SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\n", "apt-get install -y curl", true},
		{"SHELL [\"/bin/bash\", \"-lc\"]\n", "apt-get install -y curl", true}, // profiles are read from /etc and ~, not /app
		{"ENV BASH_ENV=/app/env.sh\nSHELL [\"/bin/bash\", \"-c\"]\n", "apt-get install -y curl", false},
	} {
		src := "FROM python:3.12\nWORKDIR /build\n" + tc.before + "COPY . /app\nRUN " + tc.run + "\nCMD [\"/app/run\"]\n"
		res, err := rewrite.Source([]byte(src), rewrite.Options{Rules: []*rewrite.Rule{VolatileCopyLater}})
		if err != nil {
			t.Fatalf("%s: %v", tc.run, err)
		}
		if got := res.Changed([]byte(src)); got != tc.want {
			t.Errorf("%sRUN %s: moved %v, want %v", tc.before, tc.run, got, tc.want)
		}
	}
}

// TestMoveKeepsEverythingElse checks that a move changes nothing but the
// place of the COPY and its comment block.
func TestMoveKeepsEverythingElse(t *testing.T) {
	src := "FROM alpine:3.20\n\n# code\nCOPY src/ /code/src/\n\n# tools\nRUN apk add --no-cache curl  \n\nCMD [\"sh\"]\n"
	res, err := rewrite.Source([]byte(src), rewrite.Options{Rules: []*rewrite.Rule{VolatileCopyLater}})
	if err != nil {
		t.Fatal(err)
	}
	want := "FROM alpine:3.20\n\n# tools\nRUN apk add --no-cache curl  \n\n# code\nCOPY src/ /code/src/\n\nCMD [\"sh\"]\n"
	if string(res.Output) != want {
		t.Errorf("got:\n%s\nwant:\n%s", res.Output, want)
	}
	lines := func(s string) []string {
		l := strings.SplitAfter(s, "\n")
		slices.Sort(l)
		return l
	}
	if !slices.Equal(lines(string(res.Output)), lines(src)) {
		t.Errorf("the output's lines are not the input's")
	}
}
