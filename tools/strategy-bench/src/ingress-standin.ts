/**
 * A stand-in for the cluster's ingress controller, for when Traefik is not running on the local
 * cluster (its binary is missing or its build fails): what an ingress controller does for the
 * stack's one Ingress rule (path /, any host), and no more.
 *
 * - the Ingress status: 127.0.0.1 written into `.status.loadBalancer` of the namespace's
 *   Ingresses, so that `pulumi up`'s await of the Ingress completes and the stack's `url` output
 *   is http://127.0.0.1/ as with Traefik;
 * - the routing: an HTTP reverse proxy on 127.0.0.1:<port> to the Service's ready endpoints
 *   (EndpointSlices, re-read every second), round robin, keep-alive — pods are reached at their
 *   pod IPs, which `cluster up` routes from this host to the node.
 *
 * Only loopback listens; only the cluster's pod network is addressed.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { buffer } from "node:stream/consumers";
import type { NetworkingV1Api } from "@kubernetes/client-node";
import { k8sClients } from "./cluster/kube.js";
import { Agent, request } from "./http.js";

export interface StandInOptions {
  kubeconfig: string;
  namespace: string;
  /** The Service whose ready endpoints take the traffic. */
  service: string;
  port?: number;
  log?: (l: string) => void;
}

/**
 * The ready endpoints (ip:port) of EndpointSlices, on the port named `portName` (the Service's
 * API port, `http`; a slice may also carry its `metrics` port), else the slice's first.
 */
function readyEndpoints(
  slices: {
    endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[];
    ports?: { port?: number; name?: string }[];
  }[],
  portName = "http",
): string[] {
  const out: string[] = [];
  for (const s of slices) {
    const port = (s.ports?.find((p) => p.name === portName) ?? s.ports?.[0])?.port;
    if (!port) continue;
    for (const e of s.endpoints ?? []) {
      if (e.conditions?.ready === false) continue;
      for (const a of e.addresses) out.push(`${a}:${port}`);
    }
  }
  return out.sort();
}

/** Write 127.0.0.1 into the status of the namespace's Ingresses without an address, until stopped. */
export async function ingressStatusWriter(
  kubeconfig: string,
  namespace: string,
): Promise<() => Promise<string[]>> {
  const { networking } = await k8sClients(kubeconfig);
  return ingressStatusLoop(networking, namespace);
}

/**
 * What an ingress controller does once it has taken an Ingress: write its address into
 * `.status.loadBalancer`; here 127.0.0.1, every 500 ms, for each of the namespace's Ingresses that
 * has no address yet and that Pulumi awaits (not marked `pulumi.com/skipAwait: "true"`). Returns a
 * stop function that resolves to the names it patched. Also the kwok e2e's stand-in
 * (test/e2e/helpers.ts).
 */
export function ingressStatusLoop(
  networking: Pick<NetworkingV1Api, "listNamespacedIngress" | "replaceNamespacedIngressStatus">,
  namespace: string,
): () => Promise<string[]> {
  const patched = new Set<string>();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const list = await networking.listNamespacedIngress({ namespace });
        for (const ing of list.items) {
          const name = ing.metadata?.name ?? "";
          const skip = ing.metadata?.annotations?.["pulumi.com/skipAwait"] === "true";
          if (skip || (ing.status?.loadBalancer?.ingress?.length ?? 0) > 0) continue;
          await networking.replaceNamespacedIngressStatus({
            name,
            namespace,
            body: { ...ing, status: { loadBalancer: { ingress: [{ ip: "127.0.0.1" }] } } },
          });
          patched.add(name);
        }
      } catch {
        // the namespace is not there yet, or a conflict: again
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    return [...patched].sort();
  };
}

/** The reverse proxy on 127.0.0.1:<port> (default 80) to the Service's ready endpoints. */
export async function startStandInProxy(
  o: StandInOptions,
): Promise<{ url: string; stop: () => Promise<void>; endpoints: () => string[] }> {
  const { discovery } = await k8sClients(o.kubeconfig);
  let endpoints: string[] = [];
  let next = 0;
  let stopped = false;
  const refresh = async () => {
    try {
      const l = await discovery.listNamespacedEndpointSlice({
        namespace: o.namespace,
        labelSelector: `kubernetes.io/service-name=${o.service}`,
      });
      const now = readyEndpoints(l.items as never);
      if (now.join(",") !== endpoints.join(",")) {
        o.log?.(`stand-in ingress: endpoints ${now.join(", ") || "(none ready)"}`);
      }
      endpoints = now;
    } catch {
      // keep the last known
    }
  };
  await refresh();
  const timer = setInterval(() => {
    if (!stopped) void refresh();
  }, 1000);
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 64 });
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const target = endpoints.length > 0 ? endpoints[next++ % endpoints.length] : undefined;
    if (!target) {
      res.writeHead(503, { "content-type": "text/plain" }).end("no ready endpoint\n");
      return;
    }
    try {
      const body = req.method === "GET" || req.method === "HEAD" ? undefined : await buffer(req);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (v === undefined || k === "connection" || k === "host" || k === "keep-alive") continue;
        headers[k] = Array.isArray(v) ? v.join(", ") : v;
      }
      const up = await request(`http://${target}${req.url ?? "/"}`, {
        method: (req.method ?? "GET") as "GET",
        headers,
        ...(body ? { body } : {}),
        dispatcher: agent,
        headersTimeout: 60_000,
        bodyTimeout: 60_000,
      });
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(up.headers)) {
        if (
          v !== undefined &&
          k !== "connection" &&
          k !== "keep-alive" &&
          k !== "transfer-encoding"
        ) {
          out[k] = v;
        }
      }
      res.writeHead(up.statusCode, out);
      for await (const chunk of up.body) res.write(chunk);
      res.end();
    } catch {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end("bad gateway\n");
    }
  };
  const server: Server = createServer((req, res) => void handle(req, res));
  server.keepAliveTimeout = 30_000;
  const port = o.port ?? 80;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  o.log?.(`stand-in ingress on http://127.0.0.1:${port}/ -> service ${o.namespace}/${o.service}`);
  return {
    url: `http://127.0.0.1${port === 80 ? "" : `:${port}`}/`,
    endpoints: () => endpoints,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await agent.close();
    },
  };
}
