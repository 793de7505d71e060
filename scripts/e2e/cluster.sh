#!/usr/bin/env bash
# A Kubernetes control plane on loopback from the binaries that build.sh made:
# etcd + kube-apiserver + kube-controller-manager + kube-scheduler + the kwok controller, started by
# `kwokctl --runtime binary`, plus fake kwok nodes on which pods become Ready (no container runs).
#
#   scripts/e2e/cluster.sh up   DIR     start; writes DIR/kubeconfig; prints it
#   scripts/e2e/cluster.sh down DIR     stop and delete (idempotent)
#   scripts/e2e/cluster.sh run  DIR -- CMD...
#                                       up, run CMD with KUBECONFIG=DIR/kubeconfig, always down;
#                                       exits with CMD's status
# Env: FOOD11_E2E_CACHE (binaries in $FOOD11_E2E_CACHE/bin), FOOD11_E2E_NODES (default 2),
#      FOOD11_E2E_APISERVER_ARGS / FOOD11_E2E_KCM_ARGS: extra kube-apiserver / kube-controller-manager
#      flags, space-separated "--key=value" (default none), e.g.
#      FOOD11_E2E_KCM_ARGS="--horizontal-pod-autoscaler-sync-period=15s --v=2".
# Exit: 0 ok, 1 failure (named on stderr), 77 toolchain not built (run scripts/e2e/build.sh).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.sh
. "$HERE/versions.sh"
NAME="food11-e2e"
NODES="${FOOD11_E2E_NODES:-2}"

usage() {
  sed -n '2,16p' "$0" >&2
  exit 2
}

need_bins() {
  local b missing=()
  for b in etcd kube-apiserver kube-controller-manager kube-scheduler kwok kwokctl kubectl; do
    [ -x "$E2E_BIN/$b" ] || missing+=("$b")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "e2e cluster: missing binaries in $E2E_BIN: ${missing[*]} (run scripts/e2e/build.sh)" >&2
    exit 77
  fi
}

kwokctl_() {
  # kwokctl keeps its clusters under KWOK_WORKDIR; kubectl is found on PATH.
  KWOK_WORKDIR="$DIR/kwok" PATH="$E2E_BIN:$PATH" "$E2E_BIN/kwokctl" --name "$NAME" "$@"
}

cmd_down() {
  if [ -d "$DIR/kwok/clusters/$NAME" ]; then
    echo "e2e cluster: deleting $NAME" >&2
    # Keep the components' logs (kwokctl deletes the cluster directory).
    if [ -d "$DIR/kwok/clusters/$NAME/logs" ]; then
      rm -rf "$DIR/logs" && cp -r "$DIR/kwok/clusters/$NAME/logs" "$DIR/logs" || true
    fi
    kwokctl_ delete cluster >"$DIR/kwokctl-delete.log" 2>&1 ||
      { echo "e2e cluster: kwokctl delete cluster failed (log $DIR/kwokctl-delete.log)" >&2; return 1; }
  fi
  rm -f "$DIR/kubeconfig"
}

# One componentsPatches entry: the component, then its "--key=value" flags (nothing if none).
component_patch() {
  local name="$1" a
  shift
  [ $# -gt 0 ] || return 0
  echo "  - name: $name"
  echo "    extraArgs:"
  for a in "$@"; do
    a="${a#--}"
    echo "      - key: ${a%%=*}"
    echo "        value: \"${a#*=}\""
  done
}

cmd_up() {
  need_bins
  # Everything binds to loopback only.
  cat >"$DIR/kwokctl.yaml" <<EOF
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  bindAddress: 127.0.0.1
  kubeVersion: $KUBE_VERSION
EOF
  if [ -n "${FOOD11_E2E_APISERVER_ARGS:-}${FOOD11_E2E_KCM_ARGS:-}" ]; then
    local apiserver_args=() kcm_args=()
    read -r -a apiserver_args <<<"${FOOD11_E2E_APISERVER_ARGS:-}"
    read -r -a kcm_args <<<"${FOOD11_E2E_KCM_ARGS:-}"
    {
      echo "componentsPatches:"
      component_patch kube-apiserver "${apiserver_args[@]}"
      component_patch kube-controller-manager "${kcm_args[@]}"
    } >>"$DIR/kwokctl.yaml"
  fi
  echo "e2e cluster: starting $NAME (Kubernetes $KUBE_VERSION, etcd $ETCD_VERSION, kwok $KWOK_VERSION) in $DIR" >&2
  if ! kwokctl_ --config "$DIR/kwokctl.yaml" create cluster \
    --runtime binary \
    --etcd-binary "$E2E_BIN/etcd" \
    --kube-apiserver-binary "$E2E_BIN/kube-apiserver" \
    --kube-controller-manager-binary "$E2E_BIN/kube-controller-manager" \
    --kube-scheduler-binary "$E2E_BIN/kube-scheduler" \
    --kwok-controller-binary "$E2E_BIN/kwok" \
    --kubeconfig "$DIR/kubeconfig" \
    --wait 3m >"$DIR/kwokctl-create.log" 2>&1; then
    tail -n 40 "$DIR/kwokctl-create.log" >&2
    echo "e2e cluster: kwokctl create cluster failed (log $DIR/kwokctl-create.log)" >&2
    return 1
  fi
  if ! kwokctl_ scale node --replicas "$NODES" >"$DIR/kwokctl-scale.log" 2>&1; then
    tail -n 20 "$DIR/kwokctl-scale.log" >&2
    echo "e2e cluster: kwokctl scale node failed (log $DIR/kwokctl-scale.log)" >&2
    return 1
  fi
  if ! "$E2E_BIN/kubectl" --kubeconfig "$DIR/kubeconfig" wait --for=condition=Ready node --all --timeout=120s >&2; then
    echo "e2e cluster: fake nodes did not become Ready" >&2
    return 1
  fi
  # kwok's fake nodes report no ephemeral-storage, so a pod requesting some (every stack's does:
  # food11:ephemeralStorageRequest) would never be scheduled: give each node 100Gi, as a disk.
  local n
  for n in $("$E2E_BIN/kubectl" --kubeconfig "$DIR/kubeconfig" get nodes -o name); do
    "$E2E_BIN/kubectl" --kubeconfig "$DIR/kubeconfig" patch "$n" --subresource=status --type=merge \
      -p '{"status":{"capacity":{"ephemeral-storage":"100Gi"},"allocatable":{"ephemeral-storage":"100Gi"}}}' >/dev/null ||
      { echo "e2e cluster: could not give $n ephemeral-storage" >&2; return 1; }
  done
  # The Gateway API CRDs, for stacks routed with an HTTPRoute (food11:route gateway).
  bash "$HERE/gateway-api.sh" "$DIR/kubeconfig" || return 1
  echo "$DIR/kubeconfig"
}

[ $# -ge 2 ] || usage
CMD="$1"
mkdir -p "$2"
DIR="$(cd "$2" && pwd)"
shift 2
case "$CMD" in
  up) cmd_up ;;
  down) cmd_down ;;
  run)
    [ "${1:-}" = "--" ] && shift
    [ $# -gt 0 ] || usage
    need_bins
    trap 'cmd_down || true' EXIT
    trap 'exit 130' INT TERM
    kc="$(cmd_up)"
    set +e
    KUBECONFIG="$kc" "$@"
    rc=$?
    set -e
    exit "$rc"
    ;;
  *) usage ;;
esac
