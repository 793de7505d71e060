#!/usr/bin/env bash
# The HTML report suite in one command (npm run test:html): Debian's chromium (found on PATH or at
# $CHROMIUM; installed with apt-get when missing and this is root) -> vitest over test/html, which
# opens the report.html of report, plan and recommend in it headless. Extra arguments go to vitest.
# Closing lines: "html: N passed, N failed" and where the screenshots are.
# Exit: vitest's status; 77 no chromium and none can be installed here (reason printed).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"

find_chromium() {
  local c
  for c in "${CHROMIUM:-}" chromium chromium-browser; do
    [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 && { command -v "$c"; return 0; }
  done
  return 1
}

if ! exe="$(find_chromium)"; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "html: SKIPPED: no chromium on PATH (or \$CHROMIUM), and not root with apt-get to install Debian's package" >&2
    exit 77
  fi
  echo "html: installing Debian's chromium (apt-get install chromium)"
  t0=$(date +%s)
  export DEBIAN_FRONTEND=noninteractive
  # The package lists first only when the package is not known yet (a fresh machine).
  if ! apt-cache show chromium >/dev/null 2>&1; then nice -n 19 apt-get update -qq || true; fi
  if ! nice -n 19 apt-get install -y -qq --no-install-recommends chromium >/dev/null; then
    echo "html: SKIPPED: apt-get install chromium failed (above); no browser to open the pages in" >&2
    exit 77
  fi
  exe="$(find_chromium)" || { echo "html: SKIPPED: chromium installed but not on PATH" >&2; exit 77; }
  echo "html: chromium installed in $(($(date +%s) - t0))s"
fi
echo "html: $("$exe" --version 2>/dev/null || echo "$exe")"
export CHROMIUM="$exe"
bash "$ROOT/scripts/vitest-suite.sh" html vitest.html.config.mts FOOD11_HTML_REPORT "$@"
