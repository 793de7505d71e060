/**
 * Metrics as metrics-server reports them (metrics.k8s.io/v1beta1 PodMetrics): every
 * `resolutionSeconds` (its --metric-resolution, 15 s by default in recent releases; older ones
 * used 60 s) it scrapes each pod's cumulative CPU time and working set; a pod's CPU usage is the
 * rate between its last two scrapes (timestamp = the newer scrape, window = the time between
 * them), its memory the working set at the newer scrape. A pod scraped once has no rate yet and
 * is absent from the API: the HPA counts it as a pod with a missing metric.
 */
import type { PodMetric } from "./hpa.js";

export interface PodSample {
  name: string;
  /** Cumulative CPU seconds of the pod's containers. */
  cpuSeconds: number;
  workingSetBytes: number;
}

/**
 * A pod's usage: the HPA's metric (its `valueMilli` is the CPU in millicores, rounded up as
 * Quantity.MilliValue() does when the HPA reads it) with the cores unrounded and the memory.
 */
export interface PodUsage extends PodMetric {
  cpuCores: number;
  workingSetBytes: number;
}

export class MetricsServer {
  private readonly last = new Map<string, { t: number; cpuSeconds: number }>();
  /** The API's current content: pod name → usage. */
  readonly pods = new Map<string, PodUsage>();

  constructor(readonly resolutionSeconds: number) {}

  scrape(now: number, samples: readonly PodSample[]): void {
    const seen = new Set<string>();
    for (const s of samples) {
      seen.add(s.name);
      const prev = this.last.get(s.name);
      if (prev && now > prev.t) {
        const cores = Math.max(0, (s.cpuSeconds - prev.cpuSeconds) / (now - prev.t));
        this.pods.set(s.name, {
          cpuCores: cores,
          valueMilli: Math.ceil(cores * 1000 - 1e-9),
          workingSetBytes: s.workingSetBytes,
          timestamp: now,
          windowSeconds: now - prev.t,
        });
      }
      this.last.set(s.name, { t: now, cpuSeconds: s.cpuSeconds });
    }
    for (const name of [...this.last.keys()]) {
      if (!seen.has(name)) {
        this.last.delete(name);
        this.pods.delete(name);
      }
    }
  }
}
