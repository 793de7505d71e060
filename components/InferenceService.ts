import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { keyViolation, type StackSettings, settingsViolations } from "../stacks/schema";
import { SERVICE_MONITOR } from "./apiDiscovery";
import { ArgsCheck } from "./contract";
import { dashboardFileName, grafanaDashboard } from "./dashboard";
import {
  ADMIN_PORT,
  ADMIN_PORT_NAME,
  API_ROUTES,
  APP_NAME,
  CONTAINER_NAME,
  DEFAULTS,
  GATEWAY_API_GROUP,
  GATEWAY_API_VERSION,
  hpaSpec,
  kubeScoreIgnores,
  labelSelector,
  METRICS_PORT_NAME,
  PORT_NAME,
  ROUTES,
  SERVER_PORT,
  SERVICE_PORT,
  selectorLabels,
  UPLOAD_PAGE_ROUTE,
  workloadLabels,
} from "./defaults";
import { drainCutOff, isDnsLabel, show } from "./rules";
import { firstGatewayAddress } from "./TraefikController";

/** The type token of {@link InferenceService}. */
const TYPE = "food11:service:InferenceService";

/** The Gateway API route: an HTTPRoute (gateway.networking.k8s.io/v1) in place of the Ingress. */
export interface GatewayRouteArgs {
  /**
   * The Gateway it attaches to (`parentRefs`): food11:gatewayName, food11:gatewayNamespace,
   * food11:gatewaySectionName (none: every listener).
   */
  gateway: { name: string; namespace: string; sectionName?: string };
  /**
   * Where the Gateway answers, for `url` when no host is set. None: the Gateway's
   * `status.addresses[0]`, read from the cluster when `readGateway` (else `localhost`).
   */
  address?: pulumi.Input<string>;
  /** Read the Gateway from the cluster for its address; false for a render. */
  readGateway: boolean;
}

/**
 * The settings {@link InferenceServiceArgs} takes as stacks/schema.ts outputs them: these groups
 * whole, and {@link SERVER}'s fields of `server`. Its contract checks them with the schema's own
 * validation, so a key placed under one of them is checked here with no change.
 */
const SETTINGS = [
  "namespace",
  "resources",
  "autoscaling",
  "probes",
  "ingress",
  "availability",
  "pod",
  "networkPolicy",
  "monitoring",
] as const;
/** The fields of `server` that {@link InferenceServiceArgs} takes. */
const SERVER = ["shutdownGraceSeconds", "uploadPage"] as const;

/**
 * Arguments of {@link InferenceService}. Most are the stack's settings as stacks/schema.ts outputs
 * them (each `food11:*` key's default and meaning: the schema and docs/configuration.md's "Every
 * key" tables): `namespace` (name, create), `resources`, `autoscaling`, `probes`, `ingress` (host
 * and path serve the HTTPRoute too), `availability` (the PDB's maxUnavailable), `pod` (runAsUser,
 * ...), `networkPolicy` (ingress on the API port `http` from the pods of `apiFromNamespaces`, on
 * the admin port `admin` from those of `adminFromNamespaces`, none at all for empty lists; the
 * kubelet's probes come from the node, which a NetworkPolicy cannot block; egress DNS and its TCP
 * ports; without it every pod may reach the pods, and they anything) and `monitoring` (`scrape`:
 * prometheus.io/* annotations naming the admin port, a ServiceMonitor on the Service's
 * cluster-internal `metrics` port, or none; `grafanaDashboard`: the dashboard's ConfigMap). The
 * component re-defaults nothing; it checks its contract ({@link checkInferenceServiceArgs}).
 */
