/**
 * The stack schema's defaults (stacks/schema.ts reads them; its keys' docs say which is which), the
 * values only the components choose (terminationMarginSeconds, tmpSizeLimit, traefik), and the
 * names and labels every object shares: each value chosen in one place. The report's previous
 * recipe (the baseline) where the report names a value.
 */
export const DEFAULTS = {
  image: { context: "app", dockerfile: "app/Dockerfile", platform: "linux/amd64", tag: "0.1.0" },
  /** The report's previous recipe: requests/limits (requests.cpu is this project's choice). */
  resources: {
    requests: { cpu: "1", memory: "2Gi" },
    limits: { cpu: "2", memory: "4Gi" },
  },
  /**
   * The container's local ephemeral storage (its logs; the root filesystem is read-only) plus, at
   * pod level, the /tmp emptyDir. The request covers kubelet's default log rotation (5 files of
   * 10Mi); the limit covers that plus a full /tmp. Sizes: docs/configuration.md, "Ephemeral storage".
   */
  ephemeralStorage: { request: "64Mi", limit: "512Mi" },
  /** sizeLimit of the /tmp emptyDir (the only writable path of the container). */
  tmpSizeLimit: "256Mi",
  /**
   * minReplicas 1 / maxReplicas 5 and 40 % as in the original recipe; the behavior windows are
   * Kubernetes' own defaults, i.e. what the recipe's autoscaling/v1 HPA did.
   */
  autoscaling: {
    minReplicas: 1,
    maxReplicas: 5,
    targetCpuUtilization: 40,
    scaleUpStabilizationSeconds: 0,
    scaleDownStabilizationSeconds: 300,
  },
  probes: {
    timeoutSeconds: 2,
    readiness: { periodSeconds: 5, successThreshold: 3, failureThreshold: 3 },
    liveness: { periodSeconds: 10, failureThreshold: 3 },
    startup: { periodSeconds: 5, failureThreshold: 24 },
  },
  ingress: { className: "nginx", path: "/", proxyBodySize: "10m" },
  pdbMaxUnavailable: 1,
  /** The app image's own user (app/Dockerfile: USER 10001:10001). */
  runAsUser: 10001,
  shutdownGraceSeconds: 20,
  /** Seconds the server keeps serving after SIGTERM (readiness already false) so endpoints update. */
  shutdownDelaySeconds: 5,
  /** Seconds kubelet waits past SHUTDOWN_GRACE_SECONDS before SIGKILL. */
  terminationMarginSeconds: 5,
  ingressController: { namespace: "ingress-nginx", serviceType: "LoadBalancer" },
  /** The Gateway an HTTPRoute attaches to (food11:route gateway); its namespace defaults to the controller's. */
  gateway: { name: "food11", sectionName: "" },
  /**
   * Traefik v3 from its Helm chart (food11:ingressController traefik): chart 41.5.0 ships Traefik
   * v3.7.13, the version the local cluster builds (scripts/e2e/versions.sh TRAEFIK_VERSION).
   */
  traefik: {
    chart: "traefik",
    version: "41.5.0",
    repo: "https://traefik.github.io/charts",
    gatewayClassName: "traefik",
    controllerName: "traefik.io/gateway-controller",
    /** The chart's `web` entrypoint (container port); a Gateway listener binds to it by port. */
    webPort: 8000,
  },
  /**
   * The NetworkPolicy: on, admitting the ingress controller's namespace on `http` (the API) and
   * this one on `admin` (/metrics, /healthz, /readyz).
   */
  networkPolicy: { enabled: true, monitoringNamespace: "monitoring" },
  /** The demo upload page at GET /: on, as the report's stacks are demos (food11:uploadPage). */
  uploadPage: true,
  /** Today's prometheus.io/* pod annotations; no dashboard unless asked (food11:monitoring, food11:grafanaDashboard). */
  monitoring: { scrape: "annotations", grafanaDashboard: false },
} as const;

/** The Service types an installed ingress controller's Service can have. */
export const INGRESS_SERVICE_TYPES = ["LoadBalancer", "NodePort", "ClusterIP"] as const;

/** Name of the app in labels and of every workload object. */
export const APP_NAME = "food11-classifier";

/** Name of the server container. */
export const CONTAINER_NAME = "classifier";

/** The server's API port (PORT) and its name (the Service, Ingress and HTTPRoute refer to it). */
export const SERVER_PORT = 8080;
export const PORT_NAME = "http";

/** The Service's port to the API's (`http`): the Ingress names it, the HTTPRoute's backendRef numbers it. */
export const SERVICE_PORT = 80;

/**
 * The server's admin listener (ADMIN_PORT) and its name: /metrics, /healthz, /readyz. The probes
 * and Prometheus reach it; no Ingress or HTTPRoute does (policy rule `admin-not-routed`).
 */
export const ADMIN_PORT = 8081;
export const ADMIN_PORT_NAME = "admin";

/**
 * The Service's cluster-internal port to the admin listener, present only for a ServiceMonitor
 * (food11:monitoring servicemonitor) to select.
 */
export const METRICS_PORT_NAME = "metrics";

