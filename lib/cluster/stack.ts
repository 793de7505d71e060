/**
 * How a stack is deployed on the local real-pods cluster (scripts/cluster/cluster.sh), shared by
 * the real-pods suite (test/cluster/real-pods.cluster.test.ts) and strategy-bench's cluster run
 * (tools/strategy-bench/src/cluster-run.ts): the config every stack gets there (the base image
 * made locally, the build from this checkout's app/, no ingress controller of its own: Traefik
 * serves the Ingress), the cluster's settings (scripts/cluster/versions.sh) and its state dir.
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { shellDefaults } from "../e2e/shell-defaults";

/**
 * Repository root (this file is lib/cluster/stack.ts), right when loaded as CommonJS (vitest,
 * tsx on a .ts of the root package); an ESM caller passes its own root to the functions below.
 */
export const CLUSTER_ROOT = resolve(__dirname, "..", "..");

/** The cluster's state dir (`cluster up` writes its kubeconfig, pids and logs there). */
export const CLUSTER_STATE_DIR =
  process.env.FOOD11_CLUSTER_DIR ?? join(homedir(), ".cache", "food11-cluster");

/** One real-cluster run at a time: test:cluster and strategy-bench's cluster runs flock it. */
export const CLUSTER_RUN_LOCK = join(CLUSTER_STATE_DIR, "run.lock");

/** Defaults of scripts/cluster/versions.sh (NAME="${NAME:-value}" lines), env overrides. */
export function clusterVersions(root: string = CLUSTER_ROOT): Record<string, string> {
  return shellDefaults(join(root, "scripts", "cluster", "versions.sh"));
}

/**
 * The PEM bundle of this machine's extra CA certificates that `cluster up` writes into the state
 * dir (from BUILD_CA_DIR in versions.sh) when the machine has any: image builds here reach npm and
 * PyPI through a TLS-intercepting proxy.
 */
export const CLUSTER_BUILD_CA = join(CLUSTER_STATE_DIR, "build-ca.pem");

/** The base image `cluster up` makes (scripts/cluster/images.sh), standing in for node:<major>-slim. */
export function clusterBaseImage(settings: Record<string, string> = clusterVersions()): string {
  return `localhost:${settings.REGISTRY_PORT}/food11/node:${settings.NODE_BASE_VERSION}-${settings.DEBIAN_SUITE}-slim`;
}

/**
 * What every stack gets on the local cluster: the base image made there (standing in for
 * node:<major>-slim), libtensorflow from PyPI's tensorflow-cpu wheel (tfjs-node's download host is
 * unreachable here), the machine's extra CAs for the build stages when it has some (`buildCa`),
 * the build from this checkout's app/ (the CLI runs in a project copy under a scratch dir), no
 * ingress controller of its own, and the Gateway `cluster up` makes for a Gateway API route.
 */
export function clusterStackConfig(
  settings: Record<string, string> = clusterVersions(),
  root: string = CLUSTER_ROOT,
  buildCa: string | undefined = existsSync(CLUSTER_BUILD_CA) ? CLUSTER_BUILD_CA : undefined,
): Record<string, string> {
  return {
    "food11:imageBaseImage": clusterBaseImage(settings),
    "food11:imageLibtensorflow": "wheel",
    ...(buildCa !== undefined ? { "food11:imageExtraCaCertificates": buildCa } : {}),
    "food11:imageContext": join(root, "app"),
    "food11:imageDockerfile": join(root, "app", "Dockerfile"),
    "food11:ingressController": "none",
    // The Gateway `cluster up` makes (food11:route gateway attaches to it).
    "food11:gatewayName": settings.GATEWAY_NAME ?? "food11",
    "food11:gatewayNamespace": settings.GATEWAY_NAMESPACE ?? "traefik",
  };
}

/**
 * The arguments of `scripts/e2e/engine.ts <op>` for a stack on the local cluster: its scratch dir,
 * the cluster config plus `extra` (extra wins), and an optional other stack file.
 */
export function clusterEngineArgs(
  stack: string,
  work: string,
  extra: Record<string, string> = {},
  file?: string,
  base: Record<string, string> = clusterStackConfig(),
): string[] {
  const cfg = { ...base, ...extra };
  return [
    "--stack",
    stack,
    "--work",
    work,
    ...Object.entries(cfg).flatMap(([k, v]) => ["--config", `${k}=${v}`]),
    ...(file ? ["--config-file", file] : []),
  ];
}
