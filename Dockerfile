# dfopt's own image: one static binary on scratch, run as a user that is not
# root. docker build -t dfopt . (the README shows how to run it). Only
# cmd/dfopt is built: dfopt-verify needs a BuildKit daemon, not a container.
FROM golang:1.26-bookworm AS build
WORKDIR /src
# The modules first, from go.mod and go.sum alone, so that a change to the
# code downloads nothing again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
# A build has no .git to read the commit from (.dockerignore keeps it out):
# docker build --build-arg DFOPT_VERSION="$(git describe --tags --always --dirty)"
# names the version dfopt --version prints; without it, (devel).
ARG DFOPT_VERSION
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${DFOPT_VERSION}" -o /out/dfopt ./cmd/dfopt

FROM scratch
COPY --from=build /out/dfopt /dfopt
WORKDIR /src
USER 65532:65532
ENTRYPOINT ["/dfopt"]
