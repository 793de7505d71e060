/**
 * The planner's users-and-queue model against a measured run, as figures (npm run bench:planner):
 * a synthetic two-engine server on 127.0.0.1 (each request holds an engine for 10 ms), its
 * capacity profile measured by `strategy-bench capacity`'s code, a short closed-loop schedule
 * load-tested for real, and the planner's prediction for the same schedule; prints the error on
 * transaction rate and response time against the 20 % target. A benchmark, not a test: timing on
 * a shared 2-core machine varies, so it prints and never fails on the figures.
 */
import { runLoadtest } from "../../tools/strategy-bench/src/loadtest.js";
import { localProbe, measureCapacity } from "../../tools/strategy-bench/src/plan/capacity.js";
import { parseNodes } from "../../tools/strategy-bench/src/plan/cluster.js";
import { simulatePlan } from "../../tools/strategy-bench/src/plan/simulate.js";
import {
  comparePlanToRun,
  validationMarkdown,
} from "../../tools/strategy-bench/src/plan/validate.js";
import type { Schedule } from "../../tools/strategy-bench/src/schedule.js";
import { loadStack } from "../../tools/strategy-bench/src/stack.js";
import { startServer, type TestServer } from "../../tools/strategy-bench/test/helpers.js";

/** A server with two "engines": each request holds one for 10 ms, the others wait in a FIFO. */
async function twoEngineServer(): Promise<TestServer> {
  let free = 2;
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else free++;
  };
  return startServer((_n, _req, res) => {
    const serve = () =>
      setTimeout(() => {
        res.end('{"ok":true}');
        release();
      }, 10);
    if (free > 0) {
      free--;
      serve();
    } else waiting.push(serve);
  });
}

async function main(): Promise<number> {
  const srv = await twoEngineServer();
  const profile = await measureCapacity({
    probe: localProbe(srv.url, process.pid),
    cpuLimitCores: 2,
    concurrency: [1, 2, 4, 8, 16],
    levelSeconds: 0.6,
    warmupSeconds: 0.2,
    idleSeconds: 0.1,
  });
  const schedule: Schedule = {
    name: "short",
    phases: [
      { users: 6, delaySeconds: 0.04, durationSeconds: 2 },
      { users: 12, delaySeconds: 0.02, durationSeconds: 2 },
      { users: 3, delaySeconds: 0.1, durationSeconds: 2 },
    ],
  };
  const measured = await runLoadtest({ url: new URL("/test", srv.url), schedule, seed: 1 });
  // One 2Gi replica fits on the 3Gi node, so the HPA's extra pods stay Pending: one replica,
  // with the node's 8 CPUs leaving it its full 2-CPU limit, as the profile was measured.
  const predicted = simulatePlan({
    stack: loadStack("baseline"),
    schedule,
    profiles: [profile],
    cluster: parseNodes(["1x8cpu,3Gi"]),
    seed: 1,
  });
  const e = comparePlanToRun(predicted, {
    loadtest: measured.phases.map((p) => ({
      phase: String(p.phase),
      transactions: p.transactions,
      elapsedSeconds: p.elapsedSeconds,
      responseTime: p.responseTime,
      okay: p.okay,
      failed: p.failed,
      socketFailures: p.socketFailures,
    })),
  });
  await srv.close();
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
