/**
 * `npm run validate:recommend`: a recommendation verified on real pods (docs/planning.md,
 * "Recommendation verified on real pods"; tools/strategy-bench/src/cluster-recommend.ts). Holds
 * the cluster's run lock for the whole check, as `run --cluster` does; exits 1 naming a failed
 * check.
 */

import {
  validateRecommendation,
  validateRecommendCommand,
} from "../../tools/strategy-bench/src/cluster-recommend.js";
import { reexecUnderLock } from "../../tools/strategy-bench/src/cluster-run.js";

const log = (line: string) => process.stderr.write(`${line}\n`);

validateRecommendCommand(async (o) => {
  if (o.planOnly) {
    const r = await validateRecommendation(o, log);
    log(`${r.pass ? "recommended" : `FAIL: ${r.failed.join("; ")}`} (${r.out}/validation.md)`);
    if (!r.pass) process.exitCode = 1;
    return;
  }
  const code = await reexecUnderLock(log);
  if (code !== undefined) {
    process.exitCode = code;
    return;
  }
  const ctl = new AbortController();
  process.once("SIGINT", () => ctl.abort());
  process.once("SIGTERM", () => ctl.abort());
  const r = await validateRecommendation(o, log, ctl.signal);
  log(`${r.pass ? "PASS" : `FAIL: ${r.failed.join("; ")}`} (${r.out}/validation.md)`);
  if (!r.pass) process.exitCode = 1;
})
  .parseAsync(process.argv)
  .catch((err: Error) => {
    log(`validate:recommend: ${err.message}`);
    process.exitCode = 1;
  });
