#!/usr/bin/env bash
# npm run lint:kube-score [-- <stack>...]: kube-score, an outside judge, over the manifests every
# stack renders (npm run render's renderYamlToDirectory mode: no cluster, no image build).
# A finding fails the run unless it is OK or skipped; a skip must come from a `kube-score/ignore`
# annotation whose reason is written beside it (food11/kube-score-ignore-reason.<check>), which
# this script checks too. kube-score itself is built from the Go module proxy (scripts/e2e/build.sh
# kube-score, ~1 min cold), as are the Pulumi CLI and the Kubernetes provider the render needs.
# Exit: 0 clean, 1 a finding or a missing reason, 77 no Go toolchain (skip).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=e2e/versions.sh
. "$ROOT/scripts/e2e/versions.sh"
STACKS=("$@")
[ ${#STACKS[@]} -eq 0 ] && STACKS=(baseline strategy1 strategy2)

bash "$ROOT/scripts/e2e/build.sh" kube-score pulumi provider >&2
rc=$?
[ "$rc" -eq 0 ] || exit "$rc"
KUBE_SCORE="$E2E_BIN/kube-score"

work="$(mktemp -d "${TMPDIR:-/tmp}/food11-kube-score.XXXXXX")"
trap 'rm -rf "$work"' EXIT
failed=0
for stack in "${STACKS[@]}"; do
  out="$work/$stack"
  if ! "$ROOT/node_modules/.bin/tsx" "$ROOT/scripts/e2e/engine.ts" render "$stack" --out "$out" >"$work/$stack.render.log" 2>&1; then
    cat "$work/$stack.render.log" >&2
    echo "kube-score: $stack: render failed" >&2
    failed=1
    continue
  fi
  mapfile -t files < <(find "$out" -name '*.yaml' | sort)
  # --output-format ci: one line per check and object, "[GRADE] object: message".
  "$KUBE_SCORE" score --output-format ci "${files[@]}" >"$work/$stack.txt" 2>&1
  findings="$(grep -vE '^\[(OK|SKIPPED)\] ' "$work/$stack.txt" || true)"
  skipped="$(grep -cE '^\[SKIPPED\] ' "$work/$stack.txt" || true)"
  ok="$(grep -cE '^\[OK\] ' "$work/$stack.txt" || true)"
  # Every kube-score/ignore annotation names checks whose reasons sit beside it.
  missing="$(node -e '
    const { readFileSync } = require("node:fs");
    const { parseAllDocuments } = require(process.argv[1]);
    const out = [];
    for (const f of process.argv.slice(2)) {
      for (const doc of parseAllDocuments(readFileSync(f, "utf8"))) {
        const o = doc.toJS();
        if (!o) continue;
        for (const meta of [o.metadata, o.spec?.template?.metadata]) {
          const a = meta?.annotations ?? {};
          for (const id of (a["kube-score/ignore"] ?? "").split(",").filter(Boolean)) {
            const reason = a[`food11/kube-score-ignore-reason.${id.trim()}`];
            if (!reason || !reason.trim()) out.push(`${o.kind} ${o.metadata?.name}: kube-score/ignore ${id} has no food11/kube-score-ignore-reason.${id}`);
          }
        }
      }
    }
    console.log(out.join("\n"));
  ' "$ROOT/node_modules/yaml" "${files[@]}")"
  if [ -n "$findings" ] || [ -n "$missing" ]; then
    failed=1
    echo "kube-score: $stack: FAIL ($ok OK, $skipped skipped)"
    [ -n "$findings" ] && printf '%s\n' "$findings"
    [ -n "$missing" ] && printf '%s\n' "$missing"
  else
    echo "kube-score: $stack: clean ($ok OK, $skipped skipped: optional checks, or kube-score/ignore with its reason; ${#files[@]} manifests)"
  fi
  grep -E '^\[SKIPPED\] ' "$work/$stack.txt" | sed 's/^/  /'
done
exit "$failed"
