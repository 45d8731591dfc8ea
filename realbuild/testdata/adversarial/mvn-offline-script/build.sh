#!/bin/sh
set -e
mvn -o -B package