export interface InferenceServiceArgs extends Pick<StackSettings, (typeof SETTINGS)[number]> {
  /** `app.kubernetes.io/instance` of every object: the stack name. */
  instance: string;
  /** Image reference to run (a digest when built). */
  image: pulumi.Input<string>;
  /**
   * Container environment, in order; a `SHUTDOWN_GRACE_SECONDS` in it must equal
   * `server.shutdownGraceSeconds`, a `SHUTDOWN_DELAY_SECONDS` be below it, an `UPLOAD_PAGE`
   * agree with `server.uploadPage`, a `PORT` and an `ADMIN_PORT` be the container ports (8080,
   * 8081).
   */
  env: Record<string, string>;
  /**
   * The server's drain time after SIGTERM (SHUTDOWN_GRACE_SECONDS), whole seconds: the pod's
   * terminationGracePeriodSeconds is `shutdownGraceSeconds` plus
   * `DEFAULTS.terminationMarginSeconds`.
   */
  server: Pick<StackSettings["server"], (typeof SERVER)[number]>;
  /**
   * What the ServiceMonitor waits for: the program's check that the cluster serves its CRD (at
   * preview; components/apiDiscovery.ts), whose rejection fails the preview. None: no wait.
   */
  serviceMonitorCrdCheck?: Promise<void>;
  /**
   * Route with the Gateway API (food11:route gateway): an HTTPRoute (host and path from
   * `ingress`) instead of the Ingress. None: the Ingress.
   */
  gatewayRoute?: GatewayRouteArgs;
  /**
   * Resources the route waits for, e.g. an ingress controller installed with the stack (its
   * admission webhook must answer before an Ingress is accepted). None: no wait.
   */
  ingressDependsOn?: pulumi.Resource[];
}

/**
 * The inference workload of one stack: Namespace (optional), Deployment, Service (ClusterIP),
 * HorizontalPodAutoscaler (autoscaling/v2), Ingress, PodDisruptionBudget and NetworkPolicy
 * (optional), ServiceMonitor and Grafana dashboard ConfigMap (optional), all labelled
 * `app.kubernetes.io/*`.
 *
 * The server listens on two ports: `http` (the API: /predict, /test, the upload page) and `admin`
 * (/metrics, /healthz, /readyz). The probes use `admin`; the Service publishes `http` only (plus
 * a `metrics` port to `admin` for a ServiceMonitor); the Ingress or HTTPRoute routes the API's
 * paths exactly, nothing else.
 *
 * The Deployment leaves `spec.replicas` to the HPA, rolls out with maxUnavailable 0 / maxSurge 1
 * (serving capacity never drops), spreads its pods across nodes (soft), runs under the restricted
 * Pod Security Standard with a read-only root, bounded ephemeral storage and an emptyDir at /tmp,
 * and gives the container a SIGTERM drain window (SHUTDOWN_GRACE_SECONDS) that kubelet's
 * terminationGracePeriodSeconds outlasts by `DEFAULTS.terminationMarginSeconds`. Where
 * kube-score's checks do not fit this design, the object says so: a `kube-score/ignore` annotation with the reason beside it.
 */
export class InferenceService extends pulumi.ComponentResource {
  /** Namespace of every object. */
  public readonly namespace: pulumi.Output<string>;
  /** Name of the Deployment. */
  public readonly deploymentName: pulumi.Output<string>;
  /** Name of the Service. */
  public readonly serviceName: pulumi.Output<string>;
  /** Name of the HorizontalPodAutoscaler. */
  public readonly hpaName: pulumi.Output<string>;
  /** Name of the Ingress (none with a Gateway API route). */
  public readonly ingressName: pulumi.Output<string> | undefined;
  /** Name of the HTTPRoute (with a Gateway API route). */
  public readonly httpRouteName: pulumi.Output<string> | undefined;
  /** Name of the PodDisruptionBudget. */
  public readonly pdbName: pulumi.Output<string>;
  /** Name of the NetworkPolicy, when there is one. */
  public readonly networkPolicyName: pulumi.Output<string> | undefined;
  /** Name of the ServiceMonitor, when there is one. */
  public readonly serviceMonitorName: pulumi.Output<string> | undefined;
  /** Name of the Grafana dashboard's ConfigMap, when there is one. */
  public readonly dashboardName: pulumi.Output<string> | undefined;
  /** The selector of the pods, e.g. for `kubectl get pods -l`. */
  public readonly labelSelector: string;
  /** Where the service answers: `http://<ingress host or address><path>`. */
  public readonly url: pulumi.Output<string>;

