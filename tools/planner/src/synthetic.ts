/**
 * The planner against a real closed-loop run on a synthetic server, shared by its test
 * (test/plan/validate.test.ts: the comparison's shape) and `npm run bench:planner` (its figures):
 * a two-engine server on 127.0.0.1, its capacity profile measured with `capacity`'s code, a short
 * schedule load-tested for real and predicted by the planner for one replica.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Schedule } from "../../strategy-bench/src/index.js";
import { loadStack, runLoadtest } from "../../strategy-bench/src/index.js";
import { localProbe, measureCapacity } from "./capacity.js";
import { parseNodes } from "./cluster.js";
import { loadtestRow, simulatePlan } from "./simulate.js";
import { comparePlanToRun } from "./validate.js";

/**
 * A server on a free 127.0.0.1 port with two "engines": each request holds one for 10 ms, the
 * others wait in a FIFO.
 */
async function twoEngineServer(): Promise<{ url: string; close: () => Promise<void> }> {
  let free = 2;
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else free++;
  };
  const server = createServer((_req, res) => {
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
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Measure, load, predict and compare; the server is closed before it returns. */
export async function syntheticValidation() {
  const srv = await twoEngineServer();
  try {
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
      loadtest: measured.phases.map(loadtestRow),
    });
    return { predicted, measured, comparison: e };
  } finally {
    await srv.close();
  }
}
