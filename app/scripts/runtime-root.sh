#!/usr/bin/env bash
# The distroless-style root of app/Dockerfile's runtime (RUNTIME=distroless), made inside the Node
# image it is cut from (as gcr.io/distroless/nodejs is cut from Debian packages):
#   runtime-root.sh <root> <node_modules>
# <root> gets only what the running server loads: /usr/local/bin/node, the shared libraries that
# node and every native file under <node_modules> (tfjs_binding.node and libtensorflow, sharp and
# its libvips) need, resolved by ldd (the glibc loader among them), libgcc_s (glibc dlopens it to
# unwind a cancelled or exiting thread), an ld.so cache, /etc/passwd and /etc/group (root, nobody,
# app 10001), /etc/nsswitch.conf, /etc/os-release, /tmp (1777) and, for scanners, the dpkg status
# and copyright of each Debian package a library came from (/var/lib/dpkg/status.d/, as distroless
# images have). No shell, no package manager, no npm. Fails when ldd cannot resolve a library.
# Node's ICU carries its own time-zone data: TZ=Area/City works without /usr/share/zoneinfo.
set -euo pipefail
R="$1"
NM="$(readlink -f "$2")"
NODE=/usr/local/bin/node
say() { echo "runtime-root: $*" >&2; }

mkdir -p "$R"/etc "$R"/tmp "$R"/usr/local/bin "$R"/usr/lib "$R"/usr/lib64 "$R"/var/lib/dpkg/status.d
chmod 1777 "$R/tmp"
# Debian's merged /usr: the loader is asked for as /lib64/..., libraries live under /usr/lib.
ln -s usr/lib "$R/lib"
ln -s usr/lib64 "$R/lib64"
cp -p "$NODE" "$R$NODE"

# Every ELF file the server may load: node, and the native addons and libraries in node_modules.
mapfile -t elves < <(
  echo "$NODE"
  find "$NM" -type f \( -name '*.node' -o -name '*.so' -o -name '*.so.*' \) | sort
)
declare -A libs=()
for f in "${elves[@]}"; do
  [[ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" == '177ELF' ]] || continue
  out="$(ldd "$f" 2>&1)" || { say "ldd $f failed: $out"; exit 1; }
  if grep -q 'not found' <<<"$out"; then
    say "ldd $f: unresolved libraries:"
    grep 'not found' <<<"$out" >&2
    exit 1
  fi
  # "libm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x...)" and the loader "/lib64/ld-linux-x86-64.so.2 (0x...)"
  while read -r p; do
    [[ -n "$p" && "$(readlink -f "$p")" != "$NM"/* ]] && libs["$p"]=1
  done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3; next } $1 ~ /^\// { print $1 }' <<<"$out")
done
gcc_s="$(ls /usr/lib/*-linux-gnu/libgcc_s.so.1 2>/dev/null | head -n1 || true)"
[[ -n "$gcc_s" ]] && libs["$gcc_s"]=1

declare -A pkgs=() dests=()
for p in $(printf '%s\n' "${!libs[@]}" | sort); do
  # Under the canonical folder (/lib/x86_64-linux-gnu -> /usr/lib/x86_64-linux-gnu), by the name
  # asked for (the soname), as a file: symlink chains collapse into the one file they end at.
  dest="$R$(readlink -f "$(dirname "$p")")/$(basename "$p")"
  [[ -n "${dests[$dest]:-}" ]] && continue
  dests["$dest"]=1
  mkdir -p "$(dirname "$dest")"
  cp -L "$p" "$dest"
  real="$(readlink -f "$p")"
  pkg="$(dpkg -S "$p" 2>/dev/null || dpkg -S "$real" 2>/dev/null ||
    dpkg -S "/lib/$(basename "$(dirname "$real")")/$(basename "$real")" 2>/dev/null || true)"
  pkg="${pkg%%:*}"
  [[ -n "$pkg" ]] && pkgs["$pkg"]=1
  say "$p -> ${dest#"$R"} ($(stat -c %s "$dest") bytes${pkg:+, $pkg})"
done
for pkg in "${!pkgs[@]}"; do
  dpkg-query -s "$pkg" >"$R/var/lib/dpkg/status.d/$pkg"
  if [[ -f "/usr/share/doc/$pkg/copyright" ]]; then
    mkdir -p "$R/usr/share/doc/$pkg"
    cp -L "/usr/share/doc/$pkg/copyright" "$R/usr/share/doc/$pkg/"
  fi
done

cat >"$R/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
app:x:10001:10001:app:/nonexistent:/sbin/nologin
EOF
cat >"$R/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
app:x:10001:
EOF
cat >"$R/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
hosts: files dns
networks: files
EOF
cp -L /etc/os-release "$R/etc/os-release"
# The loader's cache of the libraries above (it would also search the default folders without one).
: >"$R/etc/ld.so.conf"
ldconfig -r "$R"
rm "$R/etc/ld.so.conf"

# node runs inside the root alone (the addons' libraries are checked by the image's own RUN steps).
chroot "$R" /usr/local/bin/node -e 'process.stdout.write(`runtime-root: node ${process.version} runs in the root\n`)' >&2
say "$(du -sh --apparent-size "$R" | cut -f1) in $(find "$R" -type f | wc -l) files, packages: ${!pkgs[*]}"
