/**
 * A run's load stage: the scaled schedule through the ingress (loadtest.csv) while the monitor
 * reads metrics.k8s.io for the stack's pods (monitor.csv) and their restarts are noted.
 */
import { labelSelector } from "../../../../components/defaults.js";
import type { PodRestarts } from "../cluster-scale.js";
import { runLoad } from "../commands.js";
import { kubernetesSampler } from "../monitor.js";
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
  onStart();
  await runLoad(
    {
      url: `${url}test`,
      dir,
      timeScale: o.timeScale,
      schedule: o.schedule,
      delayScale: o.delayScale,
      seed: o.seed,
      quiet: o.quiet,
      log: say,
      say,
      signal: o.signal,
    },
    {
      sample,
      intervalSeconds: ctx.scaling.monitorIntervalSeconds,
      columns: "extended",
      onError: (e) => say(`sample failed: ${e.message}`),
    },
  );
  if (o.signal?.aborted) throw new Error("interrupted");
}
