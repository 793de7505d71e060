#!/usr/bin/env bash
# Build the end-to-end toolchain from Go modules, once, into a cache outside the tree:
#   pulumi CLI, pulumi-language-nodejs, pulumi-resource-kubernetes, etcd, kube-apiserver, kube-controller-manager,
#   kube-scheduler, kwok, kwokctl (the kwok e2e); kubelet, kube-proxy, metrics-server, traefik and
#   pulumi-resource-docker (the real-pods cluster, scripts/cluster/).
# Idempotent: every piece is keyed by its versions; a present binary is not rebuilt.
# Usage: scripts/e2e/build.sh [piece...]   (pieces: pulumi langhost provider kube kubectl etcd kwok
#        kubelet metrics-server traefik docker-provider kube-score; default: the kwok e2e's; `cluster`:
#        the real-pods cluster's, alone or beside others: `cluster kube-score`; each piece built once)
# Env:   FOOD11_E2E_CACHE (default $HOME/.cache/food11-e2e), FOOD11_E2E_NICE (default 19)
# Exit:  0 built/cached, 1 a build step failed (named on stderr), 77 no Go toolchain (skip).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.sh
. "$HERE/versions.sh"

NICE="${FOOD11_E2E_NICE:-19}"
SRC="$E2E_CACHE/src"
# Third-party sources the registries do not serve (shared/vendor beside the repository).
VENDOR_DIR="${FOOD11_VENDOR_DIR:-$(cd "$HERE/../../.." && pwd)/shared/vendor}"
LOGS="$E2E_CACHE/logs"
mkdir -p "$E2E_BIN" "$SRC" "$LOGS"

if ! command -v go >/dev/null 2>&1; then
  echo "e2e build: no Go toolchain on PATH (need Go >= 1.26); install Go or skip the e2e suite" >&2
  exit 77
fi

# pulumi/pkg v3.274.1 declares go 1.26.6; with GOTOOLCHAIN=local an older Go cannot build it.
GO_MIN="go1.26.6"
GO_HAVE="$(go env GOVERSION)"
if [ "$(printf '%s\n%s\n' "$GO_MIN" "$GO_HAVE" | sort -V | head -n1)" != "$GO_MIN" ]; then
  echo "e2e build: needs Go >= ${GO_MIN#go} (found ${GO_HAVE#go}); skip the e2e suite or install a newer Go" >&2
  exit 77
fi

export CGO_ENABLED=0
export GOFLAGS="-trimpath -mod=mod -buildvcs=false"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export GOPROXY="${GOPROXY:-https://proxy.golang.org,direct}"

STEP=""
fail() {
  echo "e2e build: step '$STEP' failed: $*" >&2
  exit 1
}
trap 'rc=$?; if [ $rc -ne 0 ] && [ $rc -ne 77 ] && [ -n "$STEP" ]; then echo "e2e build: step $STEP failed (exit $rc); log: $LOGS/$STEP.log" >&2; fi' EXIT

now() { date +%s; }

# mod_field FIELD MODULE@VERSION -> prints one field of `go mod download -json` for that module
# version (downloading it): GoMod, the path of its go.mod; Dir, its source folder.
mod_field() {
  local j
  j="$(go mod download -json "$2")" || fail "go mod download $2"
  printf '%s\n' "$j" | sed -n "s/^\t\"$1\": \"\(.*\)\",\$/\1/p"
}

