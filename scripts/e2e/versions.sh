# The e2e toolchain: where it is built and kept, and its versions (sourced by every script that
# builds or runs it: build.sh, cluster.sh, run.sh, hpa-validate.sh, gateway-api.sh,
# scripts/cluster/cluster.sh, scripts/render.sh, scripts/kube-score.sh).
# Its home: bin/ (the binaries), src/, stamps/, locks/, logs/; FOOD11_E2E_CACHE overrides
# (lib/e2e/cache.ts says the same to the TypeScript side).
E2E_CACHE="${FOOD11_E2E_CACHE:-$HOME/.cache/food11-e2e}"
E2E_BIN="$E2E_CACHE/bin"
# Pulumi CLI: @pulumi/pulumi is 3.270.0, but the Go module proxy reachable here does not serve
# github.com/pulumi/pulumi/pkg/v3@v3.270.0; v3.274.1 is the closest version it serves (a newer CLI
# runs older SDKs).
PULUMI_VERSION="${PULUMI_VERSION:-v3.274.1}"
# Node.js language host (pulumi-language-nodejs): the proxy does not serve its own nested module
# (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3: 403), and sdk/v3 module zips
# from v3.69.0 on leave it out; v3.68.0 is the newest sdk/v3 zip that still carries
# nodejs/cmd/pulumi-language-nodejs as a plain package. It runs @pulumi/pulumi's own cmd/run
# (the version in node_modules), so only the host's gRPC glue is old.
PULUMI_LANGHOST_VERSION="${PULUMI_LANGHOST_VERSION:-v3.68.0}"
# Kubernetes provider: the proxy serves exactly one version of
# github.com/pulumi/pulumi-kubernetes/provider/v4 (a pseudo-version of 2026-01-15). It is built and
# installed as plugin v4.34.2, the version @pulumi/kubernetes 4.34.2 asks the engine for.
K8S_PROVIDER_MODULE_VERSION="${K8S_PROVIDER_MODULE_VERSION:-v4.0.0-20260115033456-f47bc2d6f199}"
K8S_PROVIDER_PLUGIN_VERSION="${K8S_PROVIDER_PLUGIN_VERSION:-4.34.2}"
# The provider's go.mod replaces sdk/v4 with ../sdk; this served release stands in its place.
K8S_SDK_MODULE_VERSION="${K8S_SDK_MODULE_VERSION:-v4.24.0}"
# Control plane: kwok v0.8.0 defaults to Kubernetes 1.36.1.
KUBE_VERSION="${KUBE_VERSION:-v1.36.1}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
# The real-pods cluster (scripts/cluster/): metrics-server for kubectl top and the HPA, Traefik v3
# as the ingress controller (its kubernetesIngressNGINX provider serves ingressClassName nginx).
METRICS_SERVER_VERSION="${METRICS_SERVER_VERSION:-v0.9.0}"
TRAEFIK_VERSION="${TRAEFIK_VERSION:-v3.7.13}"
# The Gateway API CRDs (standard channel) Traefik v3.7.13 is built against (its go.mod), applied to
# the real-pods cluster from the module's config/crd/standard (the release download is unreachable).
GATEWAY_API_VERSION="${GATEWAY_API_VERSION:-v1.6.1}"
# kube-score, the outside linter of the rendered manifests (npm run lint:kube-score).
KUBE_SCORE_VERSION="${KUBE_SCORE_VERSION:-v1.20.0}"
# The Pulumi Docker provider: the source snapshot in shared/vendor (commit 237b789, after v5.1.0),
# installed as plugin v5.2.0, the version @pulumi/docker 5.2.0 asks the engine for.
DOCKER_PROVIDER_SOURCE="${DOCKER_PROVIDER_SOURCE:-237b789}"
DOCKER_PROVIDER_PLUGIN_VERSION="${DOCKER_PROVIDER_PLUGIN_VERSION:-5.2.0}"
# A built piece's stamp under $E2E_CACHE/stamps/ (build.sh writes it, render.sh and --estimate
# read it): the piece and the versions it was built from, so a changed version is built anew.
stamp_of() {
  case "$1" in
    pulumi) echo "pulumi.$PULUMI_VERSION" ;;
    langhost) echo "langhost.$PULUMI_LANGHOST_VERSION-cli-$PULUMI_VERSION" ;;
    provider) echo "provider.$K8S_PROVIDER_MODULE_VERSION-$K8S_PROVIDER_PLUGIN_VERSION" ;;
    etcd) echo "etcd.$ETCD_VERSION" ;; kube) echo "kube.$KUBE_VERSION" ;;
    kubectl) echo "kubectl.$KUBE_VERSION" ;; kwok) echo "kwok.$KWOK_VERSION-$KUBE_VERSION" ;;
    kubelet) echo "kubelet.$KUBE_VERSION" ;;
    metrics-server) echo "metrics-server.$METRICS_SERVER_VERSION" ;;
    traefik) echo "traefik.$TRAEFIK_VERSION" ;;
    kube-score) echo "kube-score.$KUBE_SCORE_VERSION" ;;
    docker-provider) echo "docker-provider.$DOCKER_PROVIDER_SOURCE-$DOCKER_PROVIDER_PLUGIN_VERSION" ;;
  esac
}