  /** The Deployment. */
  public readonly deployment: k8s.apps.v1.Deployment;
  /** The Service (ClusterIP). */
  public readonly service: k8s.core.v1.Service;
  /** The HorizontalPodAutoscaler (autoscaling/v2). */
  public readonly hpa: k8s.autoscaling.v2.HorizontalPodAutoscaler;
  /** The Ingress (none with a Gateway API route). */
  public readonly ingress: k8s.networking.v1.Ingress | undefined;
  /** The HTTPRoute, when {@link InferenceServiceArgs.gatewayRoute} is given. */
  public readonly httpRoute: k8s.apiextensions.CustomResource | undefined;
  /** The PodDisruptionBudget. */
  public readonly pdb: k8s.policy.v1.PodDisruptionBudget;
  /** The NetworkPolicy, when {@link InferenceServiceArgs.networkPolicy} is given. */
  public readonly networkPolicy: k8s.networking.v1.NetworkPolicy | undefined;
  /** The ServiceMonitor (food11:monitoring servicemonitor). */
  public readonly serviceMonitor: k8s.apiextensions.CustomResource | undefined;
  /** The ConfigMap carrying the Grafana dashboard (food11:grafanaDashboard). */
  public readonly dashboard: k8s.core.v1.ConfigMap | undefined;