/** The Gateway API's group and the apiVersion of its resources (HTTPRoute, Gateway, GatewayClass). */
export const GATEWAY_API_GROUP = "gateway.networking.k8s.io";
export const GATEWAY_API_VERSION = `${GATEWAY_API_GROUP}/v1`;

/** The server's admin routes, on {@link ADMIN_PORT}. */
export const ROUTES = { liveness: "/healthz", readiness: "/readyz", metrics: "/metrics" } as const;

/**
 * The API's routes (app/src/routes) that the Ingress or HTTPRoute publishes, each exactly; the
 * upload page ({@link UPLOAD_PAGE_ROUTE}) too with food11:uploadPage.
 */
export const API_ROUTES = ["/predict", "/test"] as const;
export const UPLOAD_PAGE_ROUTE = "/";

/** The `app.kubernetes.io/*` labels of every object of a stack (`instance` = stack name). */
export function workloadLabels(instance: string): Record<string, string> {
  return {
    ...selectorLabels(instance),
    "app.kubernetes.io/component": "inference",
    "app.kubernetes.io/part-of": "food11",
    "app.kubernetes.io/managed-by": "pulumi",
  };
}

/** The immutable selector labels: name and instance. */
export function selectorLabels(instance: string): Record<string, string> {
  return { "app.kubernetes.io/name": APP_NAME, "app.kubernetes.io/instance": instance };
}

/** The selector as a kubectl/metrics label selector string. */
export function labelSelector(instance: string): string {
  return Object.entries(selectorLabels(instance))
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

/** One autoscaling/v2 HPA scaling policy. */
export interface HpaScalingPolicy {
  type: "Pods" | "Percent";
  value: number;
  periodSeconds: number;
}

/** autoscaling/v2 HPAScalingRules. */
export interface HpaScalingRules {
  stabilizationWindowSeconds: number;
  selectPolicy: "Max" | "Min" | "Disabled";
  policies: HpaScalingPolicy[];
}

/**
 * The HPA's `behavior`: Kubernetes' default scaling policies (what an autoscaling/v1 HPA does),
 * with the stack's stabilization windows (food11:scaleUpStabilizationSeconds,
 * food11:scaleDownStabilizationSeconds). The planner (tools/planner/src/hpa.ts)
 * simulates this very behavior.
 */
export function hpaBehavior(windows: {
  scaleUpStabilizationSeconds: number;
  scaleDownStabilizationSeconds: number;
}): { scaleUp: HpaScalingRules; scaleDown: HpaScalingRules } {
  return {
    scaleUp: {
      stabilizationWindowSeconds: windows.scaleUpStabilizationSeconds,
      selectPolicy: "Max",
      policies: [
        { type: "Percent", value: 100, periodSeconds: 15 },
        { type: "Pods", value: 4, periodSeconds: 15 },
      ],
    },
    scaleDown: {
      stabilizationWindowSeconds: windows.scaleDownStabilizationSeconds,
      selectPolicy: "Max",
      policies: [{ type: "Percent", value: 100, periodSeconds: 15 }],
    },
  };
}

/** The autoscaling settings an HPA is made of (a stack's `autoscaling`, stacks/schema.ts). */
export interface HpaSettings {
  minReplicas: number;
  maxReplicas: number;
  targetCpuUtilization: number;
  scaleUpStabilizationSeconds: number;
  scaleDownStabilizationSeconds: number;
}

/**
 * The autoscaling/v2 HPA's `spec` a stack deploys: its Deployment `deploymentName` as the scale
 * target, min/max replicas, one CPU Utilization metric at the stack's target, and
 * {@link hpaBehavior}. Plain objects, no Pulumi resource: components/InferenceService.ts registers
 * it (the Deployment's name an Output), and validate:hpa (tools/planner/src/validate-hpa.ts)
 * applies this very spec to a real kube-controller-manager.
 */
export function hpaSpec<Name>(autoscaling: HpaSettings, deploymentName: Name) {
  return {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deploymentName },
    minReplicas: autoscaling.minReplicas,
    maxReplicas: autoscaling.maxReplicas,
    metrics: [
      {
        type: "Resource",
        resource: {
          name: "cpu",
          target: { type: "Utilization", averageUtilization: autoscaling.targetCpuUtilization },
        },
      },
    ],
    behavior: hpaBehavior(autoscaling),
  };
}

/** The annotation kube-score reads to skip checks on an object (comma-separated check IDs). */
export const KUBE_SCORE_IGNORE = "kube-score/ignore";

/** Where the reason for skipping kube-score check `id` is written, beside the skip itself. */
export function kubeScoreIgnoreReasonKey(id: string): string {
  return `food11/kube-score-ignore-reason.${id}`;
}

/**
 * Annotations that make kube-score skip the given checks (check ID -> why), each reason written
 * next to the skip so that the tool's reader and a reviewer see it. Empty for no checks.
 */
export function kubeScoreIgnores(reasons: Record<string, string>): Record<string, string> {
  const ids = Object.keys(reasons);
  if (ids.length === 0) return {};
  return {
    [KUBE_SCORE_IGNORE]: ids.join(","),
    ...Object.fromEntries(ids.map((id) => [kubeScoreIgnoreReasonKey(id), reasons[id] as string])),
  };
}
