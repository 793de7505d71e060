// The stack's Grafana dashboard (components/dashboard.ts) against the real server: start
// src/server.ts (the demo model, free ports on 127.0.0.1), send the requests that make every
// series appear, scrape the admin listener's /metrics, and check that each series a panel queries
// is one the server exports (with the labels the query uses) or one of the listed external
// series (kube-state-metrics, cAdvisor) that the server must not export itself.
import type { ChildProcess } from "node:child_process";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  EXTERNAL_METRICS,
  grafanaDashboard,
  groupingLabels,
  selectors,
  TARGET_LABELS,
} from "../../../components/dashboard.js";
import { serverProcess } from "./helpers.js";

interface Family {
  name: string;
  type: string;
  metrics: { labels?: Record<string, string> }[];
}

/** name -> type and the label names of its samples. */
type Exported = Map<string, { type: string; labels: Set<string> }>;

let child: ChildProcess | undefined;
let exported: Exported;

beforeAll(async () => {
  const server = await serverProcess({ INFERENCE_THREADS: "1", LOG_LEVEL: "warn" });
  child = server.child;
  const { base: api, admin } = server;
  await server.ready();
  // every series with samples: requests on both listeners, inferences (every stage), a 404
  for (let i = 0; i < 3; i++) expect((await fetch(`${api}/test?topk=1`)).status).toBe(200);
  expect((await fetch(`${api}/nope`)).status).toBe(404);
  exported = families(await (await fetch(`${admin}/metrics`)).text());
}, 180_000);

afterAll(() => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
});

/** Label names of a parsed family's samples. */
const labelNames = (f: Family) => new Set(f.metrics.flatMap((m) => Object.keys(m.labels ?? {})));

/**
 * The families of a scrape. The parser folds a histogram's (or summary's) samples into one and
 * drops their labels, so those are read from its `_count` lines parsed alone (an untyped family).
 */
function families(text: string): Exported {
  const out: Exported = new Map();
  for (const f of parsePrometheusTextFormat(text) as Family[]) {
    let labels = labelNames(f);
    if (f.type === "HISTOGRAM" || f.type === "SUMMARY") {
      const counts = text.split("\n").filter((l) => l.startsWith(`${f.name}_count{`));
      labels = new Set(
        (parsePrometheusTextFormat(counts.join("\n")) as Family[]).flatMap((c) => [
          ...labelNames(c),
        ]),
      );
    }
    out.set(f.name, { type: f.type, labels });
  }
  return out;
}

/** The exported family a series name belongs to (`x_bucket`, `x_sum`, `x_count` of histogram x). */
function familyOf(name: string, families: Exported) {
  const exact = families.get(name);
  if (exact) return { ...exact, extra: [] as string[] };
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  const base = m ? families.get(m[1] as string) : undefined;
  if (!base || !["HISTOGRAM", "SUMMARY"].includes(base.type)) return undefined;
  return { ...base, extra: m?.[2] === "bucket" ? ["le"] : [] };
}

/** What is wrong with a dashboard's queries against the exported families: one line each. */
function problems(dashboard: ReturnType<typeof grafanaDashboard>, families: Exported): string[] {
  const out: string[] = [];
  for (const panel of dashboard.panels) {
    for (const target of panel.targets) {
      const where = `"${panel.title}" ${target.refId}`;
      const read = selectors(target.expr);
      if (read.length === 0) out.push(`${where}: reads no series`);
      const serverLabels = new Set<string>(TARGET_LABELS);
      // grouping labels are checked where every series is the server's and known
      let checkGrouping = true;
      for (const s of read) {
        if (s.name in EXTERNAL_METRICS) {
          checkGrouping = false;
          continue;
        }
        const family = familyOf(s.name, families);
        if (!family) {
          out.push(`${where}: ${s.name} is not exported by the server nor listed as external`);
          checkGrouping = false;
          continue;
        }
        const known = new Set([...TARGET_LABELS, ...family.labels, ...family.extra]);
        for (const l of [...known]) serverLabels.add(l);
        for (const l of s.labels) {
          if (!known.has(l)) out.push(`${where}: ${s.name} has no label ${l}`);
        }
      }
      if (checkGrouping) {
        for (const l of groupingLabels(target.expr)) {
          if (!serverLabels.has(l)) out.push(`${where}: groups by ${l}, which its series lack`);
        }
      }
    }
  }
  return out;
}

describe("the Grafana dashboard queries what the server exports", () => {
  const dashboard = grafanaDashboard({ instance: "strategy1", namespace: "food11-strategy1" });

  it("every panel's series is exported (with the labels it uses) or listed as external", () => {
    expect(problems(dashboard, exported)).toEqual([]);
    // what the panels read from the server itself
    const read = new Set(
      dashboard.panels.flatMap((p) =>
        p.targets.flatMap((t) => selectors(t.expr).map((s) => s.name)),
      ),
    );
    expect([...read].filter((n) => !(n in EXTERNAL_METRICS)).sort()).toEqual([
      "http_request_duration_seconds_bucket",
      "http_requests_total",
      "inference_duration_seconds_bucket",
      "inference_duration_seconds_count",
      "inference_duration_seconds_sum",
      "inference_in_flight",
      "inference_queue_depth",
      "inference_queue_max",
      "model_ready",
    ]);
  });

  it("the external series are not the server's", () => {
    for (const name of Object.keys(EXTERNAL_METRICS))
      expect(familyOf(name, exported)).toBeUndefined();
  });

  it("a panel querying a series the server does not export, or a label it lacks, is reported", () => {
    const broken = structuredClone(dashboard);
    const [first, second] = broken.panels;
    if (!first?.targets[0] || !second?.targets[0]) throw new Error("no panels");
    first.targets[0].expr = first.targets[0].expr.replace(
      "http_requests_total",
      "http_request_total",
    );
    second.targets[0].expr = second.targets[0].expr.replace("by (le, route)", "by (le, path)");
    expect(problems(broken, exported)).toEqual([
      `"Requests per second by route (API)" A: http_request_total is not exported by the server nor listed as external`,
      `"Latency p50 / p95 by route (API)" A: groups by path, which its series lack`,
    ]);
  });
});
