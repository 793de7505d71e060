#!/usr/bin/env bash
# Build @tensorflow/tfjs-node's native binding against the TensorFlow shared libraries and C
# headers shipped in PyPI's tensorflow-cpu wheel (tfjs-node's own install downloads libtensorflow
# from a host many networks cannot reach), and install it into <app>/node_modules/@tensorflow/tfjs-node.
# One script for both homes of tfjs-node: the host (`npm run tfjs-node:local`) and the image
# (app/Dockerfile, LIBTENSORFLOW=wheel). <app> is the directory above this script.
#
#   tfjs-node-local.sh           build if needed (cached), install into <app>, verify
#   tfjs-node-local.sh --fetch   only download the wheel and extract its libraries (cached)
#   tfjs-node-local.sh --check   exit 0 if <app> loads tfjs-node with the tensorflow backend
#   tfjs-node-local.sh --probe   exit 0 if this machine has what a build needs (python3 + pip,
#                                make, g++, nm/readelf, local Node headers); builds nothing
#
# Idempotent: a finished build is kept under ${FOOD11_CACHE:-$HOME/.cache/food11}/tfjs-node/<key>/pkg
# and re-installed (hard links) in about a second when <app>'s copy is missing or stale (e.g. after
# an `npm install` in app/ dropped it). Nothing is downloaded except the wheel (PyPI) and tfjs-node's
# npm package and its dependencies (npm registry); node-gyp builds against this machine's Node
# headers (npm_config_nodedir), never fetched ones. See docs/tfjs-node.md.
#
# Environment: FOOD11_CACHE (cache root), TF_WHEEL_VERSION (default 2.18.1), TFJS_NODE_VERSION
# (default 4.22.0), NODE_HEADERS_PREFIX (a prefix with include/node/node_api.h; found if unset).
set -euo pipefail

TF_WHEEL_VERSION="${TF_WHEEL_VERSION:-2.18.1}"
TFJS_NODE_VERSION="${TFJS_NODE_VERSION:-4.22.0}"
# tfjs-node 4.22's scripts/deps-constants.js: its install skips the download when this file exists.
LIBTENSORFLOW_PLACEHOLDER="libtensorflow.so.2.9.1"

APP="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="$APP/node_modules/@tensorflow/tfjs-node"
CACHE="${FOOD11_CACHE:-$HOME/.cache/food11}"

log() { printf '[tfjs-node-local] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

NODE_ABI="$(node -p 'process.versions.modules')"
NAPI="$(node -p 'process.versions.napi')"
# p8425: tfjs-node's dist patched with tensorflow/tfjs#8425 (scripts/patch-tfjs-node.cjs).
KEY="tfjs-node-${TFJS_NODE_VERSION}-p8425_tf-${TF_WHEEL_VERSION}_node-abi${NODE_ABI}_$(uname -m)"
WORK="$CACHE/tfjs-node/$KEY"
# The wheel's libraries and C headers, extracted (fetch_wheel).
TFDIR="$CACHE/tf-$TF_WHEEL_VERSION"
PKG="$WORK/pkg"
STAMP_NAME=".food11-local-build.json"

# Loads tfjs-node from <app> and runs one op on the tensorflow backend (the image's build runs
# the same check: scripts/check-tfjs-node.cjs).
smoke_test() { (cd "$APP" && node scripts/check-tfjs-node.cjs) >/dev/null 2>&1; }

installed_is_current() {
  [[ -f "$TARGET/$STAMP_NAME" && -f "$PKG/$STAMP_NAME" ]] &&
    cmp -s "$TARGET/$STAMP_NAME" "$PKG/$STAMP_NAME" && smoke_test
}

find_node_headers() {
  local c
  # The running node's own headers first: an npmrc's nodedir may be another Node's.
  for c in "${NODE_HEADERS_PREFIX:-}" "$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")" \
    "$(node -p 'process.config.variables.node_prefix || ""')" "${npm_config_nodedir:-}" /usr /usr/local; do
    [[ -n "$c" && -f "$c/include/node/node_api.h" && -f "$c/include/node/common.gypi" ]] && {
      echo "$c"
      return 0
    }
  done
  return 1
}

