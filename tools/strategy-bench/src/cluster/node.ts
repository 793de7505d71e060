/**
 * A run's node stage: wait (up to 10 min) for other namespaces' pods to leave the node; else
 * measure anyway and say so (the run's interference).
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { StackRun } from "./context.js";
import { foreignPods } from "./kube.js";

export async function waitForNode({ ctx, name, settings, say }: StackRun): Promise<void> {
  const t0 = Date.now();
  let others = await foreignPods(ctx.kubeconfig, settings.namespace.name);
  if (others.length > 0)
    say(`waiting for other pods to leave the node: ${others.map((p) => p.name).join(", ")}`);
  while (others.length > 0 && Date.now() - t0 < 600_000 && !ctx.o.signal?.aborted) {
    await sleep(10_000);
    others = await foreignPods(ctx.kubeconfig, settings.namespace.name);
  }
  if (others.length > 0) {
    const cpu = others.reduce((a, p) => a + p.cpu, 0);
    const text =
      `${name}: other pods held ${Number(cpu.toFixed(3))} CPU of requests on the node during the run ` +
      `(${others.map((p) => p.name).join(", ")}), so fewer of its pods fit than the table says`;
    ctx.interference.push(text);
    say(`warning: ${text}`);
  }
}
