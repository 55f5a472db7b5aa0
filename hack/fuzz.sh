#!/usr/bin/env bash
# make fuzz: runs every Go fuzz target in the module for the given time each (default 30s).
# Their seed corpora also run as ordinary tests in `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
t=${1:-30s}
found=0
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -hoE '^func (Fuzz[A-Za-z0-9_]+)\(' "$dir"/*_test.go 2>/dev/null | sed -E 's/^func (Fuzz[A-Za-z0-9_]+)\(/\1/' | sort -u); do
    found=1
    echo "fuzzing $pkg $target for $t"
    go test -run '^$' -fuzz "^${target}\$" -fuzztime "$t" "$pkg"
  done
done
[ "$found" = 1 ] || echo "no fuzz targets found"
