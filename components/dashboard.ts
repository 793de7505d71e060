/**
 * The Grafana dashboard of a stack (food11:grafanaDashboard), generated here from the metrics the
 * server exports on its admin port (app/src/plugins/metrics.ts; docs/server.md, "Metrics") and
 * the few a cluster's Prometheus gets elsewhere ({@link EXTERNAL_METRICS}). Pure: the component
 * puts it in a ConfigMap, and app/test/http/dashboard.test.ts starts the real server, scrapes its
 * admin /metrics and fails if a panel queries a series that is neither exported nor external.
 */
import { APP_NAME, CONTAINER_NAME, ROUTES } from "./defaults";

/**
 * Series the dashboard reads that the server does not export: kube-state-metrics (replicas,
 * requests and limits) and the kubelet's cAdvisor (CPU and memory used), both scraped by a
 * kube-prometheus-stack install. Name -> where it comes from.
 */
export const EXTERNAL_METRICS: Readonly<Record<string, string>> = {
  kube_horizontalpodautoscaler_status_desired_replicas: "kube-state-metrics",
  kube_horizontalpodautoscaler_status_current_replicas: "kube-state-metrics",
  kube_horizontalpodautoscaler_spec_max_replicas: "kube-state-metrics",
  kube_pod_container_resource_requests: "kube-state-metrics",
  kube_pod_container_resource_limits: "kube-state-metrics",
  container_cpu_usage_seconds_total: "cAdvisor (kubelet /metrics/cadvisor)",
  container_memory_working_set_bytes: "cAdvisor (kubelet /metrics/cadvisor)",
};

/**
 * Labels Prometheus attaches to a scraped series (the Kubernetes service discovery's relabelling,
 * in a ServiceMonitor's and in the usual prometheus.io/* pod job), not the server.
 */
export const TARGET_LABELS = ["namespace", "pod"] as const;

/** The label of the HTTP series whose routes are the admin listener's, not the API's. */
const ADMIN_ROUTES = Object.values(ROUTES).join("|");

/** The file name of the dashboard in its ConfigMap (the Grafana sidecar loads every `*.json`). */
export function dashboardFileName(instance: string): string {
  return `food11-${instance}.json`;
}

interface Target {
  expr: string;
  legendFormat: string;
}

interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  targets: Target[];
}

/** `name{namespace="$namespace", ...}`: every selector of the dashboard names the namespace. */
function sel(
  name: string,
  matchers: Record<string, string> = {},
  negative: Record<string, string> = {},
) {
  const m = [
    `namespace="$namespace"`,
    ...Object.entries(matchers).map(([k, v]) => `${k}="${v}"`),
    ...Object.entries(negative).map(([k, v]) => `${k}!~"${v}"`),
  ];
  return `${name}{${m.join(", ")}}`;
}

const RATE = "[$__rate_interval]";
const api = { route: ADMIN_ROUTES };
const classifier = { container: CONTAINER_NAME };

function quantile(q: number, histogram: string, by: string, negative: Record<string, string> = {}) {
  return `histogram_quantile(${q}, sum by (le, ${by}) (rate(${sel(`${histogram}_bucket`, {}, negative)}${RATE})))`;
}

/**
 * What the classifier container of each pod uses of `resource` (`used`, summed by pod), against
 * its request and limit (kube-state-metrics).
 */
function againstBudget(resource: "cpu" | "memory", used: string): Target[] {
  return [
    { expr: `sum by (pod) (${used})`, legendFormat: "{{pod}}" },
    ...(["request", "limit"] as const).map((kind) => ({
      expr: `max(${sel(`kube_pod_container_resource_${kind}s`, { ...classifier, resource })})`,
      legendFormat: kind,
    })),
  ];
}

