/**
 * The planner's users-and-queue model against a measured run, as figures (npm run bench:planner):
 * a synthetic two-engine server on 127.0.0.1 (each request holds an engine for 10 ms), its
 * capacity profile measured by `strategy-bench capacity`'s code, a short closed-loop schedule
 * load-tested for real, and the planner's prediction for the same schedule; prints the error on
 * transaction rate and response time against the 20 % target. A benchmark, not a test: timing on
 * a shared 2-core machine varies, so it prints and never fails on the figures.
 */

import { syntheticValidation, validationMarkdown } from "../../tools/planner/src/index.js";

async function main(): Promise<number> {
  const { comparison: e } = await syntheticValidation();
  process.stdout.write(`${validationMarkdown(e)}\n`);
  const ok = Math.abs(e.rateError) < 0.2 && Math.abs(e.responseTimeError) < 0.2;
  process.stdout.write(
    `planner vs synthetic server: rate error ${(e.rateError * 100).toFixed(1)} %, response-time error ${(e.responseTimeError * 100).toFixed(1)} % (target within 20 %): ${ok ? "PASS" : "FAIL"}\n`,
  );
  return 0;
}

main().then(
  (c) => process.exit(c),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
