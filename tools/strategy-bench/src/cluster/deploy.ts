/**
 * A run's up and destroy stages: the stack through the real Pulumi engine (lib/e2e/engine.ts),
 * its output in the run's engine.log; with the stand-in ingress, the Ingress status written
 * while `pulumi up` waits for it.
 */
import { join } from "node:path";
import type { OperationResult } from "../../../../lib/e2e/engine.js";
import { ingressStatusWriter } from "../ingress-standin.js";
import type { StackRun } from "./context.js";

/** `pulumi up` or `pulumi destroy` of the run's stack on the cluster. */
export type StackOperation = (op: "up" | "destroy") => Promise<OperationResult>;

async function operateOrThrow(
  run: StackRun,
  operation: StackOperation,
  op: "up" | "destroy",
): Promise<OperationResult> {
  const r = await operation(op);
  if (!r.ok)
    throw new Error(`${r.error ?? `pulumi ${op} failed`} (log ${join(run.dir, "engine.log")})`);
  return r;
}

/** `pulumi up`: the stack's outputs. */
export async function up(
  run: StackRun,
  operation: StackOperation,
): Promise<Record<string, unknown>> {
  const stopWriter =
    run.ctx.ingress === "stand-in"
      ? await ingressStatusWriter(run.ctx.kubeconfig, run.settings.namespace.name)
      : undefined;
  try {
    return (await operateOrThrow(run, operation, "up")).outputs ?? {};
  } finally {
    await stopWriter?.();
  }
}

export async function destroy(run: StackRun, operation: StackOperation): Promise<void> {
  await operateOrThrow(run, operation, "destroy");
}
