#!/usr/bin/env bash
# make demo: a local kwok cluster (built from source the first time), the CRDs, the samples, and
# what the operator makes of them. Cleans up after itself, also when interrupted.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

assets=$(hack/control-plane.sh "$root/bin")
work=$(mktemp -d)
name=messenger-demo-$$
export KWOK_WORKDIR=$work/kwok
kubeconfig=$work/kubeconfig
pids=()
cleanup() {
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  "$assets/kwokctl" delete cluster --name "$name" --kubeconfig "$kubeconfig" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "Starting a local cluster (kwok: real API server, simulated nodes)"
"$assets/kwokctl" create cluster --name "$name" --runtime binary \
  --kube-apiserver-binary "$assets/kube-apiserver" --kube-controller-manager-binary "$assets/kube-controller-manager" \
  --kube-scheduler-binary "$assets/kube-scheduler" --etcd-binary "$assets/etcd" \
  --kwok-controller-binary "$assets/kwok" --kubeconfig "$kubeconfig" --wait 120s >/dev/null 2>&1
"$assets/kwokctl" scale node --name "$name" --replicas 2 >/dev/null 2>&1
k() { kubectl --kubeconfig "$kubeconfig" "$@"; }

say "Installing the CRDs"
k apply --server-side -f config/crd/bases
k wait --for=condition=Established crd --all --timeout=60s >/dev/null

say "Applying the samples (a Secret, a HandoverPolicy, a MessengerPage)"
k apply --server-side -f config/samples/messenger_v1alpha1_secret.yaml \
  -f config/samples/messenger_v1alpha1_handoverpolicy.yaml -f config/samples/messenger_v1alpha1_messengerpage.yaml

say "kubectl get messengerpages,handoverpolicies"
k get messengerpages,handoverpolicies

say "Not there yet"
echo "The operator, the webhook and the Messenger Platform simulator are not wired into the demo yet:"
echo "READY stays empty until the operator runs. See README.md."
say "Cleaning up"
