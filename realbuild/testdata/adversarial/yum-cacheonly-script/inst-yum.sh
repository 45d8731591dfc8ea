#!/bin/sh
set -e
yum --cacheonly install -y tree
