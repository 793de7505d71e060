import * as k8s from "@pulumi/kubernetes";
import type { StackValidationPolicy } from "@pulumi/policy";
import { ADMIN_PORT_NAME, ROUTES } from "../../components/defaults";
import { stackWorkloadOf } from "../workloads";
import {
  type GatewayPathMatch,
  HTTPROUTE_TYPE,
  type HttpRouteProps,
  type UrlRewrite,
} from "./httpRoute";

/** The server's admin paths: what no public route may reach. */
export const ADMIN_PATHS: readonly string[] = Object.values(ROUTES);

const USE_REGEX = "nginx.ingress.kubernetes.io/use-regex";
const REWRITE_TARGET = "nginx.ingress.kubernetes.io/rewrite-target";

/** The literal start of a regular expression path: up to its first metacharacter, no final "/". */
function literalPrefix(pattern: string): string {
  const i = pattern.search(/[\\^$.|?*+()[\]{}]/);
  return (i < 0 ? pattern : pattern.slice(0, i)).replace(/\/+$/, "");
}

/** The paths to try against a route's match: each admin path, alone and under the match's prefix. */
function candidates(prefix: string): string[] {
  const p = prefix.replace(/\/+$/, "");
  return [...new Set(ADMIN_PATHS.flatMap((a) => [a, `${p}${a}`]))];
}

/** The admin path a backend path is (a trailing "/" aside), if any. */
function adminPathOf(path: string): string | undefined {
  const bare = path.split("?")[0] as string;
  return ADMIN_PATHS.find((a) => bare === a || bare === `${a}/`);
}

/** Whether `path` is under prefix `p`, element by element (the Ingress' Prefix, the Gateway's PathPrefix). */
function underPrefix(path: string, p: string): boolean {
  const bare = p.replace(/\/+$/, "");
  return bare === "" || path === bare || path.startsWith(`${bare}/`);
}

/** `$1`-style references in a rewrite target replaced by a match's groups (nginx's rewrite). */
function expand(target: string, groups: RegExpExecArray): string {
  return target.replace(/\$(\d+)/g, (_, n: string) => groups[Number(n)] ?? "");
}

/**
 * The admin paths an Ingress path reaches on the server. ingress-nginx (and Traefik's NGINX
 * provider) read a path as a case-insensitive regular expression anchored at its start when the
 * Ingress sets use-regex or rewrite-target, and then rewrite the URI: nginx replaces it whole
 * (`$n` from the match), Traefik only the matched part; either reaching an admin path counts.
 * Otherwise Exact is equality and Prefix (and ImplementationSpecific) an element-wise prefix.
 * `pathType` is unused under a regex, as ingress-nginx ignores it then.
 */
export function ingressPathReaches(
  path: string,
  pathType: string | undefined,
  annotations: Record<string, string> | undefined,
): string[] {
  const rewrite = annotations?.[REWRITE_TARGET];
  const regex = annotations?.[USE_REGEX] === "true" || (rewrite !== undefined && rewrite !== "");
  const reached = new Set<string>();
  // ingress-nginx makes every path of a regex Ingress a regular expression, Exact ones too.
  if (regex) {
    let re: RegExp;
    try {
      re = new RegExp(`^${path}`, "i");
    } catch {
      return [];
    }
    for (const c of candidates(literalPrefix(path))) {
      const m = re.exec(c);
      if (!m) continue;
      const backends = rewrite ? [expand(rewrite, m), c.replace(re, rewrite)] : [c];
      for (const b of backends) {
        const a = adminPathOf(b);
        if (a) reached.add(a);
      }
    }
    return [...reached];
  }
  for (const a of ADMIN_PATHS) {
    const hit = pathType === "Exact" ? adminPathOf(path) === a : underPrefix(a, path);
    if (hit) reached.add(a);
  }
  return [...reached];
}

/**
 * The admin paths an HTTPRoute rule's path match reaches on the server, through its URLRewrite
 * path filter if any (ReplaceFullPath: every matched request gets that path; ReplacePrefixMatch:
 * the matched prefix is replaced). No match means PathPrefix "/".
 */
