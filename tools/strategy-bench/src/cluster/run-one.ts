/**
 * One run of one stack on the cluster, stage by stage: node (others' pods gone), up, ingress
 * (the stand-in's proxy, when Traefik does not run), ready, accuracy, load; then, whatever
 * happened, its events and destroy. Each step's wall time goes to steps.json; a failing step
 * is named in what it throws.
 */
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { CLUSTER_STATE_DIR } from "../../../../lib/cluster/stack.js";
import { PodRestarts } from "../cluster-scale.js";
import { runAccuracy } from "../commands.js";
import { startStandInProxy } from "../ingress-standin.js";
import { thisMachine } from "../machine.js";
import { writeJson } from "../runmeta.js";
import type { RunContext, RunEntry, ScaledStack, StackRun } from "./context.js";
import { destroy, type StackOperation, up } from "./deploy.js";
import { runEntry } from "./entry.js";
import { collectEvents } from "./events.js";
import { measureLoad } from "./load.js";
import { waitForNode } from "./node.js";
import { runName } from "./order.js";
import { waitIngress } from "./ready.js";
import { StepError, timedSteps } from "./step.js";

export async function runOne(
  ctx: RunContext,
  stack: string,
  repetition: number,
  scaled: ScaledStack,
): Promise<{ entry: RunEntry; steps: Record<string, number> }> {
  const { o } = ctx;
  const name = runName(stack, repetition, o.repeat);
  const dirName = o.repeat > 1 ? `${stack}-${repetition}` : stack;
  const dir = join(ctx.outDir, dirName);
  await mkdir(dir, { recursive: true });
  const { config, settings } = scaled;
  const configFile = o.stackFiles?.[stack];
  const engineLog = createWriteStream(join(dir, "engine.log"), { flags: "a" });
  const work = join(CLUSTER_STATE_DIR, "bench", stack);
  const { operate } = await import("../../../../lib/e2e/engine.js");
  const operation: StackOperation = (op) =>
    operate(
      op,
      { stack, work, config, kubeconfig: ctx.kubeconfig, ...(configFile ? { configFile } : {}) },
      (s) => engineLog.write(s),
    );
  const say = (l: string) => o.log(`[${name}] ${l}`);
  const run: StackRun = { ctx, stack, name, settings, dir, say };
  const { steps, step } = timedSteps(say);
  const machine = thisMachine();
  let backend: string | undefined;
  let failure: StepError | undefined;
  let loadStart = Date.now();
  const restarts = new PodRestarts(() => loadStart);
  let proxy: Awaited<ReturnType<typeof startStandInProxy>> | undefined;
  try {
    await step("node", () => waitForNode(run));
    const out = await step("up", () => up(run, operation));
    if (ctx.ingress === "stand-in") {
      proxy = await step("ingress", () =>
        startStandInProxy({
          kubeconfig: ctx.kubeconfig,
          namespace: settings.namespace.name,
          service: String(out.serviceName),
          log: say,
        }),
      );
    }
    const url = String(out.url ?? "http://127.0.0.1/");
    if (!url.endsWith("/"))
      throw new StepError("up", `the stack's url output ${url} does not end in /`);
    await step("ready", () => waitIngress(url, 180, o.signal));
    await step("accuracy", async () => {
      const acc = await runAccuracy({
        images: ctx.imagesDir,
        url: url.replace(/\/$/, ""),
        dir,
        quiet: o.quiet,
      });
      backend = acc.backend;
      say(
        `accuracy ${Math.round(acc.metrics.accuracy * acc.metrics.samples)} of ${acc.metrics.samples} ` +
          "(the untrained demo model: chance is 9.1 %)",
      );
    });
    await step("load", () =>
      measureLoad(run, url, restarts, () => {
        loadStart = Date.now();
      }),
    );
  } catch (err) {
    failure = err instanceof StepError ? err : new StepError("run", err);
    say(`FAILED at ${failure.message}`);
  } finally {
    await proxy?.stop().catch(() => undefined);
    await collectEvents(run, loadStart, restarts);
    try {
      await step("destroy", () => destroy(run, operation));
    } catch (err) {
      const e = err as StepError;
      say(`FAILED at ${e.message}`);
      failure ??= e;
    }
    await new Promise<void>((r) => engineLog.end(r));
    await writeJson(join(dir, "steps.json"), steps);
  }
  if (failure) throw failure;
  return { steps, entry: runEntry(run, { dirName, repetition, steps, machine, backend }) };
}
