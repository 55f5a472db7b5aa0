#!/usr/bin/env bash
# make playground: builds the operator, the webhook, the playground server and the playground
# launcher into bin/ (the control plane comes from `make control-plane`), then runs hack/playground:
# the setup of `make demo` that stays up and serves the playground on localhost until Ctrl-C.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
KUBEBUILDER_ASSETS=${KUBEBUILDER_ASSETS:-$(hack/control-plane.sh "$root/bin")}
export KUBEBUILDER_ASSETS
echo "Building bin/manager, bin/webhook, bin/playground and bin/playground-launcher"
CGO_ENABLED=0 go build -o "$root/bin/" ./cmd/manager ./cmd/webhook ./cmd/playground
# No -trimpath: the harness finds config/crd from its source path (test/testenv.RepoRoot).
CGO_ENABLED=0 go build -o "$root/bin/playground-launcher" ./hack/playground
# exec: signals reach the launcher itself, which cleans up.
exec "$root/bin/playground-launcher" --manager "$root/bin/manager" --webhook "$root/bin/webhook" \
  --playground "$root/bin/playground" --samples "$root/config/samples" --listen "${PLAYGROUND_LISTEN:-127.0.0.1:8090}"
