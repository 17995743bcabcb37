#!/usr/bin/env bash
# fuzz.sh DURATION — run every Fuzz* target in the module for DURATION each, one after another.
set -euo pipefail
dur=${1:-20s}
for pkg in $(go list ./...); do
  for f in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
    echo "== $pkg $f"
    go test -run '^$' -fuzz "^${f}\$" -fuzztime "$dur" "$pkg"
  done
done
