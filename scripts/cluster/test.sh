#!/usr/bin/env bash
# The real-pods suite in one command (npm run test:cluster):
#   build what is missing (scripts/e2e/build.sh cluster) -> cluster up -> vitest over test/cluster
#   -> cluster down (always, unless the cluster was already up before: then it is left running).
# Extra arguments go to vitest. Closing line: "cluster: N passed, N failed".
# Exit: vitest's status; 1 a failed build or cluster start (named); 77 cannot run here (reason).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"
[ "$(id -u)" -eq 0 ] || { echo "cluster: SKIPPED: needs root (network namespace, cgroups, containerd)" >&2; exit 77; }
command -v go >/dev/null 2>&1 || { echo "cluster: SKIPPED: no Go toolchain (everything is built from Go modules)" >&2; exit 77; }

t0=$(date +%s)
set +e
"$ROOT/scripts/e2e/build.sh" cluster
rc=$?
set -e
[ "$rc" -eq 77 ] && exit 77
[ "$rc" -eq 0 ] || { echo "cluster: FAILED at the build step (scripts/e2e/build.sh cluster exit $rc)" >&2; exit 1; }
t1=$(date +%s)
echo "cluster: toolchain ready in $((t1 - t0))s"

# One real-cluster run at a time (strategy-bench's cluster runs take the same lock).
# shellcheck source=versions.sh
. "$HERE/versions.sh"
state="$CLUSTER_STATE_DIR"
mkdir -p "$state"
# shellcheck source=../lock.sh
. "$ROOT/scripts/lock.sh"
hold_lock 7 "$state/run.lock" cluster

was_up=false
bash "$HERE/cluster.sh" status >/dev/null 2>&1 && was_up=true
if [ "$was_up" = false ]; then
  trap 'bash "$HERE/cluster.sh" down || true' EXIT
fi
set +e
bash "$HERE/cluster.sh" up
rc=$?
set -e
[ "$rc" -eq 0 ] || { echo "cluster: FAILED at cluster up (exit $rc); logs in $state/logs" >&2; exit 1; }
t2=$(date +%s)
echo "cluster: up in $((t2 - t1))s"
eval "$(bash "$HERE/cluster.sh" env)"
set +e
bash "$ROOT/scripts/vitest-suite.sh" cluster vitest.cluster.config.mts FOOD11_CLUSTER_REPORT "$@"
rc=$?
set -e
t3=$(date +%s)
echo "cluster: tests took $((t3 - t2))s (total $((t3 - t0))s)"
exit "$rc"
