# Settings of the local real-pods cluster (sourced by scripts/cluster/*.sh; keep in step with
# tools that read them). Binaries and their versions: scripts/e2e/versions.sh.
# The cluster's state dir: kubeconfig, pids, logs, the run lock (FOOD11_CLUSTER_DIR overrides;
# lib/cluster/stack.ts CLUSTER_STATE_DIR says the same to the TypeScript side).
CLUSTER_STATE_DIR="${FOOD11_CLUSTER_DIR:-$HOME/.cache/food11-cluster}"
# The base image standing in for node:<major>-slim (scripts/cluster/images.sh).
NODE_BASE_VERSION="${NODE_BASE_VERSION:-24.22.3}"
NPM_BASE_VERSION="${NPM_BASE_VERSION:-11.21.2}"
DEBIAN_SUITE="${DEBIAN_SUITE:-bookworm}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PAUSE_VERSION="${PAUSE_VERSION:-3.10}"
# This machine's extra CA certificates (its registries are reached through a TLS-intercepting
# proxy): `cluster up` bundles *.crt from here into <state>/build-ca.pem, which the stacks pass to
# the image build stages (food11:imageExtraCaCertificates). None there: no bundle.
BUILD_CA_DIR="${BUILD_CA_DIR:-/usr/local/share/ca-certificates}"
# Addresses. The node is a network namespace made by `cluster up` (as a kind node is a
# container): its veth pair links it to this host; pods live on a bridge inside it. Nothing
# outside these namespaces and loopback is ever addressed.
NODE_NETNS="${NODE_NETNS:-food11-node}"
NODE_NAME="${NODE_NAME:-food11-node}"
HOST_VETH="${HOST_VETH:-food11-h}"
NODE_VETH="${NODE_VETH:-food11-n}"
HOST_IP="${HOST_IP:-10.89.0.1}"
NODE_IP="${NODE_IP:-10.89.0.2}"
POD_CIDR="${POD_CIDR:-10.244.0.0/24}"
POD_GATEWAY="${POD_GATEWAY:-10.244.0.1}"
# Loopback ports on this host.
REGISTRY_PORT="${REGISTRY_PORT:-5001}"
APISERVER_PORT="${APISERVER_PORT:-6443}"
# 80, so that a stack's `url` output (http://127.0.0.1/, from the Ingress status) works as is.
INGRESS_PORT="${INGRESS_PORT:-80}"
# The Gateway the stacks' HTTPRoutes attach to (food11:route gateway), served by the same Traefik.
GATEWAY_NAMESPACE="${GATEWAY_NAMESPACE:-traefik}"
GATEWAY_NAME="${GATEWAY_NAME:-food11}"
METRICS_SERVER_PORT="${METRICS_SERVER_PORT:-4443}"