# The wheel, downloaded once, and only its shared libraries and C headers extracted.
fetch_wheel() {
  local wheels="$CACHE/wheels"
  mkdir -p "$wheels"
  local whl
  whl="$(ls "$wheels"/tensorflow_cpu-"$TF_WHEEL_VERSION"-*.whl 2>/dev/null | head -n1 || true)"
  if [[ -z "$whl" ]]; then
    log "pip download tensorflow-cpu==$TF_WHEEL_VERSION (about 230 MB)"
    nice -n 19 python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$wheels" "tensorflow-cpu==$TF_WHEEL_VERSION"
    whl="$(ls "$wheels"/tensorflow_cpu-"$TF_WHEEL_VERSION"-*.whl | head -n1)"
  fi
  if [[ ! -f "$TFDIR/.complete" ]]; then
    log "extracting libraries and C headers from $(basename "$whl")"
    rm -rf "$TFDIR"
    mkdir -p "$TFDIR"
    nice -n 19 python3 - "$whl" "$TFDIR" <<'PY'
import sys, zipfile
whl, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(whl) as z:
    names = [n for n in z.namelist() if n.startswith("tensorflow/libtensorflow") or
             n.startswith(("tensorflow/include/tensorflow/c/", "tensorflow/include/tensorflow/core/platform/",
                           "tensorflow/include/tsl/", "tensorflow/include/xla/tsl/"))]
    z.extractall(out, names)
PY
    # The static symbol tables (.symtab/.strtab, 165 of libtensorflow_cc's 633 MB) are for
    # debuggers only; the dynamic ones the binding links against stay.
    if command -v strip >/dev/null; then
      nice -n 19 strip --strip-unneeded "$TFDIR"/tensorflow/libtensorflow_cc.so.2 "$TFDIR"/tensorflow/libtensorflow_framework.so.2
    fi
    touch "$TFDIR/.complete"
  fi
}

if [[ "${1:-}" == "--check" ]]; then
  if smoke_test; then log "ok: app/ loads @tensorflow/tfjs-node (tensorflow backend)"; exit 0; fi
  log "$APP cannot load @tensorflow/tfjs-node: run $0"
  exit 1
fi

if [[ "${1:-}" == "--probe" ]]; then
  for tool in python3 make g++ nm readelf ldd; do
    command -v "$tool" >/dev/null || die "probe: $tool not found"
  done
  python3 -m pip --version >/dev/null 2>&1 || die "probe: python3 -m pip not available"
  nd="$(find_node_headers)" || die "probe: no local Node headers (include/node/node_api.h)"
  log "probe: ok (node $(node -v), headers $nd/include/node; cached build: $([[ -f "$PKG/$STAMP_NAME" ]] && echo yes || echo no))"
  exit 0
fi

if [[ "${1:-}" == "--fetch" ]]; then fetch_wheel; exit 0; fi

[[ -d "$APP/node_modules/@tensorflow/tfjs" ]] || die "$APP/node_modules/@tensorflow/tfjs missing: run npm ci in $APP first"

if installed_is_current; then
  log "already installed and loading: $TARGET"
  exit 0
fi


build() {
  local t0 t_wheel t_build
  t0=$(date +%s)
  for tool in python3 make g++ nm readelf; do
    command -v "$tool" >/dev/null || die "$tool not found (node-gyp needs python3, make, g++; binutils for nm)"
  done
  local nodedir
  nodedir="$(find_node_headers)" || die "no local Node headers (include/node/node_api.h + common.gypi) for $(node -v); install the distribution's Node dev headers or set NODE_HEADERS_PREFIX. Nothing is downloaded."
  log "node $(node -v) (ABI $NODE_ABI, N-API $NAPI), headers: $nodedir/include/node"

  # 1. The wheel: only its shared libraries and C headers are used.
  fetch_wheel
  local lib_cc="$TFDIR/tensorflow/libtensorflow_cc.so.2" lib_fw="$TFDIR/tensorflow/libtensorflow_framework.so.2"
  [[ -f "$lib_cc" && -f "$lib_fw" ]] || die "the wheel has no tensorflow/libtensorflow_cc.so.2 + libtensorflow_framework.so.2 (layout changed?)"
  [[ -f "$TFDIR/tensorflow/include/tensorflow/c/eager/c_api.h" ]] || die "the wheel has no tensorflow/c/eager/c_api.h"
  t_wheel=$(($(date +%s) - t0))

  # 2. The npm package, without running its install script (it would download libtensorflow).
  local stage="$WORK/stage"
  rm -rf "$stage" "$PKG"
  mkdir -p "$stage"
  echo '{"name":"tfjs-node-local-build","private":true}' >"$stage/package.json"
  log "npm install --ignore-scripts @tensorflow/tfjs-node@$TFJS_NODE_VERSION (staging, in the cache)"
  (cd "$stage" && nice -n 19 npm install --ignore-scripts --no-audit --no-fund --loglevel=error \
    --no-package-lock -E "@tensorflow/tfjs-node@$TFJS_NODE_VERSION" >/dev/null)
  local tn="$stage/node_modules/@tensorflow/tfjs-node"
  # 2b. Node 23+ removed util.isNullOrUndefined, which tfjs-node 4.22.0 calls: the upstream fix.
  node "$APP/scripts/patch-tfjs-node.cjs" "$tn" >&2 || die "patching tfjs-node for Node >= 23 failed"

  # 3. deps/include and deps/lib as binding.gyp expects them (Linux: -ltensorflow -ltensorflow_framework).
  mkdir -p "$tn/deps/lib"
  cp -a "$TFDIR/tensorflow/include" "$tn/deps/include"
  ln -f "$lib_cc" "$tn/deps/lib/libtensorflow_cc.so.2" 2>/dev/null || cp "$lib_cc" "$tn/deps/lib/"
  ln -f "$lib_fw" "$tn/deps/lib/libtensorflow_framework.so.2" 2>/dev/null || cp "$lib_fw" "$tn/deps/lib/"
  ln -sf libtensorflow_cc.so.2 "$tn/deps/lib/libtensorflow.so"
  ln -sf libtensorflow_framework.so.2 "$tn/deps/lib/libtensorflow_framework.so"
  ln -sf libtensorflow_cc.so.2 "$tn/deps/lib/$LIBTENSORFLOW_PLACEHOLDER"

  # 4. The C API the binding needs must be exported (versioned: TF_Foo@@tensorflow).
  local exported needed missing
  exported="$(nm -D --defined-only "$lib_cc" "$lib_fw" | awk '{print $3}' | sed 's/@.*//' | grep -E '^TFE?_' | sort -u)"
  # (TF_AutoStatus, TF_AutoTensor, TFE_AutoOp are the binding's own RAII classes, not C API.)
  needed="$(grep -ohE '\bTFE?_[A-Z][A-Za-z0-9]*\(' "$tn"/binding/*.cc "$tn"/binding/*.h | tr -d '(' |
    grep -vE '^(TF_AutoStatus|TF_AutoTensor|TFE_AutoOp)$' | sort -u)"
  missing="$(comm -23 <(echo "$needed") <(echo "$exported"))"
  [[ -z "$missing" ]] || die "C API functions the binding calls are not exported by the wheel's libraries:
