#!/usr/bin/env bash
# The image suite in one command (npm run test:image): a Docker engine and the local registry with
# the stand-in base image (scripts/cluster/cluster.sh images: Debian's docker.io, nothing pulled
# from Docker Hub) -> vitest over test/image -> the engine and registry stopped again if this
# script started them. Extra arguments go to vitest. Closing line: "image: N passed, N failed".
# Exit: vitest's status; 1 the engine could not start; 77 cannot run here (reason printed).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"
[ "$(id -u)" -eq 0 ] || { echo "image: SKIPPED: needs root (it starts dockerd)" >&2; exit 77; }
# shellcheck source=../cluster/versions.sh
. "$ROOT/scripts/cluster/versions.sh"
state="$CLUSTER_STATE_DIR"
mkdir -p "$state"
# One real-engine run at a time (test:cluster and strategy-bench's cluster runs take it too).
# shellcheck source=../lock.sh
. "$ROOT/scripts/lock.sh"
hold_lock 7 "$state/run.lock" image

t0=$(date +%s)
was_up=false
[ -s "$state/pids/dockerd" ] && kill -0 "$(cat "$state/pids/dockerd")" 2>/dev/null && was_up=true
if [ "$was_up" = false ]; then trap 'bash "$ROOT/scripts/cluster/cluster.sh" down >/dev/null 2>&1 || true' EXIT; fi
set +e
bash "$ROOT/scripts/cluster/cluster.sh" images
rc=$?
set -e
[ "$rc" -eq 77 ] && exit 77
[ "$rc" -eq 0 ] || { echo "image: FAILED to start the engine and registry (exit $rc)" >&2; exit 1; }
eval "$(bash "$ROOT/scripts/cluster/cluster.sh" env)"
echo "image: engine and registry ready in $(($(date +%s) - t0))s (DOCKER_HOST=$DOCKER_HOST)"
set +e
bash "$ROOT/scripts/vitest-suite.sh" image vitest.image.config.mts FOOD11_IMAGE_REPORT "$@"
rc=$?
set -e
echo "image: took $(($(date +%s) - t0))s"
exit "$rc"
