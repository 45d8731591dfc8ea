#!/bin/sh
set -e
apk add tree
