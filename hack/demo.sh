#!/usr/bin/env bash
# make demo: builds the operator, the webhook and the demo into bin/ (the control plane comes from
# `make control-plane`), then runs hack/demo: a local kwok cluster, the CRDs, the operator, the
# app sample (one MessengerApp, two MessengerPages) pointed at the Messenger Platform simulator,
# the app's one webhook, the welcome screen of the Page with spec.profile, and a scripted
# conversation on each Page.
# The demo removes everything it started, also when interrupted.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
KUBEBUILDER_ASSETS=${KUBEBUILDER_ASSETS:-$(hack/control-plane.sh "$root/bin")}
export KUBEBUILDER_ASSETS
echo "Building bin/manager, bin/webhook and bin/demo"
CGO_ENABLED=0 go build -o "$root/bin/" ./cmd/manager ./cmd/webhook ./hack/demo
# No -trimpath: the harness finds config/crd from its source path (test/testenv.RepoRoot).
# exec: signals reach the demo itself, which cleans up.
exec "$root/bin/demo" --manager "$root/bin/manager" --webhook "$root/bin/webhook" --samples "$root/config/samples"
