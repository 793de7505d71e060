#!/usr/bin/env bash
# npm run render -- <stack>: write a stack's manifests as YAML (scripts/e2e/engine.ts render), after
# making sure the Pulumi CLI, its Node.js language host and the Kubernetes provider are built
# (scripts/e2e/build.sh). Before building, it says what it will build and roughly how long, and
# when it waits on another build's lock, so a cold cache is never a silent half hour.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=e2e/versions.sh
. "$ROOT/scripts/e2e/versions.sh"

# piece | cold compile, first build (docs/e2e.md); its stamp: stamp_of (versions.sh)
pieces=(
  "pulumi|about 11 min (16 min with the first module downloads)"
  "langhost|about 1 min"
  "provider|about 20 min (35 min with the first module downloads)"
)
missing=()
for p in "${pieces[@]}"; do
  IFS="|" read -r name cold <<<"$p"
  if [ -f "$E2E_CACHE/stamps/$(stamp_of "$name")" ]; then
    echo "render: $name is built (cache $E2E_CACHE)" >&2
  else
    missing+=("$name")
    echo "render: $name is not built yet: building it now, $cold on a 2-core machine (Go, nice 19)" >&2
    lock="$E2E_CACHE/locks/$name.lock"
    if [ -f "$lock" ] && ! flock -n "$lock" true; then
      echo "render: $name: waiting on a lock held by another build ($lock); it goes on when that build ends" >&2
    fi
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "render: to build (${missing[*]}): a cold build takes tens of minutes; Ctrl-C stops it, a later run resumes from what is built (docs/e2e.md)" >&2
fi
# FOOD11_RENDER_CHECK_ONLY=1: say the above and stop (nothing is built).
[ "${FOOD11_RENDER_CHECK_ONLY:-}" = 1 ] && exit 0
bash "$ROOT/scripts/e2e/build.sh" pulumi provider >&2
exec "$ROOT/node_modules/.bin/tsx" "$ROOT/scripts/e2e/engine.ts" render "$@"
