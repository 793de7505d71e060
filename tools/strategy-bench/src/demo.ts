import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, openSync, statSync } from "node:fs";
import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { PROJECT_ROOT } from "../../../stacks/index.js";
import { MONITOR_INTERVAL } from "./cluster-scale.js";
import { runAccuracy, runEntryFiles, runLoad } from "./commands.js";
import { getStatus } from "./http.js";
import { generateRunImages } from "./imageset.js";
import { currentLoad, thisMachine } from "./machine.js";
import { localSampler } from "./monitor.js";
import { freePort } from "./net.js";
import type { Manifest } from "./report/manifest.js";
import { finishRuns } from "./report/write.js";
import { runOutDir } from "./runmeta.js";
import {
  loadStack,
  localBudget,
  localServerEnv,
  type StackSettings,
  stackConfigRows,
} from "./stack.js";

const APP_DIR = join(PROJECT_ROOT, "app");
const DEMO_MODEL = join(APP_DIR, "models", "demo");
const SERVER_ENTRY = join(APP_DIR, "dist", "server.js");

/** `demo`: the stacks, the schedule's scaling, the seed, the image set's size, where and how it tells. */
export interface DemoOptions {
  stacks: string[];
  timeScale: number;
  delayScale?: number;
  seed: number;
  perClass: number;
  interval?: number;
  out?: string;
  quiet: boolean;
  log: (line: string) => void;
  signal?: AbortSignal;
}

async function run(cmd: string, args: string[], log: (l: string) => void): Promise<void> {
  log(`$ ${cmd} ${args.join(" ")}`);
  const child = spawn(cmd, args, { cwd: PROJECT_ROOT, stdio: ["ignore", "inherit", "inherit"] });
  const code = await new Promise<number | null>((r) => child.once("exit", r));
  if (code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited with ${code}`);
}

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith(".ts")) {
      newest = Math.max(newest, statSync(join(e.parentPath, e.name)).mtimeMs);
    }
  }
  return newest;
}

/** The demo model and the built server, made if missing or stale. */
async function prepare(log: (l: string) => void): Promise<void> {
  if (!existsSync(join(DEMO_MODEL, "model.json"))) {
    await run("npm", ["--prefix", "app", "run", "model:demo"], log);
  }
  const stale =
    !existsSync(SERVER_ENTRY) ||
    statSync(SERVER_ENTRY).mtimeMs < (await newestMtime(join(APP_DIR, "src")));
  if (stale) await run("npm", ["--prefix", "app", "run", "build"], log);
}

interface RunningServer {
  child: ChildProcess;
  url: string;
  stop: () => Promise<void>;
}

/**
 * Start the built server on free loopback ports (the API and the admin listener) with the stack's
 * CPU threads and heap.
 */
async function startServer(
  env: Record<string, string>,
  logFile: string,
  signal?: AbortSignal,
): Promise<RunningServer> {
  const port = await freePort();
  const adminPort = await freePort();
  const fd = openSync(logFile, "a");
  const child = spawn(process.execPath, [SERVER_ENTRY], {
    cwd: APP_DIR,
    env: {
      ...process.env,
      ...env,
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
      HOST: "127.0.0.1",
      MODEL_DIR: DEMO_MODEL,
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", fd, fd],
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  process.once("exit", kill);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(kill, 10_000);
      await exited;
      clearTimeout(timer);
    }
    process.removeListener("exit", kill);
  };
  const url = `http://127.0.0.1:${port}`;
  // Ready when the admin listener's /readyz answers 200 (the model is loaded); give up after 5
  // minutes.
  const deadline = Date.now() + 300_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`server exited (${child.exitCode ?? child.signalCode}); see ${logFile}`);
    }
    if (signal?.aborted || Date.now() > deadline) {
      await stop();
      throw new Error(signal?.aborted ? "interrupted" : `server not ready; see ${logFile}`);
    }
    if ((await getStatus(`http://127.0.0.1:${adminPort}/readyz`, 2000)) === "200") break;
    await sleep(500);
  }
  return { child, url, stop };
}

