/**
 * Builds the seeded demo model (MobileNetV2 alpha 1.0 + GAP + Dense(11, softmax), 2,272,075
 * parameters) into app/models/demo, or the directory given as the first argument.
 * Skips the work when a valid model of the current revision is already there; --force rebuilds.
 *
 *   npm run model:demo [-- --force] [-- <dir>]
 */
import path from "node:path";
import { Command } from "commander";
import { defaultDemoModelDir, ensureDemoModel } from "../lib/demo-model/index.js";

const program = new Command("model:demo")
  .description("Build the seeded demo model, unless a valid one of this revision is there.")
  .argument("[dir]", "where (default app/models/demo)")
  .option("--force", "rebuild even when a valid model is there", false)
  .parse();
const { force } = program.opts<{ force: boolean }>();
const dirArg = program.args[0];
const dir = dirArg ? path.resolve(dirArg) : defaultDemoModelDir();
const t0 = performance.now();
const res = await ensureDemoModel(dir, { force });
const ms = Math.round(performance.now() - t0);
console.log(
  res.built
    ? `demo model built in ${dir} (${ms} ms), sha256 ${res.hash}`
    : `demo model already present and valid in ${dir}, sha256 ${res.hash} (use --force to rebuild)`,
);
