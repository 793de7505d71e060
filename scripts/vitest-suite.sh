#!/usr/bin/env bash
# One heavy vitest suite with its closing lines, for the suites' wrappers (scripts/cluster/test.sh,
# scripts/image/test.sh):
#   scripts/vitest-suite.sh NAME CONFIG REPORT_VAR [vitest args...]
# runs `vitest run -c CONFIG` with REPORT_VAR=<tmp>/figures.json in its environment (the suite
# writes its figures there), then prints "NAME: N passed, N failed" and the figures. Exit: vitest's.
set -uo pipefail
name="$1" config="$2" report_var="$3"
shift 3
out="$(mktemp -d "${TMPDIR:-/tmp}/food11-$name-test.XXXXXX")"
env "$report_var=$out/figures.json" npx vitest run -c "$config" \
  --reporter=default --reporter=json --outputFile.json="$out/vitest.json" "$@"
rc=$?
if [ -s "$out/vitest.json" ]; then
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log(`${process.argv[2]}: ${r.numPassedTests} passed, ${r.numFailedTests} failed`);
  ' "$out/vitest.json" "$name" || true
else
  echo "$name: 0 passed, 1 failed"
fi
[ -s "$out/figures.json" ] && { echo "$name: figures ($out/figures.json):"; cat "$out/figures.json"; }
exit "$rc"
