#!/bin/sh
set -e
GOPROXY=off go build -o /tmp/check .
rm /tmp/check