/** The panels, two per row: what the issue asks for, in the order an operator reads them. */
function panels(): PanelSpec[] {
  return [
    {
      title: "Requests per second by route (API)",
      description:
        "http_requests_total of the API's routes by status code (the admin listener's probes and scrapes left out).",
      unit: "reqps",
      targets: [
        {
          expr: `sum by (route, status_code) (rate(${sel("http_requests_total", {}, api)}${RATE}))`,
          legendFormat: "{{route}} {{status_code}}",
        },
      ],
    },
    {
      title: "Latency p50 / p95 by route (API)",
      description:
        "http_request_duration_seconds: from the first byte received to the response sent, in the server.",
      unit: "s",
      targets: [
        {
          expr: quantile(0.5, "http_request_duration_seconds", "route", api),
          legendFormat: "p50 {{route}}",
        },
        {
          expr: quantile(0.95, "http_request_duration_seconds", "route", api),
          legendFormat: "p95 {{route}}",
        },
      ],
    },
    {
      title: "Inference queue (all pods)",
      description:
        "Images waiting (inference_queue_depth), running on an engine (inference_in_flight), and the bound past which requests get 503 (inference_queue_max, QUEUE_MAX per pod).",
      unit: "short",
      targets: [
        { expr: `sum(${sel("inference_queue_depth")})`, legendFormat: "waiting" },
        { expr: `sum(${sel("inference_in_flight")})`, legendFormat: "running" },
        { expr: `sum(${sel("inference_queue_max")})`, legendFormat: "bound" },
      ],
    },
    {
      title: "Replicas",
      description:
        "Pods whose model is loaded and not draining (model_ready, from the server), and the HPA's current, desired and most replicas (kube-state-metrics).",
      unit: "short",
      targets: [
        { expr: `sum(${sel("model_ready")})`, legendFormat: "ready (model_ready)" },
        ...[
          ["current", "status_current"],
          ["desired", "status_desired"],
          ["max", "spec_max"],
        ].map(([legend, series]) => ({
          expr: sel(`kube_horizontalpodautoscaler_${series}_replicas`, {
            horizontalpodautoscaler: APP_NAME,
          }),
          legendFormat: `${legend} (HPA)`,
        })),
      ],
    },
    {
      title: "Inference time per stage: mean",
      description:
        "inference_duration_seconds by stage: decode, preprocess, queue (waiting for an engine), inference (the model run), total.",
      unit: "s",
      targets: [
        {
          expr: `sum by (stage) (rate(${sel("inference_duration_seconds_sum")}${RATE})) / sum by (stage) (rate(${sel("inference_duration_seconds_count")}${RATE}))`,
          legendFormat: "{{stage}}",
        },
      ],
    },
    {
      title: "Inference time per stage: p95",
      description: "inference_duration_seconds by stage, 95th percentile over all pods.",
      unit: "s",
      targets: [
        { expr: quantile(0.95, "inference_duration_seconds", "stage"), legendFormat: "{{stage}}" },
      ],
    },
    {
      title: "CPU per pod against requests and limits",
      description:
        "Cores used by the classifier container of each pod (cAdvisor), against its requests.cpu (what the HPA's utilization is measured against) and limits.cpu (kube-state-metrics).",
      unit: "short",
      targets: againstBudget(
        "cpu",
        `rate(${sel("container_cpu_usage_seconds_total", classifier)}${RATE})`,
      ),
    },
    {
      title: "Memory per pod against requests and limits",
      description:
        "Working set of the classifier container of each pod (cAdvisor; what the kubelet and the OOM killer count), against requests.memory and limits.memory (kube-state-metrics).",
      unit: "bytes",
      targets: againstBudget("memory", sel("container_memory_working_set_bytes", classifier)),
    },
  ];
}

/** The panels' data source: the dashboard's `datasource` variable (Grafana's syntax). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: a Grafana variable, not a JS template.
const DATASOURCE = { type: "prometheus", uid: "${datasource}" } as const;

/**
 * The dashboard JSON model (Grafana 11/12, schemaVersion 39) of a stack: the `datasource` and
 * `namespace` variables (the namespace defaults to the stack's), eight time series panels.
 */
export function grafanaDashboard(o: { instance: string; namespace: string }) {
  const specs = panels();
  return {
    uid: `food11-${o.instance}`.slice(0, 40),
    title: `Food-11 classifier (${o.instance})`,
    description:
      "Generated by the food11-k8s program (components/dashboard.ts) from the series the server exports on its admin port; replicas, CPU and memory from kube-state-metrics and cAdvisor.",
    tags: ["food11", "inference"],
    editable: true,
    schemaVersion: 39,
    time: { from: "now-1h", to: "now" },
    refresh: "30s",
    templating: {
      list: [
        {
          name: "datasource",
          label: "Data source",
          type: "datasource",
          query: "prometheus",
          current: {},
          hide: 0,
        },
        {
          name: "namespace",
          label: "Namespace",
          type: "query",
          datasource: DATASOURCE,
          query: { query: "label_values(model_info, namespace)", refId: "namespace" },
          definition: "label_values(model_info, namespace)",
          refresh: 2,
          current: { text: o.namespace, value: o.namespace },
          hide: 0,
        },
      ],
    },
    panels: specs.map((p, i) => ({
      id: i + 1,
      type: "timeseries",
      title: p.title,
      description: p.description,
      datasource: DATASOURCE,
      gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
      fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
      options: {
        legend: { displayMode: "list", placement: "bottom", showLegend: true },
        tooltip: { mode: "multi", sort: "none" },
      },
      targets: p.targets.map((t, j) => ({
        refId: String.fromCharCode(65 + j),
        datasource: DATASOURCE,
        expr: t.expr,
        legendFormat: t.legendFormat,
      })),
    })),
  };
}

/** Every `name{...}` selector of a PromQL expression: the series it reads. */
export function selectors(expr: string): { name: string; labels: string[] }[] {
  const out: { name: string; labels: string[] }[] = [];
  for (const m of expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}/g)) {
    const labels = [...(m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=|!=|=~|!~)/g)].map(
      (l) => l[1] as string,
    );
    out.push({ name: m[1] as string, labels });
  }
  return out;
}

/** Every `by (a, b)` label of a PromQL expression. */
export function groupingLabels(expr: string): string[] {
  return [...expr.matchAll(/\bby\s*\(([^)]*)\)/g)].flatMap((m) =>
    (m[1] ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );
}