# make_wrapper DIR MODULE VERSION MAPFN
# Writes DIR/go.mod: requires MODULE@VERSION, repeats its non-local replace lines, and turns each
# local replace (=> ./x or ../x) of a module into a versioned replace chosen by MAPFN (a shell
# function printing the version for a module path, or nothing to drop the line).
make_wrapper() {
  local dir="$1" mod="$2" ver="$3" mapfn="$4" gm gover
  gm="$(mod_field GoMod "$mod@$ver")"
  [ -s "$gm" ] || fail "no go.mod for $mod@$ver"
  mkdir -p "$dir"
  gover="$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gm")"
  {
    echo "module food11.local/e2e/$(basename "$dir")"
    echo
    echo "go ${gover:-1.24.0}"
    grep -E '^godebug ' "$gm" || true
    echo
    echo "require $mod $ver"
    echo
    # replace lines, single-line or in blocks, normalised to "replace A => B [V]"
    awk '
      /^replace \($/ { inblock = 1; next }
      inblock && /^\)$/ { inblock = 0; next }
      inblock { sub(/^[ \t]+/, ""); if ($0 != "" && $0 !~ /^\/\//) print "R " $0; next }
      /^replace / { sub(/^replace /, ""); print "R " $0 }
    ' "$gm" | while read -r _ lhs arrow rhs rver; do
      [ "$arrow" = "=>" ] || continue
      case "$rhs" in
        ./* | ../*)
          local lpath="${lhs%% *}" v
          v="$($mapfn "$lpath")"
          if [ -n "$v" ]; then echo "replace $lpath => $lpath $v"; fi
          ;;
        *) echo "replace $lhs => $rhs ${rver:-}" ;;
      esac
    done
  } >"$dir/go.mod"
}

# build_pkgs DIR OUTDIR LDFLAGS VERSION PKG...
# go get each main package at VERSION (its module's version: a bare go get would upgrade it), then
# build it by import path.
build_pkgs() {
  local dir="$1" out="$2" ldflags="$3" ver="$4" tags=""
  shift 4
  (
    cd "$dir"
    for p in "$@"; do
      nice -n "$NICE" go get "$p@$ver" || exit 1
    done
    for p in "$@"; do
      nice -n "$NICE" go build -tags "$tags" -ldflags "$ldflags" -o "$out/" "$p" || exit 1
    done
  )
}

timed() {
  # timed NAME FN : runs FN unless NAME's stamp (stamp_of) exists; logs to $LOGS/NAME.log;
  # records seconds
  local name="$1" fn="$2" stamp t0 t1
  stamp="$E2E_CACHE/stamps/$(stamp_of "$1")"
  mkdir -p "$E2E_CACHE/stamps"
  if [ -f "$stamp" ]; then
    echo "e2e build: $name cached ($(cat "$stamp")s cold)"
    return 0
  fi
  # One builder per piece at a time (two runs may share the cache): wait, then re-check.
  mkdir -p "$E2E_CACHE/locks"
  exec 9>"$E2E_CACHE/locks/$name.lock"
  flock 9
  if [ -f "$stamp" ]; then
    echo "e2e build: $name cached ($(cat "$stamp")s cold, built by another run)"
    exec 9>&-
    return 0
  fi
  STEP="$name"
  t0="$(now)"
  echo "e2e build: $name ... (log $LOGS/$name.log)"
  local rc=0
  set +e
  (set -e; "$fn") >"$LOGS/$name.log" 2>&1
  rc=$?
  set -e
  if [ "$rc" -ne 0 ]; then
    tail -n 30 "$LOGS/$name.log" >&2
    fail "exit $rc, see $LOGS/$name.log"
  fi
  t1="$(now)"
  echo "$((t1 - t0))" >"$stamp"
  echo "e2e build: $name done in $((t1 - t0))s (load: $(cut -d' ' -f1-3 /proc/loadavg))"
  exec 9>&-
  STEP=""
}

# ---------------------------------------------------------------- pulumi CLI
map_pulumi() { case "$1" in github.com/pulumi/pulumi/sdk/v3) echo "$PULUMI_VERSION" ;; esac; }
build_pulumi() {
  local d="$SRC/pulumi-$PULUMI_VERSION" out="$E2E_CACHE/pulumi-$PULUMI_VERSION/bin"
  mkdir -p "$out"
  make_wrapper "$d" github.com/pulumi/pulumi/pkg/v3 "$PULUMI_VERSION" map_pulumi
  (cd "$d" && go mod edit -require "github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION")
  build_pkgs "$d" "$out" "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" "$PULUMI_VERSION" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  ln -sf "$out/pulumi" "$E2E_BIN/pulumi"
}

# ---------------------------------------------------------------- Node.js language host
# Built from the sdk/v3 module (see versions.sh) and installed beside the CLI binary, where the CLI
# looks for language hosts first (found on $PATH instead it works too, with a warning).
map_langhost() { :; }
build_langhost() {
  local d="$SRC/langhost-$PULUMI_LANGHOST_VERSION" out="$E2E_CACHE/pulumi-$PULUMI_VERSION/bin"
  mkdir -p "$out"
  make_wrapper "$d" github.com/pulumi/pulumi/sdk/v3 "$PULUMI_LANGHOST_VERSION" map_langhost
  (
    cd "$d"
    nice -n "$NICE" go build \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_LANGHOST_VERSION" \
      -o "$out/" github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs
  ) || exit 1
  [ -x "$out/pulumi-language-nodejs" ] || { echo "pulumi-language-nodejs binary missing"; exit 1; }
  ln -sf "$out/pulumi-language-nodejs" "$E2E_BIN/pulumi-language-nodejs"
}

# ---------------------------------------------------------------- Kubernetes provider
map_provider() { case "$1" in github.com/pulumi/pulumi-kubernetes/sdk/v4) echo "$K8S_SDK_MODULE_VERSION" ;; esac; }
build_provider() {
  local d="$SRC/provider-$K8S_PROVIDER_MODULE_VERSION" out="$E2E_CACHE/provider-$K8S_PROVIDER_PLUGIN_VERSION/bin" mdir gen
  mkdir -p "$out"
  make_wrapper "$d" github.com/pulumi/pulumi-kubernetes/provider/v4 "$K8S_PROVIDER_MODULE_VERSION" map_provider
  mdir="$(mod_field Dir "github.com/pulumi/pulumi-kubernetes/provider/v4@$K8S_PROVIDER_MODULE_VERSION")"
  # main.go embeds schema-embed.json and terraform-mapping-embed.json, which the module zip lacks:
  # copy the command's sources and run its own generate.go (VERSION stamps the schema).
  gen="$d/cmd/pulumi-resource-kubernetes"
  rm -rf "$gen" && mkdir -p "$gen"
  cp "$mdir"/cmd/pulumi-resource-kubernetes/* "$gen/"
  chmod -R u+w "$gen"
  (cd "$d" && nice -n "$NICE" go get "github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider@$K8S_PROVIDER_MODULE_VERSION") || exit 1
  (cd "$gen" && VERSION="$K8S_PROVIDER_PLUGIN_VERSION" nice -n "$NICE" go run ./generate.go) || exit 1
  [ -s "$gen/schema-embed.json" ] || { echo "schema-embed.json not generated"; exit 1; }
  (cd "$d" && nice -n "$NICE" go build \
    -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$K8S_PROVIDER_PLUGIN_VERSION" \
    -o "$out/pulumi-resource-kubernetes" ./cmd/pulumi-resource-kubernetes) || exit 1
  ln -sf "$out/pulumi-resource-kubernetes" "$E2E_BIN/pulumi-resource-kubernetes"
}

# ---------------------------------------------------------------- etcd
map_etcd() {
  case "$1" in
    go.etcd.io/etcd/client/v2) echo "v2.305.${ETCD_VERSION##*.}" ;;
    go.etcd.io/etcd/*) echo "$ETCD_VERSION" ;;
  esac
}
build_etcd() {
  local d="$SRC/etcd-$ETCD_VERSION" out="$E2E_CACHE/etcd-$ETCD_VERSION/bin"
  mkdir -p "$out"
  make_wrapper "$d" go.etcd.io/etcd/server/v3 "$ETCD_VERSION" map_etcd
  build_pkgs "$d" "$out" "-s -w" "$ETCD_VERSION" go.etcd.io/etcd/server/v3
  # go build names the binary after the last path element of the module: "server".
  mv -f "$out/server" "$out/etcd"
  [ -x "$out/etcd" ] || { echo "etcd binary missing"; exit 1; }
  ln -sf "$out/etcd" "$E2E_BIN/etcd"
}

# ---------------------------------------------------------------- Kubernetes control plane
# Version stamps: kwokctl reads the component versions from the binaries.
kube_ldflags() {
  local minor ld="-s -w" p
  minor="$(echo "$KUBE_VERSION" | cut -d. -f2)"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ld="$ld -X $p.gitCommit=0000000000000000000000000000000000000000 -X $p.gitTreeState=clean"
    ld="$ld -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  printf '%s' "$ld"
}
map_kube() { case "$1" in k8s.io/*) echo "v0.${KUBE_VERSION#v1.}" ;; esac; }
build_kube() {
  local d="$SRC/kube-$KUBE_VERSION" out="$E2E_CACHE/kube-$KUBE_VERSION/bin" ld
  mkdir -p "$out"
  make_wrapper "$d" k8s.io/kubernetes "$KUBE_VERSION" map_kube
  ld="$(kube_ldflags)"
  build_pkgs "$d" "$out" "$ld" "$KUBE_VERSION" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler
  for b in kube-apiserver kube-controller-manager kube-scheduler; do ln -sf "$out/$b" "$E2E_BIN/$b"; done
}
# kubectl: kwokctl calls it (found on PATH) to wait for the apiserver and to manage nodes.
build_kubectl() {
  local d="$SRC/kubectl-$KUBE_VERSION" out="$E2E_CACHE/kube-$KUBE_VERSION/bin"
  mkdir -p "$out"
  make_wrapper "$d" k8s.io/kubernetes "$KUBE_VERSION" map_kube
  build_pkgs "$d" "$out" "$(kube_ldflags)" "$KUBE_VERSION" k8s.io/kubernetes/cmd/kubectl
  ln -sf "$out/kubectl" "$E2E_BIN/kubectl"
}

# ---------------------------------------------------------------- kwok
map_none() { :; }
build_kwok() {
  local d="$SRC/kwok-$KWOK_VERSION" out="$E2E_CACHE/kwok-$KWOK_VERSION/bin"
  mkdir -p "$out"
  make_wrapper "$d" sigs.k8s.io/kwok "$KWOK_VERSION" map_none
  build_pkgs "$d" "$out" "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${KUBE_VERSION#v}" "$KWOK_VERSION" \
    sigs.k8s.io/kwok/cmd/kwok sigs.k8s.io/kwok/cmd/kwokctl
  for b in kwok kwokctl; do ln -sf "$out/$b" "$E2E_BIN/$b"; done
}

# ---------------------------------------------------------------- kubelet + kube-proxy (real node)
# Same module, same wrapper recipe and version stamps as the control plane: the node matches it.
build_kubelet() {
  local d="$SRC/kubelet-$KUBE_VERSION" out="$E2E_CACHE/kube-$KUBE_VERSION/bin"
  mkdir -p "$out"
  make_wrapper "$d" k8s.io/kubernetes "$KUBE_VERSION" map_kube
  build_pkgs "$d" "$out" "$(kube_ldflags)" "$KUBE_VERSION" \
    k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy
  for b in kubelet kube-proxy; do ln -sf "$out/$b" "$E2E_BIN/$b"; done
}

# ---------------------------------------------------------------- metrics-server
build_metrics_server() {
  local d="$SRC/metrics-server-$METRICS_SERVER_VERSION" out="$E2E_CACHE/metrics-server-$METRICS_SERVER_VERSION/bin"
  mkdir -p "$out"
  make_wrapper "$d" sigs.k8s.io/metrics-server "$METRICS_SERVER_VERSION" map_none
  build_pkgs "$d" "$out" "-s -w -X sigs.k8s.io/metrics-server/pkg/version.gitVersion=$METRICS_SERVER_VERSION" \
    "$METRICS_SERVER_VERSION" sigs.k8s.io/metrics-server/cmd/metrics-server
  ln -sf "$out/metrics-server" "$E2E_BIN/metrics-server"
}

# ---------------------------------------------------------------- kube-score (manifest linter)
# The outside judge of the rendered manifests (npm run lint:kube-score): `go install` of its
# command, as its README says, from the Go module proxy.
build_kube_score() {
  local out="$E2E_CACHE/kube-score-$KUBE_SCORE_VERSION/bin"
  mkdir -p "$out"
  GOBIN="$out" nice -n "$NICE" go install \
    -ldflags "-s -w -X main.version=$KUBE_SCORE_VERSION" \
    "github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE_VERSION" || exit 1
  ln -sf "$out/kube-score" "$E2E_BIN/kube-score"
}

# ---------------------------------------------------------------- Traefik (ingress controller)
# Built from a writable copy of the module with three changes, because the Go proxy refuses (403)
# 15 of its dependencies' zips and one nested module: 14 back lego's ACME DNS-01 providers (the
# providers/dns registry imports every one), one is containous' fork of go-http-auth. So the
# DNS-01 registry is replaced by traefik/nodns.go.in, which names the gap (HTTP-01 and TLS-ALPN-01
# ACME stay); go-http-auth is upstream v0.4.0 with the fork's CheckSecret and RequireAuthStale
# added (traefik/go-http-auth-compat.go.in); and the nested
# module dynamic/ext (two empty extension structs) is traefik/ext.go.in. Routing is untouched.
build_traefik() {
  local d="$SRC/traefik-$TRAEFIK_VERSION" out="$E2E_CACHE/traefik-$TRAEFIK_VERSION/bin" mdir lego
  mkdir -p "$out"
  mdir="$(mod_field Dir "github.com/traefik/traefik/v3@$TRAEFIK_VERSION")"
  rm -rf "$d" && cp -r "$mdir" "$d" && chmod -R u+w "$d"
  lego="$(sed -n 's|^[[:space:]]*github.com/go-acme/lego/\(v[0-9]*\) v.*|\1|p' "$d/go.mod" | head -n1)"
  [ -n "$lego" ] || { echo "traefik: no go-acme/lego requirement in go.mod"; exit 1; }
  mkdir -p "$d/pkg/provider/acme/nodns"
  sed "s|@LEGO@|$lego|" "$HERE/traefik/nodns.go.in" >"$d/pkg/provider/acme/nodns/nodns.go"
  sed -i "s|\"github.com/go-acme/lego/$lego/providers/dns\"|dns \"github.com/traefik/traefik/v3/pkg/provider/acme/nodns\"|" \
    "$d/pkg/provider/acme/provider.go"
  grep -q 'acme/nodns' "$d/pkg/provider/acme/provider.go" || { echo "traefik: DNS-01 import not found"; exit 1; }
  # go.mod replaces github.com/traefik/traefik/dynamic/ext with ./pkg/config/dynamic/ext, a nested
  # module the zip leaves out: put traefik/ext.go.in there.
  if [ ! -f "$d/pkg/config/dynamic/ext/go.mod" ]; then
    mkdir -p "$d/pkg/config/dynamic/ext"
    printf 'module github.com/traefik/traefik/dynamic/ext\n\ngo 1.24\n' >"$d/pkg/config/dynamic/ext/go.mod"
    cp "$HERE/traefik/ext.go.in" "$d/pkg/config/dynamic/ext/ext.go"
  fi
  (
    cd "$d"
    # go-http-auth: upstream v0.4.0 (a pre-modules zip) plus the fork's two functions Traefik calls.
    local gha
    gha="$(mod_field Dir github.com/abbot/go-http-auth@v0.4.0)"
    rm -rf third_party/go-http-auth && mkdir -p third_party && cp -r "$gha" third_party/go-http-auth
    chmod -R u+w third_party/go-http-auth
    rm -f third_party/go-http-auth/*_test.go
    printf 'module github.com/abbot/go-http-auth\n\ngo 1.24\n' >third_party/go-http-auth/go.mod
    cp "$HERE/traefik/go-http-auth-compat.go.in" third_party/go-http-auth/traefik_compat.go
    go mod edit -replace github.com/abbot/go-http-auth=./third_party/go-http-auth
    nice -n "$NICE" go build -ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$TRAEFIK_VERSION" \
      -o "$out/traefik" ./cmd/traefik
  ) || exit 1
  ln -sf "$out/traefik" "$E2E_BIN/traefik"
}

# ---------------------------------------------------------------- Pulumi Docker provider
# From the source snapshot in shared/vendor (GitHub releases and the Go proxy are unreachable),
# the recipe of its README: upstream patches, schema-embed.json, a static build; labelled with the
# version @pulumi/docker asks the engine for.
build_docker_provider() {
  local tarball d="$SRC/docker-provider-$DOCKER_PROVIDER_SOURCE" out="$E2E_CACHE/docker-provider-$DOCKER_PROVIDER_PLUGIN_VERSION/bin"
  tarball="$(ls "$VENDOR_DIR"/pulumi-docker-"$DOCKER_PROVIDER_SOURCE"-src.tar.gz 2>/dev/null | head -n1)"
  [ -f "$tarball" ] || { echo "no pulumi-docker-$DOCKER_PROVIDER_SOURCE-src.tar.gz in $VENDOR_DIR"; exit 1; }
  mkdir -p "$out"
  rm -rf "$d" && mkdir -p "$d"
  tar xzf "$tarball" -C "$d"
  (cd "$d/pulumi-docker/upstream" && for p in ../patches/*.patch; do patch -p1 <"$p" || exit 1; done) || exit 1
  (
    cd "$d/pulumi-docker/provider"
    python3 -c "import json;json.dump(json.load(open('cmd/pulumi-resource-docker/schema.json')),open('cmd/pulumi-resource-docker/schema-embed.json','w'),separators=(',',':'))"
    nice -n "$NICE" go build \
      -ldflags "-s -w -X github.com/pulumi/pulumi-docker/provider/v5/pkg/version.Version=$DOCKER_PROVIDER_PLUGIN_VERSION" \
      -o "$out/pulumi-resource-docker" ./cmd/pulumi-resource-docker
  ) || exit 1
  ln -sf "$out/pulumi-resource-docker" "$E2E_BIN/pulumi-resource-docker"
}

# Cold build seconds per piece, measured on this project's 2-core machines (docs/e2e.md), for
# `--estimate`: what a build of the missing pieces will take, so a caller with a deadline (CI)
# can decide before it starts. Downloads of a cold Go module cache included.
cold_seconds() {
  case "$1" in
    pulumi) echo 900 ;; langhost) echo 120 ;; provider) echo 600 ;; kube) echo 420 ;;
    kubectl) echo 60 ;; etcd) echo 90 ;; kwok) echo 200 ;; kubelet) echo 120 ;;
    metrics-server) echo 240 ;; traefik) echo 900 ;; docker-provider) echo 300 ;;
    kube-score) echo 120 ;; *) echo 600 ;;
  esac
}

estimate=false
if [ "${1:-}" = "--estimate" ]; then estimate=true; shift; fi
pieces=("$@")
[ ${#pieces[@]} -eq 0 ] && pieces=(pulumi langhost provider kube kubectl etcd kwok)
named=("${pieces[@]}")
pieces=()
for p in "${named[@]}"; do
  # `cluster`: the real-pods cluster and its test: the control plane first, then the node, then
  # Pulumi. It may stand beside other pieces (`cluster kube-score`); each piece is built once.
  if [ "$p" = cluster ]; then
    set -- kube kubectl etcd kwok kubelet metrics-server traefik pulumi langhost provider docker-provider
  else
    set -- "$p"
  fi
  for q in "$@"; do
    printf '%s\n' "${pieces[@]}" | grep -qx -- "$q" || pieces+=("$q")
  done
done
if [ "$estimate" = true ]; then
  # Prints: <seconds> <missing pieces...> (0 when everything is cached).
  total=0 missing=()
  for p in "${pieces[@]}"; do
    [ "$p" = pulumi ] && ! printf '%s\n' "${pieces[@]}" | grep -qx langhost && pieces+=(langhost)
    if [ ! -f "$E2E_CACHE/stamps/$(stamp_of "$p")" ]; then
      total=$((total + $(cold_seconds "$p"))); missing+=("$p")
    fi
  done
  echo "$total ${missing[*]}"
  exit 0
fi
echo "e2e build: cache $E2E_CACHE; $(go version); load: $(uptime | sed 's/.*load average/load average/')"
for p in "${pieces[@]}"; do
  [ -n "$(stamp_of "$p")" ] ||
    { STEP="args"; fail "unknown piece '$p' (pulumi langhost provider kube kubectl etcd kwok kubelet metrics-server traefik kube-score docker-provider, or cluster)"; }
  timed "$p" "build_${p//-/_}"
  # The CLI runs a Node.js program only through its language host: build both.
  if [ "$p" = pulumi ]; then timed langhost build_langhost; fi
done
echo "e2e build: all pieces ready in $E2E_BIN"
