#!/usr/bin/env bash
# Builds the control plane used by envtest and the kwok cluster from the Go module proxy, since
# setup-envtest and kind cannot download here: kube-apiserver, kube-controller-manager,
# kube-scheduler, etcd, kwok and kwokctl. Binaries land in $BIN/k8s/<version>/ and are reused when
# present, so only the first run pays.
#
# Usage: hack/control-plane.sh [BIN_DIR]   (prints the asset directory on stdout)
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-1.37.2}
ETCD_VERSION=${ETCD_VERSION:-3.7.3}
KWOK_VERSION=${KWOK_VERSION:-0.8.0}

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/bin}
dest=$bin/k8s/$K8S_VERSION-etcd$ETCD_VERSION-kwok$KWOK_VERSION
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)

log() { echo "control-plane: $*" >&2; }

want=(kube-apiserver kube-controller-manager kube-scheduler etcd kwok kwokctl)
missing=0
for b in "${want[@]}"; do [ -x "$dest/$b" ] || missing=1; done
if [ "$missing" = 0 ]; then echo "$dest"; exit 0; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GOFLAGS=-mod=mod CGO_ENABLED=0

if [ ! -x "$dest/kube-apiserver" ] || [ ! -x "$dest/kube-controller-manager" ] || [ ! -x "$dest/kube-scheduler" ]; then
  log "building Kubernetes v$K8S_VERSION control plane (a few minutes, once)"
  mkdir -p "$work/k8s" && cd "$work/k8s"
  go mod init controlplane.local/k8s >/dev/null 2>&1
  cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
GO
  # k8s.io/kubernetes requires its staging modules at v0.0.0 through replace directives that only work
  # inside its own tree: replace each with its published v0.x twin, read from the release's go.mod.
  modfile=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  minor=${K8S_VERSION#1.}
  {
    echo "require k8s.io/kubernetes v$K8S_VERSION"
    echo "replace ("
    grep -oE '^\s*k8s\.io/[a-z0-9-]+ => \./staging' "$modfile" | awk '{print $1}' | sort -u |
      while read -r m; do echo "	$m => $m v0.$minor"; done
    echo ")"
  } >> go.mod
  go mod tidy >/dev/null 2>&1 || go mod tidy
  pkg=k8s.io/component-base/version
  ld="-s -w -X $pkg.gitVersion=v$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=${minor%%.*}"
  ld="$ld -X $pkg.gitTreeState=clean -X k8s.io/client-go/pkg/version.gitVersion=v$K8S_VERSION"
  go build -trimpath -ldflags "$ld" -o "$dest/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler
fi

if [ ! -x "$dest/etcd" ]; then
  log "building etcd v$ETCD_VERSION"
  mkdir -p "$work/etcd" && cd "$work/etcd"
  go mod init controlplane.local/etcd >/dev/null 2>&1
  printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' > tools.go
  go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" >/dev/null 2>&1
  go mod tidy >/dev/null 2>&1 || go mod tidy
  go build -trimpath -ldflags "-s -w" -o "$dest/etcd" go.etcd.io/etcd/server/v3
fi

if [ ! -x "$dest/kwok" ] || [ ! -x "$dest/kwokctl" ]; then
  log "building kwok v$KWOK_VERSION"
  GOBIN=$dest go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwokctl@v$KWOK_VERSION"
fi

echo "$dest"
