#!/usr/bin/env bash
# A single-node Kubernetes with a real kubelet on this machine, built from source (no image or
# binary download): `npm run cluster -- up | down | status | env`.
#
#   control plane  etcd, kube-apiserver (127.0.0.1:$APISERVER_PORT), kube-controller-manager,
#                  kube-scheduler: the e2e's binaries, started by kwokctl's binary runtime (no
#                  kwok controller, no fake node)
#   node           network namespace $NODE_NETNS ($NODE_IP, veth to $HOST_IP on this host), with
#                  containerd (CRI, runc, CNI bridge $POD_CIDR), kubelet and kube-proxy in it
#   add-ons        metrics-server (metrics.k8s.io: kubectl top, the HPA), Traefik v3 serving
#                  ingressClassName nginx Ingresses on 127.0.0.1:$INGRESS_PORT
#   images         Docker engine (its socket under the state dir unless one already answers),
#                  registry on 127.0.0.1:$REGISTRY_PORT (pods pull localhost:5001/... through it),
#                  the base and pause images made here (scripts/cluster/images.sh)
#
#   up       build what is missing (scripts/e2e/build.sh cluster; tens of minutes cold), start
#            what is not running, wait for the node Ready and the metrics API; idempotent
#   down     stop everything `up` started, by PID, remove the namespace, mounts and cgroups of the
#            pods; images stay in the registry's storage; idempotent
#   status   what runs, the node, the metrics API
#   env      the export lines for kubectl, pulumi and docker (eval "$(npm run -s cluster -- env)")
#   images   only the Docker engine, the registry and the base and pause images
# Env: FOOD11_CLUSTER_DIR (state, default ~/.cache/food11-cluster), FOOD11_E2E_CACHE (binaries),
#      FOOD11_KCM_ARGS (extra kube-controller-manager flags, e.g. the HPA's sync period),
#      FOOD11_METRIC_RESOLUTION (metrics-server, default 15s).
# Exit: 0 ok, 1 a step failed (named), 2 usage, 77 cannot run here (reason printed).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
# shellcheck source=../e2e/versions.sh
. "$HERE/../e2e/versions.sh"
# shellcheck source=versions.sh
. "$HERE/versions.sh"
D="$CLUSTER_STATE_DIR"
NAME=food11
KWOK_DIR="$D/kwok"
KUBECONFIG_FILE="$D/kubeconfig"
PKI="$KWOK_DIR/clusters/$NAME/pki"
CTRD_SOCK="$D/containerd/containerd.sock"
mkdir -p "$D/logs" "$D/pids"

