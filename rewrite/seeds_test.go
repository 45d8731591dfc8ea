package rewrite_test

import (
	"os"
	"path/filepath"
	"strings"
)

// seedCase is a Dockerfile TestNoPanic checks and FuzzSource starts from.
type seedCase struct {
	name string
	src  string
}

// ruleSeeds are Dockerfiles that reach the rules: package managers in many
// RUN shapes, copies of the context, stages, and the syntax the printer must
// keep (escape directive, CRLF, heredocs, comments inside continuations).
var ruleSeeds = []seedCase{
	{"apt-get", "FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install curl ca-certificates\n"},
	{"apt-get chained", "FROM debian:bookworm-slim\nRUN apt-get update && \\\n    apt-get install -y --no-install-recommends \\\n      curl \\\n      git \\\n    && rm -rf /var/lib/apt/lists/*\n"},
	{"apt upgrade", "FROM ubuntu:24.04\nRUN apt update && apt upgrade -y && apt install -y python3\nRUN apt-get -qq update; apt-get -qqy install jq\n"},
	{"apt comments in continuation", "FROM debian\nRUN apt-get update \\\n# the tools\n    && apt-get install -y curl \\\n    # and more\n    && echo done\n"},
	{"apk", "FROM alpine:3.20\nRUN apk update\nRUN apk add curl && rm -rf /var/cache/apk/*\nRUN apk add --virtual .build gcc musl-dev && make && apk del .build\n"},
	{"apk upgrade", "FROM alpine\nRUN apk update && apk upgrade && apk add --update bash\n"},
	{"yum dnf", "FROM fedora:40\nRUN dnf install httpd && dnf clean all\nRUN yum -y install git\nRUN microdnf install -y jq\nRUN zypper install vim\nRUN tdnf install -y less\n"},
	{"pip", "FROM python:3.12\nRUN pip install flask\nRUN pip3 install --upgrade pip && pip install -r requirements.txt\nRUN python -m pip install --user requests\nRUN uv pip install --system fastapi\nRUN poetry install --no-root\nRUN conda install -y numpy\n"},
	{"pipenv", "FROM python:3.12-slim\nCOPY Pipfile Pipfile.lock ./\nRUN pip install pipenv && pipenv install --system --deploy\n"},
	{"npm", "FROM node:22\nWORKDIR /app\nCOPY . .\nRUN npm install\nRUN npm ci --omit=dev && npm run build\nRUN yarn install --frozen-lockfile\nRUN pnpm install\nRUN gem install bundler\nRUN composer install\n"},
	{"npm global", "FROM node:22-alpine\nRUN npm install -g pm2 typescript\nRUN npm cache clean --force\n"},
	{"go build", "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\nRUN CGO_ENABLED=0 go build -o /app ./cmd/app\n\nFROM scratch\nCOPY --from=build /app /app\nENTRYPOINT [\"/app\"]\n"},
	{"go ships", "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build -o /usr/local/bin/app . && go test ./...\nCMD [\"app\"]\n"},
	{"maven gradle", "FROM maven:3-eclipse-temurin-21\nWORKDIR /app\nCOPY . .\nRUN mvn -B package\nRUN ./gradlew build\nRUN gradle assemble --no-daemon\n"},
	{"copy dot", "FROM node:22\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD [\"node\", \"index.js\"]\n"},
	{"copy dot python", "FROM python:3.12-slim\nWORKDIR /app\nCOPY . /app\nRUN pip install -r requirements.txt\nRUN apt-get update && apt-get install -y gcc\nCMD python app.py\n"},
	{"add", "FROM alpine\nADD app.conf /etc/app/\nADD https://example.com/x.tar.gz /opt/\nADD vendor.tar /opt/\nADD --chown=1000:1000 . /app\nADD --link src/ /src/\n"},
	{"copy then remove", "FROM busybox\nCOPY big.tar.gz /tmp/\nRUN tar -xzf /tmp/big.tar.gz -C /opt && rm /tmp/big.tar.gz\nCOPY data/ /data/\nRUN rm -rf /data/tmp\n"},
	{"multi-stage", "ARG BASE=alpine:3.20\nFROM ${BASE} AS base\nRUN apk add curl\n\nFROM base AS build\nCOPY . /src\nRUN make -C /src\n\nFROM base\nCOPY --from=build /src/out /usr/bin/out\nRUN apk add jq\nRUN apk add tini\n"},
	{"onbuild", "FROM node:22\nONBUILD COPY . /app\nONBUILD RUN npm install\nONBUILD ADD app.tar /app\nRUN echo hi\n"},
	{"shell", "FROM mcr.microsoft.com/windows/servercore\nSHELL [\"powershell\", \"-Command\"]\nRUN Install-Package foo\nRUN apt-get install x\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\nRUN apt-get update && apt-get install -y curl | tee log\n"},
	{"shell cmd", "FROM mcr.microsoft.com/windows/servercore\nSHELL [\"cmd\", \"/S\", \"/C\"]\nRUN pip install x\nRUN npm install\n"},
	{"escape backtick", "# escape=`\nFROM mcr.microsoft.com/windows/servercore\nRUN apt-get update && `\n    apt-get install -y curl\nCOPY . C:\\app\\\nRUN pip install `\n    flask\n"},
	{"escape backtick posix", "# escape=`\nFROM debian\nRUN apt-get update `\n && apt-get install -y git\nRUN echo \\`\n"},
	{"crlf", "FROM debian\r\nRUN apt-get update\r\nRUN apt-get install -y curl \\\r\n    git\r\nCOPY . /app\r\nRUN pip install -r /app/requirements.txt\r\n"},
	{"crlf heredoc", "FROM alpine\r\nRUN <<EOF\r\napk add curl\r\napk update\r\nEOF\r\nRUN apk add jq\r\n"},
	{"heredoc", "FROM debian\nRUN <<EOF\nset -e\napt-get update\napt-get install -y curl\nEOF\nRUN <<-EOT bash\n\tpip install x\n\tEOT\nCOPY <<EOF /etc/conf\nkey=value\nEOF\n"},
	{"heredoc two", "FROM alpine\nRUN <<A <<B cat\nfirst\nA\nsecond\nB\nRUN apk add curl\n"},
	{"mount flags", "FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/pip pip install flask\nRUN --mount=type=bind,source=requirements.txt,target=/r.txt pip install -r /r.txt\nRUN --mount=type=secret,id=tok --network=none apt-get install -y x\nRUN --mount=type=cache,target=/var/cache/apt,sharing=locked apt-get update && apt-get install -y gcc\n"},
	{"set -e trap", "FROM debian\nRUN set -eux; \\\n    trap 'rm -rf /tmp/x' EXIT; \\\n    apt-get update; \\\n    apt-get install -y curl; \\\n    rm -rf /var/lib/apt/lists/*\n"},
	{"subshells", "FROM alpine\nRUN (cd /tmp && apk add curl) && { apk add jq; }\nRUN apk add git || true\nRUN apk add make || (echo failed; exit 1)\nRUN if [ -f x ]; then apk add x; fi\nRUN for p in a b; do pip install $p; done\n"},
	{"cd", "FROM node:22\nRUN cd /app && npm install\nRUN \\cd /app && npm ci\nRUN command cd /x; npm install\nRUN pushd /y && pip install . && popd\n"},
	{"sh -c", "FROM debian\nRUN sh -c 'apt-get update && apt-get install -y curl'\nRUN bash -c \"pip install flask && npm install -g x\"\nRUN [\"sh\", \"-c\", \"apk add curl\"]\nRUN [\"apt-get\", \"install\", \"-y\", \"x\"]\n"},
	{"env and args", "FROM debian\nARG DEBIAN_FRONTEND=noninteractive\nENV PIP_NO_CACHE_DIR=1 NPM_CONFIG_CACHE=/tmp/npm\nRUN DEBIAN_FRONTEND=noninteractive apt-get install -y $PKGS\nRUN env PIP_NO_CACHE_DIR=0 pip install ${PKG:-flask}\n"},
	{"maintainer", "FROM alpine\nMAINTAINER Jane <jane@example.com>\nmaintainer \"x y\"\nLABEL a=b\n"},
	{"ignore comments", "# dfopt global ignore=maintainer-to-label\n# hadolint global ignore=DL3019\nFROM alpine\n# dfopt ignore=add-to-copy\nADD a /a\n# hadolint ignore=DL3059,DL3020\nRUN apk add curl\nRUN apk add jq\n"},
	{"merge runs", "FROM debian\nRUN echo a\nRUN echo b\n# comment between\nRUN echo c\n\nRUN echo d\nRUN [\"echo\", \"e\"]\nRUN echo f &\nRUN echo g; exit 0\nRUN echo h # trailing\n"},
	{"merge runs flags", "FROM debian\nRUN --network=none echo a\nRUN --network=none echo b\nRUN --security=insecure echo c\nRUN --mount=type=tmpfs,target=/t echo d\n"},
	{"lowercase and spacing", "from   alpine  as   Build\nrun    apk   add   curl\n  copy  .   /app\nworkdir /app\ncmd [ \"sh\" ]\n"},
	{"bom", "\xef\xbb\xbfFROM alpine\nADD a.txt /a\nRUN apk update && apk add curl\n"},
	{"no final newline", "FROM alpine\nRUN apk add curl"},
	{"trailing whitespace", "FROM alpine   \nRUN apk add curl \\  \n    jq   \n\t\n"},
	{"syntax directive", "# syntax=docker/dockerfile:1\n# check=skip=all\nFROM alpine\nRUN apk add curl\n"},
	{"healthcheck cmd entrypoint", "FROM alpine\nHEALTHCHECK --interval=5s CMD wget -q localhost || exit 1\nENTRYPOINT exec app\nSTOPSIGNAL SIGTERM\nUSER 1000\nVOLUME /data\nEXPOSE 80/tcp\n"},
	{"copy flags", "FROM alpine AS b\nCOPY --chown=1:1 --chmod=644 package.json package-lock.json /app/\nCOPY --link --from=b / /\nCOPY --parents ./a/*.txt /dst/\nCOPY --exclude=*.md . /app\n"},
	{"copy manifests workdir", "FROM node:22\nWORKDIR /usr/src/app\nCOPY . ./\nRUN npm ci\nRUN npm run build\nENV NODE_ENV=production\nCMD [\"npm\", \"start\"]\n"},
	{"copy manifests python", "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\nCMD [\"python\", \"app.py\"]\n"},
	{"copy manifests go", "FROM golang:1.22\nWORKDIR /app\nCOPY . .\nRUN go mod download && go build -o /bin/app\nCMD [\"/bin/app\"]\n"},
	{"quotes across lines", "FROM debian\nRUN echo \"a \\\n  b\" && apt-get install -y 'x\\\n y'\nRUN echo a\\\nb\n"},
	{"semicolons and newlines", "FROM debian\nRUN apt-get update;apt-get install -y curl;rm -rf /var/lib/apt/lists/*\nRUN apt-get update &&\\\napt-get install -y git&&\\\nrm -rf /var/lib/apt/lists/*\n"},
	{"pipes", "FROM debian\nRUN curl -fsSL https://deb.nodesource.com/setup_20.x | bash - && apt-get install -y nodejs\nRUN wget -qO- https://x | sh\n"},
	{"empty continuation", "FROM alpine\nRUN apk add \\\n\n    curl\nRUN \\\n    echo hi\n"},
	{"arg before from", "ARG A=1\nARG B\nFROM alpine:${A}\nARG A\nRUN echo $A\n"},
	{"scratch", "FROM scratch\nADD rootfs.tar.gz /\nCOPY app /\nCMD [\"/app\"]\n"},
	{"stage refs", "FROM alpine AS one\nRUN apk add x\nFROM one AS two\nRUN apk add y\nFROM two\nCOPY --from=one /etc/apk /x\nRUN --mount=from=two,target=/t ls /t\n"},
	{"volatile copies", "FROM alpine\nCOPY src/ /app/src/\nCOPY config/ /app/config/\nRUN apk add --no-cache curl\nRUN apk add --no-cache jq\nCMD [\"/app/run\"]\n"},
	{"onbuild heredoc", "FROM alpine\nONBUILD RUN <<EOF\napk add x\nEOF\nONBUILD ADD . /app\n"},
	{"tabs and odd spaces", "FROM\talpine\nRUN\tapk\tadd\tcurl\nRUN  \t apt-get  install\t-y x\n"},
	{"keyword then continuation", "FROM alpine\nADD\\\n a.txt /a\nRUN\\\n apk add curl\nRUN \\\n apk update\nMAINTAINER\\\n x\n"},
	{"long run", "FROM debian\nRUN " + strings.Repeat("apt-get install -y pkg && ", 50) + "true\n"},
}

// fixtureSeeds returns the Dockerfiles of the golden fixtures, each named by
// its path: written to reach every rule.
func fixtureSeeds() []seedCase {
	files, _ := filepath.Glob(filepath.Join("..", "fixtures", "*", "*.Dockerfile"))
	inContext, _ := filepath.Glob(filepath.Join("..", "fixtures", "*", "*", "Dockerfile"))
	var out []seedCase
	for _, path := range append(files, inContext...) {
		src, err := os.ReadFile(path)
		if err == nil {
			out = append(out, seedCase{strings.TrimPrefix(filepath.ToSlash(path), "../"), string(src)})
		}
	}
	return out
}
