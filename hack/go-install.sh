#!/usr/bin/env bash
# go-install.sh DEST PKG@VERSION: installs a pinned tool as DEST (bin/<name>-<version>), once.
set -euo pipefail
dest=$1 pkg=$2
[ -x "$dest" ] && exit 0
mkdir -p "$(dirname "$dest")"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "installing $pkg" >&2
GOBIN=$tmp GOFLAGS= go install "$pkg"
mv "$tmp"/* "$dest"
