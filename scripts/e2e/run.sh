#!/usr/bin/env bash
# The real-engine e2e in one command (npm run test:e2e):
#   build the toolchain (cached, scripts/e2e/build.sh) -> start the loopback control plane
#   (scripts/e2e/cluster.sh) -> vitest -c vitest.e2e.config.mts -> tear the cluster down (always).
# Extra arguments go to vitest.
# Exit: vitest's status (0 all passed, 1 failures); 1 also for a failed build or cluster start
# (the step is named on stderr); 77 = skipped: no Go toolchain on this machine.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"
# shellcheck source=versions.sh
. "$HERE/versions.sh"

if ! command -v go >/dev/null 2>&1; then
  echo "e2e: SKIPPED: no Go toolchain on PATH (the e2e builds Pulumi, the Kubernetes provider and the control plane with Go >= 1.26)" >&2
  exit 77
fi

t0=$(date +%s)
set +e
"$HERE/build.sh"
rc=$?
set -e
if [ "$rc" -eq 77 ]; then exit 77; fi
if [ "$rc" -ne 0 ]; then
  echo "e2e: FAILED at the build step (scripts/e2e/build.sh exit $rc)" >&2
  exit 1
fi
t1=$(date +%s)
echo "e2e: toolchain ready in $((t1 - t0))s"

# One e2e cluster per machine at a time (kwokctl picks its ports per work directory).
# shellcheck source=../lock.sh
. "$ROOT/scripts/lock.sh"
hold_lock 8 "$E2E_CACHE/locks/e2e-run.lock" e2e

cluster_dir="$(mktemp -d "${TMPDIR:-/tmp}/food11-e2e-cluster.XXXXXX")"
set +e
"$HERE/cluster.sh" run "$cluster_dir" -- npx vitest run -c vitest.e2e.config.mts \
  --reporter=default --reporter=json --outputFile.json="$cluster_dir/vitest.json" "$@"
rc=$?
set -e
# After a successful build a missing binary is a failure, not a skip.
if [ "$rc" -eq 77 ]; then rc=1; fi
t2=$(date +%s)
# The plain closing line CI reads: "e2e: N passed, N failed[, N skipped]".
if [ -s "$cluster_dir/vitest.json" ]; then
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
    console.log(`e2e: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
  ' "$cluster_dir/vitest.json" || true
else
  echo "e2e: 0 passed, 1 failed"
fi
if [ "$rc" -eq 0 ]; then
  rm -rf "$cluster_dir"
else
  echo "e2e: FAILED (exit $rc); control-plane logs kept in $cluster_dir/logs" >&2
fi
echo "e2e: cluster + tests took $((t2 - t1))s (total $((t2 - t0))s)"
exit "$rc"
