#!/usr/bin/env bash
# release.sh VERSION OUTDIR (make release): the release artefacts of VERSION, nothing pushed.
#   OUTDIR/install.yaml  CRDs, RBAC and the manager: config/default with the image tag VERSION,
#                        rendered by kubectl kustomize (kubebuilder's build-installer); the
#                        webhooks run the same image (WEBHOOK_IMAGE follows the manager's).
#   OUTDIR/messenger-operator-X.Y.Z.tgz  the chart, version X.Y.Z and appVersion VERSION, so its
#                        default image and webhook image are VERSION as well.
# Environment: HELM (the pinned helm binary; the Makefile sets it).
set -euo pipefail
version=${1:?usage: release.sh vX.Y.Z OUTDIR}
out=${2:?usage: release.sh vX.Y.Z OUTDIR}
HELM=${HELM:?set HELM to the helm binary (make release does)}
if ! [[ $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
  echo "release: VERSION $version is not of the form vX.Y.Z" >&2
  exit 1
fi
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A copy of config/ with the image tag set, as `kustomize edit set image` would (kubectl has no edit).
cp -r "$root/config" "$tmp/config"
kust=$tmp/config/manager/kustomization.yaml
sed -i -E "s/^(    newTag: ).*/\1$version/" "$kust"
grep -q "^    newTag: $version\$" "$kust" || { echo "release: no newTag in config/manager/kustomization.yaml" >&2; exit 1; }
{
  echo "# messenger-operator $version: CRDs, RBAC and the manager (config/default)."
  echo "# Install or upgrade: kubectl apply --server-side -f install.yaml"
  kubectl kustomize "$tmp/config/default"
} >"$tmp/install.yaml"
mv "$tmp/install.yaml" "$out/install.yaml"

"$HELM" package "$root/dist/chart" --version "${version#v}" --app-version "$version" -d "$out" >&2
echo "release $version: $out/install.yaml $out/messenger-operator-${version#v}.tgz" >&2
