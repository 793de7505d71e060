#!/usr/bin/env bash
# Install the Gateway API's standard-channel CRDs (GatewayClass, Gateway, HTTPRoute, ...) into a
# cluster: the YAML of config/crd/standard in the sigs.k8s.io/gateway-api module, what the
# project's standard-install.yaml release asset bundles (GitHub downloads are unreachable here; the
# Go module proxy serves the module). Server-side apply, so a second run changes nothing.
#   scripts/e2e/gateway-api.sh KUBECONFIG
# Used by the kwok e2e cluster (scripts/e2e/cluster.sh) and the real-pods cluster
# (scripts/cluster/cluster.sh). Env: GATEWAY_API_VERSION (scripts/e2e/versions.sh).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.sh
. "$HERE/versions.sh"
KUBECONFIG_FILE="${1:?usage: gateway-api.sh KUBECONFIG}"
KUBECTL="$E2E_BIN/kubectl"
command -v go >/dev/null || { echo "gateway-api: no Go toolchain to fetch sigs.k8s.io/gateway-api" >&2; exit 1; }
dir="$(GOFLAGS=-mod=mod go mod download -json "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION" |
  sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
[ -d "$dir/config/crd/standard" ] ||
  { echo "gateway-api: sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION has no config/crd/standard" >&2; exit 1; }
for f in "$dir"/config/crd/standard/gateway.networking.k8s.io_*.yaml; do
  "$KUBECTL" --kubeconfig "$KUBECONFIG_FILE" apply --server-side --force-conflicts -f "$f" >/dev/null ||
    { echo "gateway-api: applying $(basename "$f") failed" >&2; exit 1; }
done
"$KUBECTL" --kubeconfig "$KUBECONFIG_FILE" wait --for=condition=Established --timeout=60s \
  crd/gatewayclasses.gateway.networking.k8s.io crd/gateways.gateway.networking.k8s.io \
  crd/httproutes.gateway.networking.k8s.io >/dev/null
echo "gateway-api: $GATEWAY_API_VERSION standard CRDs installed" >&2