/**
 * The whole measurement on one machine: for each stack, start the server with the stack's
 * INFERENCE_THREADS and heap, score accuracy on a generated labeled set through /predict, run
 * the shortened schedule against /test while sampling the server process, then write a report
 * comparing the stacks into runs/<timestamp>/.
 */
export async function runDemo(o: DemoOptions): Promise<string> {
  // Read every stack file first: a wrong name or a bad file stops the demo before anything is
  // built or written (the error lists the valid stacks).
  const stacks = o.stacks.map((stack) => ({ stack, settings: loadStack(stack) }));
  const outDir = runOutDir(o.out);
  await mkdir(outDir, { recursive: true });
  o.log(`output: ${outDir}`);
  await prepare(o.log);
  const imagesDir = await generateRunImages(outDir, o);
  const manifest: Manifest = {
    title: "Deployment strategies on one machine (demo)",
    demo: true,
    notes: [
      "A demo: the model is the seeded, untrained demo model and the images are generated " +
        "colour patterns, so accuracy is about chance (1/11) and says nothing about a real model. " +
        `Each stack ran as one local server process (its CPU threads and heap) under the schedule ` +
        `shortened ${o.timeScale}x, on a shared machine; no autoscaling. ` +
        "Measure a deployed stack for the real figures (docs/measuring.md).",
    ],
    runs: [],
  };
  const failures: string[] = [];
  for (const { stack, settings } of stacks) {
    if (o.signal?.aborted) break;
    try {
      manifest.runs.push(await runStack(o, stack, settings, outDir, imagesDir));
    } catch (err) {
      // One stack failing (its server would not start, say) does not lose the others' runs.
      failures.push(`${stack}: ${(err as Error).message}`);
      o.log(`[${stack}] failed: ${(err as Error).message}`);
    }
  }
  await finishRuns(manifest, outDir, failures, o.log);
  return outDir;
}

async function runStack(
  o: DemoOptions,
  stack: string,
  settings: StackSettings,
  outDir: string,
  imagesDir: string,
): Promise<Manifest["runs"][number]> {
  const dir = join(outDir, stack);
  await mkdir(dir, { recursive: true });
  const env = localServerEnv(settings);
  o.log(
    `[${stack}] starting server: INFERENCE_THREADS=${env.INFERENCE_THREADS} NODE_OPTIONS=${env.NODE_OPTIONS}`,
  );
  const machine = thisMachine();
  const server = await startServer(env, join(dir, "server.log"), o.signal);
  let backend: string | undefined;
  try {
    o.log(`[${stack}] ready at ${server.url}; scoring accuracy`);
    const acc = await runAccuracy({ images: imagesDir, url: server.url, dir, quiet: o.quiet });
    backend = acc.backend;
    const correct = Math.round(acc.metrics.accuracy * acc.metrics.samples);
    o.log(
      `[${stack}] accuracy ${correct} of ${acc.metrics.samples} ` +
        `(${(100 * acc.metrics.accuracy).toFixed(1)} %; chance for the untrained demo model: 9.1 %); load test`,
    );
    await runLoad(
      {
        url: `${server.url}/test`,
        dir,
        timeScale: o.timeScale,
        delayScale: o.delayScale,
        seed: o.seed,
        quiet: o.quiet,
        log: o.log,
        say: (line) => o.log(`[${stack}] ${line}`),
        signal: o.signal,
      },
      {
        sample: localSampler(server.child.pid as number, localBudget(settings)),
        intervalSeconds: o.interval ?? Math.max(1, MONITOR_INTERVAL * o.timeScale),
        untilPid: server.child.pid as number,
      },
    );
  } finally {
    await server.stop();
  }
  return {
    name: stack,
    stack,
    model: "demo",
    ...runEntryFiles(stack),
    config: stackConfigRows(settings),
    hpaTargetCpuUtilization: settings.autoscaling.targetCpuUtilization,
    environment: {
      machine: { ...machine, loadAfter: currentLoad() },
      ...(backend ? { backend } : {}),
      where: `one local server process (INFERENCE_THREADS=${env.INFERENCE_THREADS}, ${env.NODE_OPTIONS})`,
    },
  };
}
