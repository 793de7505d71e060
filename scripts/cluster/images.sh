#!/usr/bin/env bash
# The images this machine cannot pull, made here and pushed to the local registry:
#   localhost:5001/food11/node:<NODE_BASE_VERSION>-<DEBIAN_SUITE>-slim   stand-in for Docker Hub's
#       node:<major>-<suite>-slim, as that image is made: Debian minbase slimmed as Debian's slim
#       images are (no docs, man pages, locales) (mmdebstrap, Debian's packages; no
#       ca-certificates: the official slim image purges them) + the official Node.js
#       build and npm under /usr/local (the prefix scripts/node.sh fetches from the npm registry),
#       a `node` user 1000:1000 with /home/node. No extra CA certificates: builds that need them
#       get them as a build arg (food11:imageExtraCaCertificates), as any user of node:24-slim.
#   localhost:5001/pause:<PAUSE_VERSION>   the pod sandbox image: pause.c from the k8s.io/kubernetes
#       module, gcc -static.
# Idempotent: an image already in the registry is not rebuilt.
#   scripts/cluster/images.sh [base|pause]...   (default both)
# Env: DOCKER_HOST (the engine to build with), FOOD11_CLUSTER_DIR (work files), REGISTRY (localhost:5001).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../e2e/versions.sh
. "$HERE/../e2e/versions.sh"
# shellcheck source=versions.sh
. "$HERE/versions.sh"
D="$CLUSTER_STATE_DIR"
REGISTRY="${REGISTRY:-localhost:5001}"
WORK="$D/images"
mkdir -p "$WORK"

say() { echo "cluster images: $*" >&2; }
in_registry() { # in_registry REPO TAG
  curl -sf -o /dev/null -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$REGISTRY/v2/$1/manifests/$2"
}

base_image() {
  local repo=food11/node tag="$NODE_BASE_VERSION-$DEBIAN_SUITE-slim" t0=$SECONDS prefix
  if in_registry "$repo" "$tag"; then say "$REGISTRY/$repo:$tag present"; return 0; fi
  say "building $REGISTRY/$repo:$tag (Debian $DEBIAN_SUITE minbase + Node.js $NODE_BASE_VERSION + npm $NPM_BASE_VERSION; ~2 min)"
  prefix="$(bash "$HERE/../node.sh" prefix)"
  # The customize hooks run on the host with the new root as $1.
  # Debian's slim images (node:*-slim's base) leave out docs, man pages and locales: so does this.
  nice -n 19 mmdebstrap --quiet --variant=minbase \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --customize-hook="cp -a '$prefix'/bin '$prefix'/include '$prefix'/lib \"\$1/usr/local/\"" \
    --customize-hook="chroot \"\$1\" groupadd --gid 1000 node && chroot \"\$1\" useradd --uid 1000 --gid node --shell /bin/bash --create-home node" \
    --customize-hook="rm -rf \"\$1\"/var/lib/apt/lists/* \"\$1\"/var/cache/apt/*" \
    "$DEBIAN_SUITE" "$WORK/node-base.tar" "$DEBIAN_MIRROR" >"$WORK/mmdebstrap.log" 2>&1 ||
    { tail -n 20 "$WORK/mmdebstrap.log" >&2; say "mmdebstrap failed (log $WORK/mmdebstrap.log)"; return 1; }
  docker import \
    --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change "ENV NODE_VERSION=$NODE_BASE_VERSION" \
    --change 'CMD ["node"]' \
    "$WORK/node-base.tar" "$REGISTRY/$repo:$tag" >/dev/null
  docker run --rm "$REGISTRY/$repo:$tag" sh -c 'echo "node $(node -v), npm $(npm -v), user $(id -u node):$(id -g node)"' >&2
  docker push -q "$REGISTRY/$repo:$tag" >/dev/null
  rm -f "$WORK/node-base.tar"
  say "$REGISTRY/$repo:$tag pushed in $((SECONDS - t0))s"
}

pause_image() {
  local repo=pause tag="$PAUSE_VERSION" src dir="$WORK/pause"
  if in_registry "$repo" "$tag"; then say "$REGISTRY/$repo:$tag present"; return 0; fi
  src="$(go env GOMODCACHE)/k8s.io/kubernetes@$KUBE_VERSION/build/pause/linux/pause.c"
  [ -f "$src" ] || GOFLAGS=-mod=mod go mod download "k8s.io/kubernetes@$KUBE_VERSION" >/dev/null
  [ -f "$src" ] || { say "no $src"; return 1; }
  rm -rf "$dir" && mkdir -p "$dir/root"
  gcc -Os -static -DVERSION="\"$PAUSE_VERSION\"" -o "$dir/root/pause" "$src"
  strip "$dir/root/pause"
  tar -C "$dir/root" -cf "$dir/pause.tar" pause
  docker import --change 'ENTRYPOINT ["/pause"]' --change 'USER 65535:65535' "$dir/pause.tar" "$REGISTRY/$repo:$tag" >/dev/null
  docker push -q "$REGISTRY/$repo:$tag" >/dev/null
  say "$REGISTRY/$repo:$tag pushed"
}

what=("$@")
[ ${#what[@]} -eq 0 ] && what=(pause base)
for w in "${what[@]}"; do
  case "$w" in
    base) base_image ;;
    pause) pause_image ;;
    *) say "unknown image '$w' (base, pause)"; exit 2 ;;
  esac
done