say() { echo "cluster: $*" >&2; }
die() { say "FAILED: $*"; exit 1; }
kc() { "$E2E_BIN/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }
innode() { nsenter --net="/run/netns/$NODE_NETNS" -- "$@"; }
alive() { [ -s "$D/pids/$1" ] && kill -0 "$(cat "$D/pids/$1")" 2>/dev/null; }
# start NAME [--node] CMD...: background, niced 0, log + pid under the state dir.
start() {
  local name="$1" ns=()
  shift
  if [ "${1:-}" = "--node" ]; then ns=(nsenter "--net=/run/netns/$NODE_NETNS" --); shift; fi
  if alive "$name"; then return 0; fi
  # Daemons must not inherit the callers' lock descriptors (this script's, test.sh's, flock(1)'s):
  # a daemon holding one would keep the lock for its whole life.
  setsid "${ns[@]}" "$@" >>"$D/logs/$name.log" 2>&1 </dev/null 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
  echo $! >"$D/pids/$name"
}
stop() { # stop NAME [timeout s]
  local name="$1" t="${2:-20}" pid
  alive "$name" || { rm -f "$D/pids/$name"; return 0; }
  pid="$(cat "$D/pids/$name")"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 $((t * 5))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$D/pids/$name"
}
wait_for() { # wait_for SECONDS WHAT CMD...
  local s="$1" what="$2"
  shift 2
  for _ in $(seq 1 "$s"); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  die "$what not ready after ${s}s"
}

docker_host() {
  if [ -n "${DOCKER_HOST:-}" ]; then echo "$DOCKER_HOST"
  elif [ -S /var/run/docker.sock ] && docker -H unix:///var/run/docker.sock info >/dev/null 2>&1 && ! alive dockerd; then
    echo "unix:///var/run/docker.sock"
  else echo "unix://$D/docker/docker.sock"; fi
}

cmd_env() {
  echo "export KUBECONFIG=$KUBECONFIG_FILE"
  echo "export PATH=$E2E_BIN:\$PATH"
  echo "export DOCKER_HOST=$(docker_host)"
  echo "export FOOD11_INGRESS_URL=http://127.0.0.1:$INGRESS_PORT/"
}

# ------------------------------------------------------------------ prerequisites
DEBIAN_PKGS=(docker.io docker-registry containerd runc containernetworking-plugins mmdebstrap iptables iproute2 util-linux curl gcc libc6-dev)
prereqs_debian() {
  [ "$(id -u)" -eq 0 ] || { say "SKIPPED: needs root (network namespaces, cgroups, containerd)"; exit 77; }
  [ "$(uname -s)" = Linux ] || { say "SKIPPED: needs Linux"; exit 77; }
  local missing=() c
  for c in dockerd docker-registry containerd runc mmdebstrap iptables ip nsenter curl gcc; do
    command -v "$c" >/dev/null 2>&1 || missing+=("$c")
  done
  [ -x /usr/lib/cni/bridge ] || missing+=("cni-plugins")
  if [ ${#missing[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null 2>&1; then
      say "installing Debian packages (missing: ${missing[*]}): ${DEBIAN_PKGS[*]}"
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${DEBIAN_PKGS[@]}"; } \
        >"$D/logs/apt.log" 2>&1 || die "apt-get install (log $D/logs/apt.log)"
    else
      say "SKIPPED: missing ${missing[*]} and no apt-get"; exit 77
    fi
  fi
}
prereqs() {
  prereqs_debian
  local need=(etcd kube-apiserver kube-controller-manager kube-scheduler kwokctl kubectl kubelet kube-proxy metrics-server traefik)
  local nb=()
  for c in "${need[@]}"; do [ -x "$E2E_BIN/$c" ] || nb+=("$c"); done
  if [ ${#nb[@]} -gt 0 ]; then
    say "building missing binaries (${nb[*]}) with scripts/e2e/build.sh: cold, tens of minutes"
    "$ROOT/scripts/e2e/build.sh" kube kubectl etcd kwok kubelet metrics-server traefik || exit $?
  fi
}

# ------------------------------------------------------------------ images: engine + registry
up_docker() {
  export DOCKER_HOST
  DOCKER_HOST="$(docker_host)"
  if [ "$DOCKER_HOST" = "unix://$D/docker/docker.sock" ]; then
    mkdir -p "$D/docker"
    if ! alive dockerd; then
      say "starting dockerd (state $D/docker; niced: it only builds images)"
      start dockerd nice -n 19 dockerd --data-root "$D/docker/data" --exec-root "$D/docker/run" \
        --pidfile "$D/docker/dockerd.pid" -H "$DOCKER_HOST" --userland-proxy=false
    fi
    wait_for 60 dockerd docker info
  fi
  mkdir -p "$D/registry"
  cat >"$D/registry/config.yml" <<EOF
version: 0.1
log: { level: warn }
storage:
  filesystem: { rootdirectory: $D/registry/data }
  delete: { enabled: true }
http:
  addr: 127.0.0.1:$REGISTRY_PORT
EOF
  if ! curl -sf -o /dev/null "http://127.0.0.1:$REGISTRY_PORT/v2/"; then
    say "starting the registry on 127.0.0.1:$REGISTRY_PORT (storage $D/registry/data)"
    start registry docker-registry serve "$D/registry/config.yml"
  fi
  wait_for 30 registry curl -sf -o /dev/null "http://127.0.0.1:$REGISTRY_PORT/v2/"
  REGISTRY="localhost:$REGISTRY_PORT" FOOD11_CLUSTER_DIR="$D" "$HERE/images.sh" pause base || die "images"
  build_ca
}

# This machine's extra CA certificates as one PEM bundle for image builds (lib/cluster/stack.ts
# passes it as food11:imageExtraCaCertificates); none: no bundle.
build_ca() {
  local f certs=()
  for f in "$BUILD_CA_DIR"/*.crt; do [ -f "$f" ] && certs+=("$f"); done
  if [ ${#certs[@]} -gt 0 ]; then
    cat "${certs[@]}" >"$D/build-ca.pem.tmp" && mv "$D/build-ca.pem.tmp" "$D/build-ca.pem"
  else
    rm -f "$D/build-ca.pem"
  fi
}

# ------------------------------------------------------------------ the node's network
up_netns() {
  if [ ! -e "/run/netns/$NODE_NETNS" ]; then
    say "creating network namespace $NODE_NETNS ($HOST_IP <-> $NODE_IP)"
    ip netns add "$NODE_NETNS"
  fi
  if ! ip link show "$HOST_VETH" >/dev/null 2>&1; then
    ip link add "$HOST_VETH" type veth peer name "$NODE_VETH" netns "$NODE_NETNS"
    ip addr add "$HOST_IP/30" dev "$HOST_VETH"
    ip link set "$HOST_VETH" up
    innode ip addr add "$NODE_IP/30" dev "$NODE_VETH"
    innode ip link set "$NODE_VETH" up
    innode ip link set lo up
    innode ip route add default via "$HOST_IP"
  fi
  ip route replace "$POD_CIDR" via "$NODE_IP" dev "$HOST_VETH"
  innode sysctl -qw net.ipv4.ip_forward=1
  # The node reaches this host's loopback services (registry, API server) at $HOST_IP: a DNAT
  # to 127.0.0.1, which route_localnet allows for packets coming in on the veth.
  sysctl -qw "net.ipv4.conf.$HOST_VETH.route_localnet=1"
  local port
  for port in "$REGISTRY_PORT" "$APISERVER_PORT"; do
    iptables -t nat -C PREROUTING -i "$HOST_VETH" -d "$HOST_IP" -p tcp --dport "$port" -j DNAT --to-destination "127.0.0.1:$port" 2>/dev/null ||
      iptables -t nat -A PREROUTING -i "$HOST_VETH" -d "$HOST_IP" -p tcp --dport "$port" -j DNAT --to-destination "127.0.0.1:$port"
  done
}

# ------------------------------------------------------------------ control plane
up_control_plane() {
  if [ -s "$KUBECONFIG_FILE" ] && kc get --raw /readyz >/dev/null 2>&1; then return 0; fi
  local kcm_args=() a
  printf 'FOOD11_KCM_ARGS=%s\nFOOD11_METRIC_RESOLUTION=%s\n' "${FOOD11_KCM_ARGS:-}" "${FOOD11_METRIC_RESOLUTION:-15s}" >"$D/cluster-flags.env" # the flags this cluster starts with (strategy-bench reads it)
  # Extra controller-manager flags (FOOD11_KCM_ARGS="--horizontal-pod-autoscaler-sync-period=5s ...").
  for a in ${FOOD11_KCM_ARGS:-}; do
    a="${a#--}"
    kcm_args+=("      - key: ${a%%=*}" "        value: \"${a#*=}\"")
  done
  mkdir -p "$KWOK_DIR"
  {
    echo "apiVersion: config.kwok.x-k8s.io/v1alpha1"
    echo "kind: KwokctlConfiguration"
    echo "options:"
    echo "  bindAddress: 127.0.0.1"
    echo "  kubeVersion: $KUBE_VERSION"
    echo "  kubeApiserverPort: $APISERVER_PORT"
    echo "componentsPatches:"
    # Aggregated APIs (metrics-server) authenticate the API server's proxied requests by the
    # request-header CA, as on any cluster; kwokctl's PKI signs the proxy client certificate.
    echo "  - name: kube-apiserver"
    echo "    extraArgs:"
    echo "      - key: requestheader-client-ca-file"
    echo "        value: $PKI/ca.crt"
    echo "      - key: requestheader-username-headers"
    echo "        value: X-Remote-User"
    echo "      - key: requestheader-group-headers"
    echo "        value: X-Remote-Group"
    echo "      - key: requestheader-extra-headers-prefix"
    echo "        value: X-Remote-Extra-"
    # The proxy client certificate is kwokctl's admin one: only its name may set the headers.
    echo "      - key: requestheader-allowed-names"
    echo "        value: kwok-admin"
    if [ ${#kcm_args[@]} -gt 0 ]; then
      echo "  - name: kube-controller-manager"
      echo "    extraArgs:"
      printf '%s\n' "${kcm_args[@]}"
    fi
  } >"$D/kwokctl.yaml"
  say "starting the control plane (Kubernetes $KUBE_VERSION) on 127.0.0.1:$APISERVER_PORT"
  KWOK_WORKDIR="$KWOK_DIR" PATH="$E2E_BIN:$PATH" "$E2E_BIN/kwokctl" --name "$NAME" --config "$D/kwokctl.yaml" \
    create cluster --runtime binary --disable kwok-controller \
    --etcd-binary "$E2E_BIN/etcd" --kube-apiserver-binary "$E2E_BIN/kube-apiserver" \
    --kube-controller-manager-binary "$E2E_BIN/kube-controller-manager" \
    --kube-scheduler-binary "$E2E_BIN/kube-scheduler" \
    --kubeconfig "$KUBECONFIG_FILE" --wait 3m >"$D/logs/kwokctl-create.log" 2>&1 \
    3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- ||
    { tail -n 30 "$D/logs/kwokctl-create.log" >&2; die "kwokctl create cluster (log $D/logs/kwokctl-create.log)"; }
  wait_for 60 kube-apiserver kc get --raw /readyz
}

# A kubeconfig for processes in the node's namespace: the API server at $HOST_IP (DNAT to
# loopback), verified against its certificate's "localhost" name.
node_kubeconfig() {
  cat >"$D/node.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $NAME
  cluster:
    server: https://$HOST_IP:$APISERVER_PORT
    certificate-authority: $PKI/ca.crt
    tls-server-name: localhost
users:
- name: node
  user:
    client-certificate: $PKI/admin.crt
    client-key: $PKI/admin.key
contexts:
- name: $NAME
  context: { cluster: $NAME, user: node }
current-context: $NAME
EOF
}

# ------------------------------------------------------------------ the node: containerd, kubelet, kube-proxy
up_node() {
  mkdir -p "$D/containerd/certs.d/localhost:$REGISTRY_PORT" "$D/cni/net.d" "$D/cni/ipam" "$D/kubelet"
  cat >"$D/containerd/config.toml" <<EOF
version = 2
root = "$D/containerd/root"
state = "$D/containerd/state"
[grpc]
  address = "$CTRD_SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost:$REGISTRY_PORT/pause:$PAUSE_VERSION"
  # root here cannot lower oom_score_adj (no CAP_SYS_RESOURCE): without this every sandbox fails.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$D/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$D/containerd/certs.d"
EOF
  cat >"$D/containerd/certs.d/localhost:$REGISTRY_PORT/hosts.toml" <<EOF
server = "http://$HOST_IP:$REGISTRY_PORT"
[host."http://$HOST_IP:$REGISTRY_PORT"]
  capabilities = ["pull", "resolve"]
EOF
  cat >"$D/cni/net.d/10-food11.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "food11",
  "plugins": [
    {
      "type": "bridge", "bridge": "food11-br0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
      "ipam": { "type": "host-local", "dataDir": "$D/cni/ipam",
                "ranges": [[{ "subnet": "$POD_CIDR", "gateway": "$POD_GATEWAY" }]],
                "routes": [{ "dst": "0.0.0.0/0" }] }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF
  if ! alive containerd; then
    say "starting containerd in $NODE_NETNS"
    start containerd --node containerd --config "$D/containerd/config.toml"
  fi
  wait_for 30 containerd test -S "$CTRD_SOCK"
  node_kubeconfig
  : >"$D/kubelet/resolv.conf"
  cat >"$D/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This machine's cgroups are v1 (hybrid): kubelet 1.36 refuses them unless told.
failCgroupV1: false
cgroupDriver: cgroupfs
failSwapOn: false
address: $NODE_IP
readOnlyPort: 0
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: $PKI/ca.crt }
authorization: { mode: Webhook }
containerRuntimeEndpoint: unix://$CTRD_SOCK
resolvConf: $D/kubelet/resolv.conf
serializeImagePulls: false
runtimeRequestTimeout: 10m
evictionHard: { memory.available: "200Mi", nodefs.available: "5%", imagefs.available: "5%" }
imageGCHighThresholdPercent: 95
imageGCLowThresholdPercent: 90
EOF
  if ! alive kubelet; then
    say "starting kubelet $KUBE_VERSION in $NODE_NETNS (node $NODE_NAME, $NODE_IP)"
    start kubelet --node "$E2E_BIN/kubelet" --config "$D/kubelet/config.yaml" --kubeconfig "$D/node.kubeconfig" \
      --root-dir "$D/kubelet/root" --cert-dir "$D/kubelet/pki" --hostname-override "$NODE_NAME" \
      --node-ip "$NODE_IP" --v=1
  fi
  if ! alive kube-proxy; then
    start kube-proxy --node "$E2E_BIN/kube-proxy" --kubeconfig "$D/node.kubeconfig" --hostname-override "$NODE_NAME" \
      --proxy-mode iptables --cluster-cidr "$POD_CIDR" --conntrack-max-per-core 0 \
      --metrics-bind-address "$NODE_IP:10249" --healthz-bind-address "$NODE_IP:10256"
  fi
  say "waiting for node $NODE_NAME Ready"
  wait_for 120 "node $NODE_NAME" kc wait --for=condition=Ready "node/$NODE_NAME" --timeout=1s
}

# ------------------------------------------------------------------ add-ons
up_metrics_server() {
  # metrics-server v0.9 wants a resolution of at least 10 s, and 90 % of it at least its kubelet
  # request timeout (default 10 s): options.go's Validate.
  local res="${FOOD11_METRIC_RESOLUTION:-15s}" secs timeout
  secs="${res%s}"
  [[ "$secs" =~ ^[0-9]+$ ]] || die "FOOD11_METRIC_RESOLUTION=$res: give whole seconds, e.g. 15s"
  [ "$secs" -ge 10 ] || die "FOOD11_METRIC_RESOLUTION=$res: metrics-server takes 10s at least"
  timeout=$((secs * 9 / 10))
  [ "$timeout" -le 10 ] || timeout=10
  if ! alive metrics-server; then
    say "starting metrics-server $METRICS_SERVER_VERSION on 127.0.0.1:$METRICS_SERVER_PORT"
    mkdir -p "$D/metrics-server"
    start metrics-server "$E2E_BIN/metrics-server" --kubeconfig "$KUBECONFIG_FILE" \
      --authentication-kubeconfig "$KUBECONFIG_FILE" --authorization-kubeconfig "$KUBECONFIG_FILE" \
      --bind-address 127.0.0.1 --secure-port "$METRICS_SERVER_PORT" --cert-dir "$D/metrics-server" \
      --kubelet-insecure-tls --kubelet-preferred-address-types InternalIP \
      --metric-resolution "$res" --kubelet-request-timeout "${timeout}s"
  fi
  # Registered with the aggregator as every metrics-server is; the Service is an ExternalName
  # for loopback, since this server runs on the host (as kwokctl's binary runtime does it).
  kc apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Service
metadata: { name: metrics-server, namespace: kube-system, labels: { k8s-app: metrics-server } }
spec: { type: ExternalName, externalName: localhost }
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: { name: v1beta1.metrics.k8s.io, labels: { k8s-app: metrics-server } }
spec:
  group: metrics.k8s.io
  version: v1beta1
  groupPriorityMinimum: 100
  versionPriority: 100
  insecureSkipTLSVerify: true
  service: { name: metrics-server, namespace: kube-system, port: $METRICS_SERVER_PORT }
EOF
  say "waiting for the metrics API (first scrape ~${FOOD11_METRIC_RESOLUTION:-15s})"
  wait_for 120 "metrics.k8s.io" bash -c "'$E2E_BIN/kubectl' --kubeconfig '$KUBECONFIG_FILE' top node '$NODE_NAME' --no-headers"
}

# The Gateway API's standard-channel CRDs, from the sigs.k8s.io/gateway-api module (what its
# standard-install.yaml release asset bundles), then the GatewayClass and the Gateway that the
# stacks' HTTPRoutes (food11:route gateway) attach to: Gateway traefik/food11, one HTTP listener
# `web` on Traefik's entrypoint port, open to routes of every namespace.
up_gateway_api() {
  say "Gateway API $GATEWAY_API_VERSION CRDs (standard channel, from the Go module)"
  bash "$ROOT/scripts/e2e/gateway-api.sh" "$KUBECONFIG_FILE" || die "the Gateway API CRDs could not be installed"
}

up_gateway() {
  kc apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata: { name: $GATEWAY_NAMESPACE }
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: traefik }
spec: { controllerName: traefik.io/gateway-controller }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: $GATEWAY_NAME, namespace: $GATEWAY_NAMESPACE }
spec:
  gatewayClassName: traefik
  listeners:
    - { name: web, protocol: HTTP, port: $INGRESS_PORT, allowedRoutes: { namespaces: { from: All } } }
EOF
  wait_for 60 "Gateway $GATEWAY_NAMESPACE/$GATEWAY_NAME programmed" \
    kc wait --for=condition=Programmed "gateway/$GATEWAY_NAME" -n "$GATEWAY_NAMESPACE" --timeout=1s
}

up_traefik() {
  up_gateway_api
  if ! alive traefik; then
    if ss -Hltn "sport = :$INGRESS_PORT" 2>/dev/null | grep -q .; then
      die "127.0.0.1:$INGRESS_PORT is taken by another program: free it or set INGRESS_PORT=<port> (stack url outputs then need :<port>)"
    fi
    say "starting Traefik $TRAEFIK_VERSION on 127.0.0.1:$INGRESS_PORT (ingressClassName nginx, Gateway API)"
    KUBECONFIG="$KUBECONFIG_FILE" start traefik "$E2E_BIN/traefik" \
      --entryPoints.web.address="127.0.0.1:$INGRESS_PORT" \
      --providers.kubernetesIngressNGINX=true \
      --providers.kubernetesIngressNGINX.ingressClass=nginx \
      --providers.kubernetesIngressNGINX.controllerClass=k8s.io/ingress-nginx \
      --providers.kubernetesIngressNGINX.publishStatusAddress=127.0.0.1 \
      --providers.kubernetesGateway=true \
      --providers.kubernetesGateway.statusAddress.ip=127.0.0.1 \
      --log.level=INFO --accesslog=false --global.checkNewVersion=false --global.sendAnonymousUsage=false
  fi
  # Its own IngressClass (as the nginx chart installs one): Ingresses name it.
  kc apply -f - >/dev/null <<EOF
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: { name: nginx }
spec: { controller: k8s.io/ingress-nginx }
EOF
  wait_for 30 traefik bash -c "curl -s -o /dev/null http://127.0.0.1:$INGRESS_PORT/"
  up_gateway
}

healthy() { cmd_status >/dev/null 2>&1; }
# Anything left by processes that no longer run (a killed session, a reboot)?
stale() {
  local n
  for n in containerd kubelet kube-proxy metrics-server traefik registry dockerd; do
    [ -s "$D/pids/$n" ] && ! alive "$n" && return 0
  done
  [ -d "$KWOK_DIR/clusters/$NAME" ] && ! { [ -s "$KUBECONFIG_FILE" ] && kc get --raw /readyz >/dev/null 2>&1; } && return 0
  [ -e "/run/netns/$NODE_NETNS" ] && ! alive kubelet && return 0
  return 1
}

cmd_up() {
  local t0=$SECONDS
  prereqs
  if healthy; then say "already up"; cmd_status; return 0; fi
  if stale; then say "cleaning what a previous run left (its processes are gone)"; cmd_down; fi
  exec 9>"$D/cluster.lock"
  flock -n 9 || { say "another cluster up/down holds $D/cluster.lock; waiting"; flock 9; }
  up_docker
  up_netns
  up_control_plane
  up_node
  up_metrics_server
  up_traefik
  say "up in $((SECONDS - t0))s: node $NODE_NAME Ready, metrics API served, ingress on http://127.0.0.1:$INGRESS_PORT/"
  say "use it: eval \"\$(npm run -s cluster -- env)\""
}

# ------------------------------------------------------------------ down
kill_pods() {
  # Every container of every pod, then their sandboxes (containerd-shim outlives containerd).
  [ -S "$CTRD_SOCK" ] || return 0
  local ctr=(ctr --address "$CTRD_SOCK" -n k8s.io) t
  for t in $("${ctr[@]}" tasks ls -q 2>/dev/null); do "${ctr[@]}" tasks kill -s SIGKILL "$t" >/dev/null 2>&1 || true; done
  sleep 1
  for t in $("${ctr[@]}" tasks ls -q 2>/dev/null); do "${ctr[@]}" tasks delete -f "$t" >/dev/null 2>&1 || true; done
  for t in $("${ctr[@]}" containers ls -q 2>/dev/null); do "${ctr[@]}" containers delete "$t" >/dev/null 2>&1 || true; done
}
cmd_down() {
  exec 9>"$D/cluster.lock"
  flock 9
  say "stopping Traefik, metrics-server, kubelet, kube-proxy"
  stop traefik; stop metrics-server; stop kubelet 30; stop kube-proxy
  kill_pods
  stop containerd
  # Whatever a killed pod left: shims, netns, mounts, cgroups.
  pkill -KILL -f "containerd-shim-runc-v2 -namespace k8s.io -address $CTRD_SOCK" 2>/dev/null || true
  local m ns
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^cni-' || true); do ip netns delete "$ns" 2>/dev/null || true; done
  awk -v d="$D/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  find /sys/fs/cgroup/*/kubepods -depth -type d -exec rmdir {} \; 2>/dev/null || true
  if [ -d "$KWOK_DIR/clusters/$NAME" ]; then
    say "stopping the control plane"
    KWOK_WORKDIR="$KWOK_DIR" PATH="$E2E_BIN:$PATH" "$E2E_BIN/kwokctl" --name "$NAME" delete cluster >"$D/logs/kwokctl-delete.log" 2>&1 ||
      say "kwokctl delete cluster failed (log $D/logs/kwokctl-delete.log)"
  fi
  rm -f "$KUBECONFIG_FILE"
  local port
  for port in "$REGISTRY_PORT" "$APISERVER_PORT"; do
    while iptables -t nat -D PREROUTING -i "$HOST_VETH" -d "$HOST_IP" -p tcp --dport "$port" -j DNAT --to-destination "127.0.0.1:$port" 2>/dev/null; do :; done
  done
  if [ -e "/run/netns/$NODE_NETNS" ]; then
    say "removing network namespace $NODE_NETNS"
    ip netns delete "$NODE_NETNS" || true
  fi
  ip link delete "$HOST_VETH" 2>/dev/null || true
  stop registry
  if alive dockerd; then say "stopping dockerd"; stop dockerd 30; fi
  rm -rf "$D/containerd/state" "$D/cni/ipam"
  say "down (images kept in $D/registry/data)"
}

# ------------------------------------------------------------------ status
cmd_status() {
  local n rc=0
  for n in dockerd registry containerd kubelet kube-proxy metrics-server traefik; do
    if alive "$n"; then printf '%-15s running (pid %s)\n' "$n" "$(cat "$D/pids/$n")"
    else printf '%-15s not running\n' "$n"; [ "$n" = dockerd ] || rc=1; fi
  done
  if [ -s "$KUBECONFIG_FILE" ] && kc get --raw /readyz >/dev/null 2>&1; then
    echo "api server     https://127.0.0.1:$APISERVER_PORT ready"
    kc get nodes -o wide 2>/dev/null || true
    kc top node 2>/dev/null || echo "metrics API    not serving"
  else
    echo "api server     not running"; rc=1
  fi
  return "$rc"
}

# Sourced (tests, debugging): define the functions only.
[ "${BASH_SOURCE[0]}" = "$0" ] || return 0
case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  images) prereqs_debian; up_docker ;;
  *) sed -n '2,28p' "$0" >&2; exit 2 ;;
esac