$missing"
  log "the wheel exports all $(echo "$needed" | wc -l) TF_/TFE_ functions the binding source calls"

  # 5. Build from source with node-gyp (via tfjs-node's own install script -> node-pre-gyp).
  log "building the binding from source (node-gyp, this Node's headers)"
  local t1
  t1=$(date +%s)
  (cd "$stage" && npm_config_build_from_source=true npm_config_nodedir="$nodedir" \
    nice -n 19 npm rebuild @tensorflow/tfjs-node --foreground-scripts --loglevel=error >"$WORK/build.log" 2>&1) ||
    { tail -n 40 "$WORK/build.log" >&2; die "build failed (log: $WORK/build.log)"; }
  t_build=$(($(date +%s) - t1))
  local binding
  binding="$(ls "$tn"/lib/napi-v*/tfjs_binding.node 2>/dev/null | head -n1 || true)"
  [[ -n "$binding" ]] || { tail -n 40 "$WORK/build.log" >&2; die "no tfjs_binding.node built (log: $WORK/build.log)"; }
  if ldd "$binding" | grep -q 'not found'; then
    ldd "$binding" >&2
    die "ldd: unresolved libraries"
  fi
  local unresolved
  unresolved="$(comm -23 <(nm -D --undefined-only "$binding" | awk '{print $2}' | sed 's/@.*//' | grep -E '^TFE?_' | sort -u) <(echo "$exported"))"
  [[ -z "$unresolved" ]] || die "the built binding imports symbols the libraries do not define: $unresolved"

  # 6. The package as installed into app/: runtime files, its own dependencies nested (not
  #    @tensorflow/*, which must resolve to app/'s single tfjs so the backend registers there).
  mkdir -p "$PKG/node_modules"
  (cd "$tn" && cp -a package.json README.md dist lib "$PKG/")
  mkdir -p "$PKG/deps"
  cp -al "$tn/deps/lib" "$PKG/deps/lib" 2>/dev/null || cp -a "$tn/deps/lib" "$PKG/deps/lib"
  local d
  for d in "$stage"/node_modules/* "$stage"/node_modules/.bin; do
    case "$(basename "$d")" in @tensorflow | .bin | .package-lock.json) continue ;; esac
    cp -a "$d" "$PKG/node_modules/"
  done
  mkdir -p "$PKG/node_modules/@tensorflow"
  local secs=$(($(date +%s) - t0))
  cat >"$PKG/$STAMP_NAME" <<EOF
{"tfjsNode":"$TFJS_NODE_VERSION","tensorflowCpuWheel":"$TF_WHEEL_VERSION","nodeAbi":"$NODE_ABI","napi":"$NAPI","nodeHeaders":"$nodedir/include/node","builtAt":"$(date -u +%FT%TZ)","wheelSeconds":$t_wheel,"compileSeconds":$t_build,"totalSeconds":$secs}
EOF
  rm -rf "$stage"
  log "built in ${secs}s (compile ${t_build}s): $PKG"
}

if [[ ! -f "$PKG/$STAMP_NAME" ]]; then
  build
else
  log "using the cached build: $PKG"
fi

# Install: hard links from the cache (same file system) or a copy.
rm -rf "$TARGET"
mkdir -p "$(dirname "$TARGET")"
cp -al "$PKG" "$TARGET" 2>/dev/null || { rm -rf "$TARGET"; cp -a "$PKG" "$TARGET"; }

if ! smoke_test; then
  (cd "$APP" && node scripts/check-tfjs-node.cjs) || true # the same check, its reason shown
  die "installed, but app/ cannot load @tensorflow/tfjs-node"
fi
log "ok: $TARGET ($(du -sh --apparent-size "$TARGET" | cut -f1), tensorflow-cpu $TF_WHEEL_VERSION libraries)"
