#!/bin/sh
set -e
apk add --no-network tree
