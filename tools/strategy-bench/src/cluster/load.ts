/**
 * A run's load stage: the scaled schedule through the ingress (loadtest.csv) while the monitor
 * reads metrics.k8s.io for the stack's pods (monitor.csv) and their restarts are noted.
 */
import { join } from "node:path";
import { labelSelector } from "../../../../components/defaults.js";
import type { PodRestarts } from "../cluster-scale.js";
import { runLoad } from "../commands.js";
import { kubernetesSampler, runMonitor } from "../monitor.js";
import type { StackRun } from "./context.js";

/** `onStart` is called as the monitor starts: the run's time 0 (events, restarts). */
export async function measureLoad(
  { ctx, stack, settings, dir, say }: StackRun,
  url: string,
  restarts: PodRestarts,
  onStart: () => void,
): Promise<void> {
  const { o } = ctx;
  const sample = await kubernetesSampler({
    namespace: settings.namespace.name,
    labelSelector: labelSelector(stack),
    kubeconfig: ctx.kubeconfig,
    onWarning: say,
    onPods: (pods, time) => restarts.observe(pods, time),
  });
  const stopMonitor = new AbortController();
  onStart();
  const monitorDone = runMonitor({
    sample,
    intervalSeconds: ctx.scaling.monitorIntervalSeconds,
    out: join(dir, "monitor.csv"),
    columns: "extended",
    signal: stopMonitor.signal,
    onError: (e) => say(`sample failed: ${e.message}`),
  });
  try {
    await runLoad({
      url: `${url}test`,
      dir,
      timeScale: o.timeScale,
      ...(o.schedule ? { schedule: o.schedule } : {}),
      ...(o.delayScale !== undefined ? { delayScale: o.delayScale } : {}),
      seed: o.seed,
      quiet: o.quiet,
      log: say,
      say,
      ...(o.signal ? { signal: o.signal } : {}),
    });
    if (o.signal?.aborted) throw new Error("interrupted");
  } finally {
    stopMonitor.abort();
    await monitorDone;
  }
}
