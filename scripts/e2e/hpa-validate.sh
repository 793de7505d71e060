#!/usr/bin/env bash
# The planner's HPA against the real kube-controller-manager, in one command (npm run validate:hpa):
# start the kwok loopback control plane (scripts/e2e/cluster.sh) with the HPA controller's sync
# period at its default 15 s, stated explicitly, and its per-sync log lines on
# (--vmodule=horizontal=4), run scripts/e2e/hpa-validate.ts in it, always tear it down.
# Arguments go to hpa-validate.ts: [--stack s]... (default baseline, strategy2) [--out dir]
# [--duration s] (default 600) [--scale-down-window s] (default: the stack's).
# Exit: 0 the planner's decisions equal the controller's step for step, 1 not (or a failure, named
# on stderr), 77 the toolchain is not built (scripts/e2e/build.sh).
# About 11-12 minutes: the cluster (~10 s), the first pods, one 15 s sync period before the first
# sync, the 600 s trace (both stacks at once).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"
# shellcheck source=versions.sh
. "$HERE/versions.sh"

# One e2e cluster per machine at a time (the lock scripts/e2e/run.sh takes).
# shellcheck source=../lock.sh
. "$HERE/../lock.sh"
hold_lock 8 "$E2E_CACHE/locks/e2e-run.lock" validate:hpa

t0=$(date +%s)
cluster_dir="$(mktemp -d "${TMPDIR:-/tmp}/food11-hpa-validate.XXXXXX")"
export FOOD11_E2E_KCM_ARGS="--horizontal-pod-autoscaler-sync-period=15s --vmodule=horizontal=4"
set +e
"$HERE/cluster.sh" run "$cluster_dir" -- \
  env PATH="$E2E_BIN:$PATH" FOOD11_HPA_CLUSTER_DIR="$cluster_dir" \
  npx tsx "$HERE/hpa-validate.ts" "$@"
rc=$?
set -e
if [ "$rc" -eq 0 ]; then
  rm -rf "$cluster_dir"
  echo "validate:hpa: exit 0 after $(($(date +%s) - t0)) s" >&2
else
  echo "validate:hpa: exit $rc after $(($(date +%s) - t0)) s; control-plane logs kept in $cluster_dir/logs" >&2
fi
exit "$rc"
