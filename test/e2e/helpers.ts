/**
 * Helpers of the real-engine e2e: run scripts/e2e/engine.ts (one engine operation per process),
 * read objects back from the API server, stand in for the ingress controller's status write.
 */
import { spawn } from "node:child_process";
import { createWriteStream, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import type { OperationResult } from "../../lib/e2e/engine";
import { ingressStatusLoop } from "../../tools/strategy-bench/src/ingress-standin";

export const ROOT = join(__dirname, "..", "..");
const TSX = join(ROOT, "node_modules", ".bin", "tsx");
const ENGINE = join(ROOT, "scripts", "e2e", "engine.ts");

/**
 * Run `engine.ts <op> ...` with KUBECONFIG and the given args; the engine's console output goes to
 * `${logFile}`; returns the JSON result it wrote.
 */
export async function engine(
  op: string,
  args: string[],
  work: string,
  logFile: string,
  viaNpm = false,
): Promise<OperationResult & { files?: string[]; exitCode: number }> {
  const resultFile = join(work, `result-${op}-${Date.now()}.json`);
  const log = createWriteStream(logFile, { flags: "a" });
  // viaNpm: the user's command, `npm run <op> -- ...` (the script checks the build, then engine.ts).
  const [cmd, argv] = viaNpm
    ? ["npm", ["run", "--silent", op, "--", ...args, "--result", resultFile]]
    : [TSX, [ENGINE, op, ...args, "--result", resultFile]];
  log.write(`\n$ ${viaNpm ? "npm run" : "engine.ts"} ${op} ${args.join(" ")}\n`);
  const exitCode = await new Promise<number>((resolvePromise, reject) => {
    const child = spawn(cmd, argv, {
      cwd: ROOT,
      env: process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.on("error", reject);
    child.on("close", (code) => resolvePromise(code ?? 1));
  });
  await new Promise<void>((r) => log.end(r));
  if (!existsSync(resultFile)) {
    throw new Error(`engine.ts ${op} wrote no result (exit ${exitCode}); see ${logFile}`);
  }
  return { ...(JSON.parse(readFileSync(resultFile, "utf8")) as OperationResult), exitCode };
}

export interface Clients {
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  autoscaling: k8s.AutoscalingV2Api;
  networking: k8s.NetworkingV1Api;
  policy: k8s.PolicyV1Api;
  /** Custom resources (the Gateway API's HTTPRoute, Gateway). */
  custom: k8s.CustomObjectsApi;
  server: string;
}

export function clients(kubeconfig: string): Clients {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfig);
  return {
    core: kc.makeApiClient(k8s.CoreV1Api),
    apps: kc.makeApiClient(k8s.AppsV1Api),
    autoscaling: kc.makeApiClient(k8s.AutoscalingV2Api),
    networking: kc.makeApiClient(k8s.NetworkingV1Api),
    policy: kc.makeApiClient(k8s.PolicyV1Api),
    custom: kc.makeApiClient(k8s.CustomObjectsApi),
    server: kc.getCurrentCluster()?.server ?? "",
  };
}

/** An HTTPRoute as the tests read it back: its labels, spec and the Gateway's status. */
export interface HttpRoute {
  metadata?: { labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  status?: {
    parents?: { controllerName?: string; conditions?: { type: string; status: string }[] }[];
  };
}

/** The HTTPRoute `name` in `namespace`, read from the API server. */
export async function httpRoute(c: Clients, namespace: string, name: string): Promise<HttpRoute> {
  return (await c.custom.getNamespacedCustomObject({
    group: "gateway.networking.k8s.io",
    version: "v1",
    namespace,
    plural: "httproutes",
    name,
  })) as HttpRoute;
}

/** 404 → undefined. */
export async function maybe<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

/**
 * What an ingress controller does once it has taken an Ingress: write its address into
 * `.status.loadBalancer`. The e2e runs no controller (food11:ingressController none), so,
 * while an `up` runs, this writes 127.0.0.1 for each of the namespace's Ingresses that the program
 * did not mark `pulumi.com/skipAwait: "true"` and that have no address yet. Returns a stop
 * function that resolves to the names it patched.
 */
export function ingressStatusWriter(c: Clients, namespace: string): () => Promise<string[]> {
  return ingressStatusLoop(c.networking, namespace);
}

/** Poll fn until it returns true (or throw after timeoutMs with the last value described). */
export async function until(
  fn: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
