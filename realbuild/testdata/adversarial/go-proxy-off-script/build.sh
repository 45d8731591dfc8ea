#!/bin/sh
set -e
GOPROXY=off go build -o /usr/local/bin/app .
