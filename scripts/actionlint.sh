#!/usr/bin/env bash
# Lint the GitHub workflow files (.github/workflows/*.yml) with actionlint.
#
# actionlint is built from the Go module proxy (no prebuilt binary download) into a cache outside
# the work tree, once per version:
#   ${FOOD11_TOOLS_CACHE:-$HOME/.cache/food11-tools}/actionlint/<version>/actionlint
# Later runs reuse the cached binary and need neither Go nor the network.
#
# Go toolchain detection, in order: $GO (an explicit path), `go` on PATH, /usr/local/go/bin/go.
# GOTOOLCHAIN=local: never fetch another toolchain; actionlint needs Go >= 1.24 for v1.7.12.
# Without a toolchain (and without a cached binary) it prints why and exits 77, the "toolchain
# missing here, skipped" code of .ci/run; a failed build or a lint finding exits 1.
#
# Usage: scripts/actionlint.sh [extra actionlint args...]
#   ACTIONLINT_VERSION=v1.7.12 (default) picks the version.
# If shellcheck is on PATH, actionlint also checks the `run:` scripts with it.
set -euo pipefail

version="${ACTIONLINT_VERSION:-v1.7.12}"
cache_root="${FOOD11_TOOLS_CACHE:-$HOME/.cache/food11-tools}"
bin_dir="$cache_root/actionlint/$version"
bin="$bin_dir/actionlint"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

find_go() {
  if [[ -n "${GO:-}" && -x "${GO}" ]]; then
    printf '%s\n' "$GO"
  elif command -v go >/dev/null 2>&1; then
    command -v go
  elif [[ -x /usr/local/go/bin/go ]]; then
    printf '%s\n' /usr/local/go/bin/go
  else
    return 1
  fi
}

if [[ ! -x "$bin" ]]; then
  if ! go_bin="$(find_go)"; then
    echo "actionlint: skipped: no cached binary at $bin and no Go toolchain" \
      "(set GO=/path/to/go or put go on PATH)" >&2
    exit 77
  fi
  echo "actionlint: building github.com/rhysd/actionlint/cmd/actionlint@$version with $("$go_bin" version)" >&2
  mkdir -p "$cache_root/actionlint"
  tmp_bin="$(mktemp -d "$cache_root/actionlint/.build.XXXXXX")"
  trap 'rm -rf "$tmp_bin"' EXIT
  # Build outside the work tree so no go.mod of ours is consulted; low priority on shared cores.
  (cd "$tmp_bin" && GOBIN="$tmp_bin" GOTOOLCHAIN=local GOFLAGS="${GOFLAGS:-} -trimpath" \
    nice -n 19 "$go_bin" install "github.com/rhysd/actionlint/cmd/actionlint@$version")
  mkdir -p "$bin_dir"
  mv -f "$tmp_bin/actionlint" "$bin"
fi

cd "$repo_root"
shopt -s nullglob
files=(.github/workflows/*.yml .github/workflows/*.yaml)
if [[ ${#files[@]} -eq 0 ]]; then
  echo "actionlint: no workflow files under .github/workflows" >&2
  exit 1
fi
version_line="$("$bin" -version | head -n 1)"
if command -v shellcheck >/dev/null 2>&1; then
  checks="with shellcheck for run: scripts"
else
  checks="without shellcheck (not on PATH; run: scripts unchecked)"
fi
echo "actionlint $version_line $checks: ${files[*]}"
"$bin" "$@" "${files[@]}"
echo "actionlint: ${#files[@]} workflow file(s) OK"
