// `strategy-bench accuracy --url` as a user types it: the CLI's real import graph (cli.ts through
// tsx in its own process, with @kubernetes/client-node and everything else it loads) against the
// real server (app/src/server.ts in its own process, a tiny model written here). Issue 26: with
// that graph loaded, the multipart POST was built by one undici and sent by Node's other one, and
// not one image was scored while every in-process test passed.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { writeTinyLayersModel } from "../../../app/test/fixtures/models.js";
import type { AccuracyResult } from "../src/accuracy.js";
import { fetch } from "../src/http.js";
import { generateImageSet } from "../src/imageset.js";
import { FOOD11_LABELS } from "../src/labels.js";
import { freePort } from "../src/net.js";
import { prometheusSamples, samplesOf } from "../src/prometheus.js";

const exec = promisify(execFile);
const CLI = resolve(import.meta.dirname, "../src/cli.ts");
const APP = resolve(import.meta.dirname, "../../../app");

let server: ChildProcess | undefined;
afterAll(async () => {
  if (server && server.exitCode === null) {
    server.kill("SIGTERM");
    await new Promise((r) => server?.once("exit", r));
  }
});

/**
 * The server process on free loopback ports serving `modelDir`; resolves, once its admin port's
 * /readyz is 200, with the API's URL and the admin port's (/readyz, /metrics).
 */
async function startRealServer(modelDir: string): Promise<{ url: string; admin: string }> {
  const port = await freePort();
  const adminPort = await freePort();
  let log = "";
  server = spawn(process.execPath, ["--import", "tsx", join("src", "server.ts")], {
    cwd: APP,
    env: {
      ...process.env,
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
      HOST: "127.0.0.1",
      MODEL_DIR: modelDir,
      TFJS_BACKEND: "wasm",
      INFERENCE_THREADS: "1",
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  server.stdout?.on("data", (d) => {
    log += d;
  });
  server.stderr?.on("data", (d) => {
    log += d;
  });
  const url = `http://127.0.0.1:${port}`;
  const admin = `http://127.0.0.1:${adminPort}`;
  for (let i = 0; i < 1200; i++) {
    if (server.exitCode !== null) throw new Error(`server exited ${server.exitCode}: ${log}`);
    const ready = await fetch(`${admin}/readyz`).catch(() => undefined);
    if (ready?.status === 200) return { url, admin };
    await sleep(100);
  }
  throw new Error(`server not ready: ${log}`);
}

/** POST /predict answers counted by the server (http_requests_total), by status code. */
async function predictCounts(admin: string): Promise<Record<string, string>> {
  const samples = prometheusSamples(await (await fetch(`${admin}/metrics`)).text());
  return Object.fromEntries(
    samplesOf(samples, "http_requests_total", { method: "POST", route: "/predict" }).map((s) => [
      s.labels.status_code,
      String(s.value),
    ]),
  );
}

describe("strategy-bench accuracy --url (the CLI process against the server process)", () => {
  it("scores every image through POST /predict", { timeout: 180_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "sb-cli-server-"));
    const { url, admin } = await startRealServer(await writeTinyLayersModel(join(dir, "model")));
    await generateImageSet({
      dir: join(dir, "images"),
      classes: 3,
      perClass: 2,
      size: 48,
      seed: 3,
    });
    const out = join(dir, "accuracy.json");
    const r = await exec(
      process.execPath,
      [
        "--import",
        "tsx",
        CLI,
        "accuracy",
        "--images",
        join(dir, "images"),
        "--url",
        url,
        "--out",
        out,
        "--quiet",
      ],
      { timeout: 120_000 },
    ).catch((err: { code: number; stderr: string }) => err);
    expect("stderr" in r ? r.stderr : "").toMatch(/^6 images \(0 failed\): accuracy \d of 6/m);
    const acc = JSON.parse(await readFile(out, "utf8")) as AccuracyResult;
    expect([acc.images, acc.errors, acc.metrics.samples, acc.backend]).toEqual([6, 0, 6, "wasm"]);
    for (const p of acc.predictions) {
      expect(p.error).toBeUndefined();
      expect(FOOD11_LABELS).toContain(p.predicted);
    }
    // The server saw the six uploads and answered each 200.
    expect(await predictCounts(admin)).toEqual({ "200": "6" });
  });
});