  /**
   * @throws pulumi.InputPropertiesError when the args break their contract (see
   * {@link checkInferenceServiceArgs}); nothing is registered then.
   */
  constructor(name: string, args: InferenceServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    checkInferenceServiceArgs(name, args);
    super(TYPE, name, {}, opts);

    const { instance, resources, autoscaling, probes, env } = args;
    const { host, path } = args.ingress;
    const { shutdownGraceSeconds } = args.server;
    const { pdbMaxUnavailable } = args.availability;
    const { runAsUser, priorityClassName } = args.pod;
    const ingressDependsOn = args.ingressDependsOn ?? [];

    const labels = workloadLabels(instance);
    const selector = selectorLabels(instance);
    this.labelSelector = labelSelector(instance);

    // Every namespaced object takes the namespace from the Namespace resource when it is created
    // here, so that it is created first and deleted last.
    let namespace: pulumi.Output<string>;
    if (args.namespace.create) {
      const ns = new k8s.core.v1.Namespace(
        `${name}-namespace`,
        {
          metadata: {
            name: args.namespace.name,
            labels: {
              ...labels,
              "pod-security.kubernetes.io/enforce": "restricted",
              "pod-security.kubernetes.io/enforce-version": "latest",
            },
          },
        },
        { parent: this },
      );
      namespace = ns.metadata.name;
    } else {
      namespace = pulumi.output(args.namespace.name);
    }
    const metadata = { name: APP_NAME, namespace, labels };
    /** A custom resource of the workload (the HTTPRoute, the ServiceMonitor), `kind` in `apiVersion`. */
    const customResource = (
      suffix: string,
      [apiVersion, kind]: readonly [string, string],
      spec: Record<string, unknown>,
      opts: pulumi.CustomResourceOptions,
    ) =>
      new k8s.apiextensions.CustomResource(
        `${name}-${suffix}`,
        { apiVersion, kind, metadata, spec },
        { parent: this, ...opts },
      );

    /** A probe of the admin port's `route`, every probe with the same timeout. */
    const probe = (
      route: string,
      p: { periodSeconds: number; successThreshold?: number; failureThreshold: number },
    ) => ({
      httpGet: { path: route, port: ADMIN_PORT_NAME, scheme: "HTTP" },
      periodSeconds: p.periodSeconds,
      ...(p.successThreshold !== undefined ? { successThreshold: p.successThreshold } : {}),
      failureThreshold: p.failureThreshold,
      timeoutSeconds: probes.timeoutSeconds,
    });
    const monitoring = args.monitoring;

    this.deployment = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: {
          ...metadata,
          annotations: kubeScoreIgnores({
            "container-image-pull-policy":
              "The image is pinned by digest (repo@sha256:...), so IfNotPresent runs exactly the pushed image and saves a registry round trip per pod start; Always would only re-check pull credentials.",
            "deployment-has-host-podantiaffinity":
              "The pods are spread across nodes by topologySpreadConstraints (kubernetes.io/hostname, maxSkew 1, ScheduleAnyway), which this check does not read; soft, so a one-node cluster still runs every replica.",
          }),
        },
        spec: {
          // No spec.replicas: the HPA owns the replica count.
          selector: { matchLabels: selector },
          revisionHistoryLimit: 5,
          strategy: {
            type: "RollingUpdate",
            rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
          },
          template: {
            metadata: {
              labels,
              ...(monitoring.scrape === "annotations"
                ? {
                    annotations: {
                      "prometheus.io/scrape": "true",
                      "prometheus.io/port": String(ADMIN_PORT),
                      "prometheus.io/path": ROUTES.metrics,
                    },
                  }
                : {}),
            },
            spec: {
              automountServiceAccountToken: false,
              // Soft: spread replicas over nodes so a scaled-out stack survives losing one, yet
              // schedule them all on a single node when that is all there is. Counted per
              // ReplicaSet (pod-template-hash), so a rollout's new pods spread among themselves.
              topologySpreadConstraints: [
                {
                  maxSkew: 1,
                  topologyKey: "kubernetes.io/hostname",
                  whenUnsatisfiable: "ScheduleAnyway",
                  labelSelector: { matchLabels: selector },
                  matchLabelKeys: ["pod-template-hash"],
                },
              ],
              enableServiceLinks: false,
              ...(priorityClassName !== undefined ? { priorityClassName } : {}),
              terminationGracePeriodSeconds:
                shutdownGraceSeconds + DEFAULTS.terminationMarginSeconds,
              securityContext: {
                runAsNonRoot: true,
                runAsUser,
                runAsGroup: runAsUser,
                fsGroup: runAsUser,
                seccompProfile: { type: "RuntimeDefault" },
              },
              containers: [
                {
                  name: CONTAINER_NAME,
                  image: args.image,
                  imagePullPolicy: "IfNotPresent",
                  ports: [
                    { name: PORT_NAME, containerPort: SERVER_PORT, protocol: "TCP" },
                    { name: ADMIN_PORT_NAME, containerPort: ADMIN_PORT, protocol: "TCP" },
                  ],
                  env: Object.entries(env).map(([envName, value]) => ({ name: envName, value })),
                  resources: {
                    requests: containerQuantities(resources.requests),
                    limits: containerQuantities(resources.limits),
                  },
                  startupProbe: probe(ROUTES.liveness, probes.startup),
                  readinessProbe: probe(ROUTES.readiness, probes.readiness),
                  livenessProbe: probe(ROUTES.liveness, probes.liveness),
                  securityContext: {
                    allowPrivilegeEscalation: false,
                    privileged: false,
                    readOnlyRootFilesystem: true,
                    runAsNonRoot: true,
                    capabilities: { drop: ["ALL"] },
                    seccompProfile: { type: "RuntimeDefault" },
                  },
                  volumeMounts: [{ name: "scratch", mountPath: "/tmp" }],
                },
              ],
              volumes: [{ name: "scratch", emptyDir: { sizeLimit: DEFAULTS.tmpSizeLimit } }],
            },
          },
        },
      },
      { parent: this },
    );

    this.service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata,
        spec: {
          type: "ClusterIP",
          selector,
          ports: [
            { name: PORT_NAME, port: SERVICE_PORT, targetPort: PORT_NAME, protocol: "TCP" },
            // Cluster-internal (a ClusterIP Service; no route names it): what a ServiceMonitor selects.
            ...(monitoring.scrape === "servicemonitor"
              ? [
                  {
                    name: METRICS_PORT_NAME,
                    port: ADMIN_PORT,
                    targetPort: ADMIN_PORT_NAME,
                    protocol: "TCP",
                  },
                ]
              : []),
          ],
        },
      },
      { parent: this },
    );

    this.hpa = new k8s.autoscaling.v2.HorizontalPodAutoscaler(
      `${name}-hpa`,
      {
        metadata: {
          ...metadata,
          ...(autoscaling.minReplicas < 2
            ? {
                annotations: kubeScoreIgnores({
                  "horizontalpodautoscaler-replicas": `minReplicas ${autoscaling.minReplicas} is the measured strategies' choice (one pod at rest). A node drain then evicts the only pod and nothing serves until its replacement is Ready (see the PodDisruptionBudget); a production stack sets minReplicas 2 (food11:minReplicas).`,
                }),
              }
            : {}),
        },
        spec: hpaSpec(autoscaling, this.deployment.metadata.name),
      },
      { parent: this },
    );

    // A prefix other than "/" is stripped before the server sees it: its routes are at its root.
    const rewrite = path !== "/";
    const prefix = path.replace(/\/+$/, "");
    const gatewayRoute = args.gatewayRoute;
    // What the route publishes: the API's paths, each exactly, and the upload page if served.
    // Nothing else reaches the server from outside (the admin paths are on another port anyway).
    const serverPaths: string[] = [
      ...API_ROUTES,
      ...(args.server.uploadPage ? [UPLOAD_PAGE_ROUTE] : []),
    ];
    const publicPath = (p: string) => `${prefix}${p}`;
    // Under a prefix, one nginx regex for them all: <prefix>/(predict|test) (with ? for the page's
    // <prefix>/), rewritten to /$1.
    const apiNames = API_ROUTES.map((r) => r.slice(1)).join("|");
    const prefixRegex = `${prefix}/(${apiNames})${args.server.uploadPage ? "?" : ""}$`;
    this.ingress =
      gatewayRoute !== undefined
        ? undefined
        : new k8s.networking.v1.Ingress(
            `${name}-ingress`,
            {
              metadata: {
                ...metadata,
                annotations: {
                  "nginx.ingress.kubernetes.io/proxy-body-size": args.ingress.proxyBodySize,
                  ...(rewrite
                    ? {
                        "nginx.ingress.kubernetes.io/use-regex": "true",
                        "nginx.ingress.kubernetes.io/rewrite-target": "/$1",
                      }
                    : {}),
                },
              },
              spec: {
                ingressClassName: args.ingress.className,
                rules: [
                  {
                    ...(host !== undefined ? { host } : {}),
                    http: {
                      paths: (rewrite ? [prefixRegex] : serverPaths).map((p) => ({
                        path: p,
                        pathType: rewrite ? "ImplementationSpecific" : "Exact",
                        backend: {
                          service: {
                            name: this.service.metadata.name,
                            port: { name: PORT_NAME },
                          },
                        },
                      })),
                    },
                  },
                ],
              },
            },
            { parent: this, dependsOn: ingressDependsOn },
          );

    // The same route in the Gateway API: an Exact match per published path and, under a prefix,
    // the server's path set whole (URLRewrite ReplaceFullPath, an Extended feature every conformant
    // HTTP implementation of it supports). The body-size limit has no Gateway API field: the
    // server's own BODY_LIMIT_BYTES answers 413.
    this.httpRoute =
      gatewayRoute === undefined
        ? undefined
        : customResource(
            "httproute",
            [GATEWAY_API_VERSION, "HTTPRoute"],
            {
              parentRefs: [
                {
                  group: GATEWAY_API_GROUP,
                  kind: "Gateway",
                  name: gatewayRoute.gateway.name,
                  namespace: gatewayRoute.gateway.namespace,
                  ...(gatewayRoute.gateway.sectionName
                    ? { sectionName: gatewayRoute.gateway.sectionName }
                    : {}),
                },
              ],
              ...(host !== undefined ? { hostnames: [host] } : {}),
              rules: serverPaths.map((p) => ({
                matches: [{ path: { type: "Exact", value: publicPath(p) } }],
                ...(rewrite
                  ? {
                      filters: [
                        {
                          type: "URLRewrite",
                          urlRewrite: { path: { type: "ReplaceFullPath", replaceFullPath: p } },
                        },
                      ],
                    }
                  : {}),
                backendRefs: [{ name: this.service.metadata.name, port: SERVICE_PORT }],
              })),
            },
            { dependsOn: ingressDependsOn },
          );

    this.pdb = new k8s.policy.v1.PodDisruptionBudget(
      `${name}-pdb`,
      {
        metadata: {
          ...metadata,
          annotations: {
            [DRAIN_ANNOTATION]: drainNote(autoscaling.minReplicas, pdbMaxUnavailable),
          },
        },
        spec: { maxUnavailable: pdbMaxUnavailable, selector: { matchLabels: selector } },
      },
      { parent: this },
    );

    const netpol = args.networkPolicy;
    this.networkPolicy =
      netpol === undefined
        ? undefined
        : new k8s.networking.v1.NetworkPolicy(
            `${name}-networkpolicy`,
            {
              metadata,
              spec: {
                podSelector: { matchLabels: selector },
                policyTypes: ["Ingress", "Egress"],
                // The kubelet's probes (on `admin`) come from the node: no rule admits or blocks them.
                ingress: (
                  [
                    [netpol.apiFromNamespaces, PORT_NAME],
                    [netpol.adminFromNamespaces, ADMIN_PORT_NAME],
                  ] as const
                )
                  .filter(([namespaces]) => namespaces.length > 0)
                  .map(([namespaces, port]) => ({
                    from: namespaces.map((ns) => ({
                      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } },
                    })),
                    ports: [{ protocol: "TCP", port }],
                  })),
                egress: [
                  // DNS, wherever the cluster's resolver runs (CoreDNS, NodeLocal DNSCache).
                  {
                    ports: [
                      { protocol: "UDP", port: 53 },
                      { protocol: "TCP", port: 53 },
                    ],
                  },
                  ...(netpol.egressTcpPorts.length > 0
                    ? [
                        {
                          ports: netpol.egressTcpPorts.map((port) => ({
                            protocol: "TCP",
                            port,
                          })),
                        },
                      ]
                    : []),
                ],
              },
            },
            { parent: this },
          );

    // Prometheus Operator: scrape every endpoint of the Service's metrics port (the admin
    // listener), at /metrics, from the monitoring namespace (the NetworkPolicy admits it there).
    this.serviceMonitor =
      monitoring.scrape !== "servicemonitor"
        ? undefined
        : customResource(
            "servicemonitor",
            [`${SERVICE_MONITOR.group}/${SERVICE_MONITOR.version}`, SERVICE_MONITOR.kind],
            {
              selector: { matchLabels: selector },
              namespaceSelector: { matchNames: [namespace] },
              endpoints: [{ port: METRICS_PORT_NAME, path: ROUTES.metrics, scheme: "http" }],
            },
            {
              // Waits for the CRD check: a rejected check (no CRD) fails this registration, and
              // the preview, with the check's RunError.
              ...(args.serviceMonitorCrdCheck !== undefined
                ? {
                    dependsOn: pulumi
                      .output(args.serviceMonitorCrdCheck.then(() => []))
                      .apply((none: pulumi.Resource[]) => none),
                  }
                : {}),
            },
          );

    // The Grafana sidecar's convention: any ConfigMap labelled grafana_dashboard: "1".
    this.dashboard = !monitoring.grafanaDashboard
      ? undefined
      : new k8s.core.v1.ConfigMap(
          `${name}-dashboard`,
          {
            metadata: {
              name: `${APP_NAME}-dashboard`,
              namespace,
              labels: { ...labels, grafana_dashboard: "1" },
            },
            data: {
              [dashboardFileName(instance)]: `${JSON.stringify(
                grafanaDashboard({ instance, namespace: args.namespace.name }),
                null,
                2,
              )}\n`,
            },
          },
          { parent: this },
        );

    const urlPath = rewrite ? `${prefix}/` : "/";
    this.url =
      host !== undefined
        ? pulumi.output(`http://${host}${urlPath}`)
        : this.ingress !== undefined
          ? this.ingress.status.apply((status) => {
              const lb = status?.loadBalancer?.ingress?.[0];
              return `http://${lb?.hostname ?? lb?.ip ?? "localhost"}${urlPath}`;
            })
          : pulumi
              .output(gatewayAddress(name, gatewayRoute as GatewayRouteArgs, this))
              .apply((address) => `http://${address}${urlPath}`);
    this.namespace = namespace;
    this.deploymentName = this.deployment.metadata.name;
    this.serviceName = this.service.metadata.name;
    this.hpaName = this.hpa.metadata.name;
    this.ingressName = this.ingress?.metadata.name;
    this.httpRouteName = this.httpRoute?.metadata.name;
    this.pdbName = this.pdb.metadata.name;
    this.networkPolicyName = this.networkPolicy?.metadata.name;
    this.serviceMonitorName = this.serviceMonitor?.metadata.name;
    this.dashboardName = this.dashboard?.metadata.name;

    this.registerOutputs({
      namespace: this.namespace,
      deploymentName: this.deploymentName,
      serviceName: this.serviceName,
      hpaName: this.hpaName,
      ingressName: this.ingressName,
      httpRouteName: this.httpRouteName,
      pdbName: this.pdbName,
      networkPolicyName: this.networkPolicyName,
      serviceMonitorName: this.serviceMonitorName,
      dashboardName: this.dashboardName,
      labelSelector: this.labelSelector,
      url: this.url,
    });
  }
}

