/**
 * A run's events, read whatever happened (they explain a failure too): the namespace's events
 * as they came (events.raw.json) and the timeline that matters, with the pods' restarts
 * (events.json); the scalings said. A failure to read them is said, never thrown.
 */
import { join } from "node:path";
import { type EventLike, eventTimeline, type PodRestarts, sortTimeline } from "../cluster-scale.js";
import { RUN_FILES } from "../commands.js";
import { writeJson } from "../runmeta.js";
import type { StackRun } from "./context.js";
import { k8sClients } from "./kube.js";

export async function collectEvents(
  { ctx, settings, dir, say }: StackRun,
  loadStart: number,
  restarts: PodRestarts,
): Promise<void> {
  try {
    const { core } = await k8sClients(ctx.kubeconfig);
    const ev = await core.listNamespacedEvent({ namespace: settings.namespace.name });
    await writeJson(join(dir, "events.raw.json"), ev.items);
    const timeline = sortTimeline([
      ...eventTimeline(ev.items as EventLike[], loadStart),
      ...restarts.entries,
    ]);
    await writeJson(join(dir, RUN_FILES.events), timeline);
    for (const e of timeline.filter((x) => x.kind === "scale-up" || x.kind === "scale-down")) {
      say(`t=${e.t.toFixed(0)} s ${e.kind}: ${e.message}`);
    }
  } catch (err) {
    say(`events: could not be read (${(err as Error).message})`);
  }
}
