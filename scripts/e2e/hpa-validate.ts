/**
 * `npm run validate:hpa`'s entry point, run by scripts/e2e/hpa-validate.sh inside the kwok loopback
 * control plane (KUBECONFIG set, FOOD11_HPA_CLUSTER_DIR = the cluster's work directory): the
 * planner's HPA against the real kube-controller-manager (tools/planner/src/hpa-harness.ts).
 * Writes <out>/hpa-validation.{md,json}; exit 0 when every stack's decisions are equal step for
 * step, 1 otherwise.
 */
import { join, resolve } from "node:path";
import { Command } from "commander";
import { HPA_VALIDATION_SECONDS, runHpaValidation } from "../../tools/planner/src/index.js";
import { nonNegative, positive, stacksOption } from "../../tools/strategy-bench/src/flags.js";
import { runTimestamp } from "../../tools/strategy-bench/src/index.js";

const o = new Command("hpa-validate.ts")
  .description(
    "The planner's HPA model against the real controller (run through scripts/e2e/hpa-validate.sh).",
  )
  .addOption(stacksOption("stack (repeatable; default baseline, strategy2)"))
  .option("--out <dir>", "output folder (default runs/validate-hpa-<time>)")
  .option(
    "--duration <s>",
    "seconds of the scripted trace",
    positive("duration"),
    HPA_VALIDATION_SECONDS,
  )
  .option(
    "--scale-down-window <s>",
    "override the stacks' scale-down stabilization window",
    nonNegative("scale-down window"),
  )
  .parse(process.argv.slice(2), { from: "user" })
  .opts<{ stack?: string[]; out?: string; duration: number; scaleDownWindow?: number }>();
const dir = process.env.FOOD11_HPA_CLUSTER_DIR;
if (!dir || !process.env.KUBECONFIG) {
  process.stderr.write(
    "validate:hpa: run through scripts/e2e/hpa-validate.sh (needs KUBECONFIG and FOOD11_HPA_CLUSTER_DIR)\n",
  );
  process.exit(1);
}
runHpaValidation({
  out: resolve(o.out || `runs/validate-hpa-${runTimestamp()}`),
  stacks: o.stack?.length ? o.stack : ["baseline", "strategy2"],
  durationSeconds: o.duration,
  ...(o.scaleDownWindow !== undefined ? { scaleDownWindow: o.scaleDownWindow } : {}),
  kcmLog: join(dir, "kwok/clusters/food11-e2e/logs/kube-controller-manager.log"),
}).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`validate:hpa: FAILED: ${e instanceof Error ? e.stack : e}\n`);
    process.exit(1);
  },
);