/** A container's requests or limits as Kubernetes spells them. */
function containerQuantities(q: StackSettings["resources"]["requests"]): Record<string, string> {
  return { cpu: q.cpu, memory: q.memory, "ephemeral-storage": q.ephemeralStorage };
}

/** The Gateway's first address: given, or read from the cluster's Gateway status, or localhost. */
function gatewayAddress(
  name: string,
  route: GatewayRouteArgs,
  parent: pulumi.Resource,
): pulumi.Input<string> {
  if (route.address !== undefined) return route.address;
  if (!route.readGateway) return "localhost";
  // A read of the existing Gateway (what CustomResource.get does, with `status` among its outputs).
  const gateway = new k8s.apiextensions.CustomResource(
    `${name}-gateway`,
    { apiVersion: GATEWAY_API_VERSION, kind: "Gateway", status: undefined },
    { id: `${route.gateway.namespace}/${route.gateway.name}`, parent },
  );
  return firstGatewayAddress(gateway);
}

/** The PodDisruptionBudget's annotation that says what a node drain costs with these replicas. */
export const DRAIN_ANNOTATION = "food11/drain";

/** What a drain does to a stack at rest (minReplicas pods) under maxUnavailable. */
export function drainNote(minReplicas: number, maxUnavailable: number): string {
  if (maxUnavailable === 0) {
    return "maxUnavailable 0: a drain waits until the HPA has scaled out (or the budget is changed); no pod is evicted.";
  }
  if (minReplicas <= maxUnavailable) {
    return `minReplicas ${minReplicas} with maxUnavailable ${maxUnavailable}: at rest a drain may evict every pod, and nothing serves until a replacement is Ready. Keep a pod serving with minReplicas ${maxUnavailable + 1} or more.`;
  }
  return `minReplicas ${minReplicas} with maxUnavailable ${maxUnavailable}: a drain keeps at least ${minReplicas - maxUnavailable} pod${minReplicas - maxUnavailable === 1 ? "" : "s"} serving.`;
}