export function httpRouteMatchReaches(
  match: GatewayPathMatch | undefined,
  rewrite: UrlRewrite | undefined,
): string[] {
  const type = match?.type ?? "PathPrefix";
  const value = match?.value ?? "/";
  const reached = new Set<string>();
  const backend = (c: string, prefix: string): string => {
    if (rewrite?.type === "ReplaceFullPath" && rewrite.replaceFullPath !== undefined) {
      return rewrite.replaceFullPath;
    }
    if (rewrite?.type === "ReplacePrefixMatch" && rewrite.replacePrefixMatch !== undefined) {
      const rest = c.slice(prefix.replace(/\/+$/, "").length);
      return `${rewrite.replacePrefixMatch.replace(/\/+$/, "")}${rest}` || "/";
    }
    return c;
  };
  let tries: string[];
  if (type === "Exact") tries = [value];
  else if (type === "RegularExpression") {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${value})$`);
    } catch {
      return [];
    }
    tries = candidates(literalPrefix(value)).filter((c) => re.test(c));
  } else tries = candidates(value).filter((c) => underPrefix(c, value));
  for (const c of tries) {
    const a = adminPathOf(backend(c, value));
    if (a) reached.add(a);
  }
  return [...reached];
}

interface ServicePort {
  name?: string;
  port?: number;
  targetPort?: number | string;
}

/**
 * Mandatory: /metrics (the model, its version, request counts and latencies by route, queue
 * depth), /healthz and /readyz belong to the kubelet and Prometheus, which reach the pod directly;
 * a public route to them publishes the service's internals. No Ingress or HTTPRoute of the stack
 * may have a path that reaches an admin path on the server (rewrites and regular expressions as
 * ingress-nginx, Traefik and the Gateway API read them), nor a backend that is the admin port (a
 * Service port whose targetPort is a container port named `admin`, or that port's number).
 */
export const adminNotRouted: StackValidationPolicy = {
  name: "admin-not-routed",
  description:
    `No Ingress or HTTPRoute path reaches ${ADMIN_PATHS.join(", ")} on the server, and no route's ` +
    `backend is the admin port (container port "${ADMIN_PORT_NAME}"). Mandatory: those are the ` +
    "kubelet's and Prometheus', who reach the pod directly; a public route publishes the " +
    "service's internals.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateStack: (args, report) => {
    // The admin container ports of the stack's workloads: by name, and their numbers.
    const adminTargets = new Set<string>([ADMIN_PORT_NAME]);
    for (const r of args.resources) {
      for (const c of stackWorkloadOf(r)?.podSpec?.containers ?? []) {
        for (const p of (c.ports ?? []) as { name?: string; containerPort?: number }[]) {
          if (p.name === ADMIN_PORT_NAME && p.containerPort !== undefined) {
            adminTargets.add(String(p.containerPort));
          }
        }
      }
    }
    // Service ports by namespace/name.
    const services = new Map<string, ServicePort[]>();
    for (const r of args.resources) {
      const svc = r.asType(k8s.core.v1.Service);
      if (!svc) continue;
      const name = svc.metadata?.name ?? r.name;
      services.set(`${svc.metadata?.namespace ?? ""}/${name}`, (svc.spec?.ports ?? []) as never);
    }
    const adminBackend = (
      namespace: string | undefined,
      service: string | undefined,
      port: { name?: string; number?: number },
    ): string | undefined => {
      const ports = services.get(`${namespace ?? ""}/${service ?? ""}`);
      const sp = ports?.find((p) =>
        port.name !== undefined ? p.name === port.name : p.port === port.number,
      );
      if (sp?.targetPort === undefined) return undefined;
      return adminTargets.has(String(sp.targetPort))
        ? `Service ${service} port ${sp.name ?? sp.port} (targetPort ${sp.targetPort}, the admin port)`
        : undefined;
    };
    const FIX = "publish the API's paths only, on the Service's API port";

    for (const r of args.resources) {
      const ingress = r.asType(k8s.networking.v1.Ingress);
      if (ingress) {
        const where = `Ingress ${ingress.metadata?.name ?? r.name}`;
        const ns = ingress.metadata?.namespace;
        const annotations = ingress.metadata?.annotations;
        const backends = [
          ...(ingress.spec?.defaultBackend
            ? [{ path: "(default backend)", b: ingress.spec.defaultBackend }]
            : []),
          ...(ingress.spec?.rules ?? []).flatMap((rule) =>
            (rule.http?.paths ?? []).map((p) => ({
              path: p.path ?? "/",
              type: p.pathType,
              b: p.backend,
            })),
          ),
        ];
        for (const { path, b, ...rest } of backends) {
          const type = (rest as { type?: string }).type;
          if (path !== "(default backend)") {
            const reached = ingressPathReaches(path, type, annotations);
            if (reached.length > 0) {
              report(
                `${where}: path ${path} (${type ?? "Prefix"}) reaches ${reached.join(", ")} on the server: ${FIX}`,
                r.urn,
              );
            }
          } else {
            report(
              `${where}: a default backend takes every path, ${ADMIN_PATHS.join(", ")} too: ${FIX}`,
              r.urn,
            );
          }
          const port = b?.service?.port;
          const admin = adminBackend(ns, b?.service?.name, {
            ...(port?.name ? { name: port.name } : {}),
            ...(port?.number !== undefined ? { number: port.number } : {}),
          });
          if (admin) report(`${where}: path ${path} routes to ${admin}: ${FIX}`, r.urn);
        }
        continue;
      }
      if (r.type === HTTPROUTE_TYPE) {
        const route = r.props as HttpRouteProps;
        const where = `HTTPRoute ${route.metadata?.name ?? r.name}`;
        for (const rule of route.spec?.rules ?? []) {
          const rewrite = rule.filters?.find((f) => f.type === "URLRewrite")?.urlRewrite?.path;
          const matches = rule.matches?.length ? rule.matches : [{}];
          for (const m of matches) {
            const reached = httpRouteMatchReaches(m.path, rewrite);
            if (reached.length > 0) {
              const shown = `${m.path?.type ?? "PathPrefix"} ${m.path?.value ?? "/"}`;
              report(
                `${where}: match ${shown} reaches ${reached.join(", ")} on the server: ${FIX}`,
                r.urn,
              );
            }
          }
          for (const ref of rule.backendRefs ?? []) {
            if (ref.kind !== undefined && ref.kind !== "Service") continue;
            const admin = adminBackend(ref.namespace ?? route.metadata?.namespace, ref.name, {
              ...(ref.port !== undefined ? { number: ref.port } : {}),
            });
            if (admin) report(`${where}: a rule routes to ${admin}: ${FIX}`, r.urn);
          }
        }
      }
    }
  },
};