/** `app.kubernetes.io/instance` is a label value: at most 63 alphanumerics, '-', '_', '.'. */
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/**
 * The contract of {@link InferenceServiceArgs}, for a program that constructs the component
 * without the stack schema. The settings it picks are checked by the schema itself
 * (stacks/schema.ts settingsViolations: each key's own range and format, requests at most limits,
 * minReplicas at most maxReplicas); by hand only what no key declares: an instance that is a label
 * value, a namespace name that is a DNS label, an image reference (when a string), `env` agreeing
 * with the settings and the container ports (a `SHUTDOWN_GRACE_SECONDS` equal to
 * server.shutdownGraceSeconds, a `SHUTDOWN_DELAY_SECONDS` below it, an `UPLOAD_PAGE` equal to
 * server.uploadPage, a `PORT` and `ADMIN_PORT` that are 8080 and 8081), the Gateway's names, and
 * the NetworkPolicy's peers (each the value of the key that feeds it) and ports 1..65535. Throws a
 * `pulumi.InputPropertiesError` listing every violation.
 */
export function checkInferenceServiceArgs(name: string, args: InferenceServiceArgs): void {
  const check = new ArgsCheck(TYPE, name);

  if (
    typeof args.instance !== "string" ||
    args.instance.length > 63 ||
    !LABEL_VALUE.test(args.instance)
  ) {
    check.fail(
      "instance",
      `${show(args.instance)} is not allowed: must be a label value (1 to 63 letters, digits, '-', '_', '.', alphanumeric at both ends)`,
    );
  }
  if (!isDnsLabel(args.namespace?.name)) {
    check.fail(
      "namespace.name",
      `${show(args.namespace?.name)} is not allowed: a namespace must be a DNS label (1 to 63 lower-case letters, digits, '-')`,
    );
  }
  if (typeof args.image === "string") {
    check.token("image", args.image, "an image reference such as registry/repo@sha256:<digest>");
  }

  const settings = settingsViolations(args, [...SETTINGS, ...SERVER.map((f) => `server.${f}`)]);
  check.failAll(settings);
  const valid = (path: string) => !settings.some((v) => v.propertyPath === path);

  // The server drains for what terminationGracePeriodSeconds (shutdownGraceSeconds + margin)
  // allows, listens where the container's ports, probes and routes say, and serves the page the
  // route publishes.
  const { shutdownGraceSeconds: grace, uploadPage } = args.server ?? {};
  const env = args.env ?? {};
  /** `env[variable]`, when given, must be `expected`: else the value and `why` it may not be. */
  const agrees = (variable: string, expected: string, why: string) => {
    const given = env[variable];
    if (given !== undefined && given !== expected) {
      check.fail(`env.${variable}`, `${show(given)} ${why}: must be ${show(expected)} or left out`);
    }
  };
  if (valid("server.shutdownGraceSeconds")) {
    const margin = DEFAULTS.terminationMarginSeconds;
    agrees(
      "SHUTDOWN_GRACE_SECONDS",
      String(grace),
      `disagrees with shutdownGraceSeconds ${grace}, from which terminationGracePeriodSeconds ${grace + margin} is derived`,
    );
    const envDelay = env.SHUTDOWN_DELAY_SECONDS;
    if (envDelay !== undefined && !(/^\d+$/.test(envDelay) && !drainCutOff(+envDelay, grace))) {
      check.fail(
        "env.SHUTDOWN_DELAY_SECONDS",
        `${show(envDelay)} is not below shutdownGraceSeconds ${grace}: the server would be cut off before it drains; must be a whole number of seconds below it, or left out`,
      );
    }
  }
  for (const [variable, port] of [
    ["PORT", SERVER_PORT],
    ["ADMIN_PORT", ADMIN_PORT],
  ] as const) {
    const why = `is not the container port ${port} that the Service, probes and NetworkPolicy name`;
    agrees(variable, String(port), why);
  }
  if (valid("server.uploadPage")) {
    const why = `disagrees with server.uploadPage ${uploadPage}, which decides whether the route publishes /`;
    agrees("UPLOAD_PAGE", String(uploadPage), why);
  }

  if (args.gatewayRoute !== undefined) {
    // As the keys that name it say; its namespace is gatewayNamespace or, unset, this one.
    const gw = args.gatewayRoute.gateway;
    const at = "gatewayRoute.gateway";
    check.failIf(`${at}.name`, keyViolation("gatewayName", gw?.name));
    check.failIf(`${at}.namespace`, keyViolation("ingressControllerNamespace", gw?.namespace));
    check.failIf(`${at}.sectionName`, keyViolation("gatewaySectionName", gw?.sectionName));
  }

  if (args.networkPolicy !== undefined) {
    // Each peer is the value of the key that feeds it, so that key's validation applies.
    for (const [field, key] of [
      ["apiFromNamespaces", "ingressControllerNamespace"],
      ["adminFromNamespaces", "monitoringNamespace"],
    ] as const) {
      const from = args.networkPolicy[field];
      if (!Array.isArray(from)) {
        check.fail(
          `networkPolicy.${field}`,
          `${show(from)} is not allowed: must be a list of namespaces (may be empty)`,
        );
        continue;
      }
      from.forEach((ns, i) => {
        const reason = ns === undefined ? "undefined is not a namespace" : keyViolation(key, ns);
        if (reason !== undefined) check.fail(`networkPolicy.${field}[${i}]`, reason);
      });
    }
    (args.networkPolicy.egressTcpPorts ?? []).forEach((port, i) => {
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        const reason = `${show(port)} is not allowed: must be an integer from 1 to 65535`;
        check.fail(`networkPolicy.egressTcpPorts[${i}]`, reason);
      }
    });
  }

  check.throwIfInvalid();
}
