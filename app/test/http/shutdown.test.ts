// SIGTERM drain on the real server process (src/server.ts through tsx, the demo model, free
// ports on 127.0.0.1 for the API and the admin listener): requests in flight when the signal
// arrives all complete 200, /readyz (admin) turns 503 at once and keeps answering while the API
// drains, and the process exits 0 within the grace period.
import type { ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { request } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterAll, describe, expect, it } from "vitest";
import { serverProcess } from "./helpers.js";

const APP_DIR = fileURLToPath(new URL("../..", import.meta.url));
let child: ChildProcess | undefined;

afterAll(() => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
});

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 90_000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** POST /predict with a raw JPEG body of which only the first half is sent until finish(). */
function heldUpload(port: number, jpeg: Buffer) {
  let finish!: () => void;
  const response = new Promise<{ status: number; body: { top: unknown[] } }>((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/predict?topk=1",
        headers: {
          "content-type": "image/jpeg",
          "content-length": jpeg.length,
          connection: "close",
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => {
          text += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    const half = Math.floor(jpeg.length / 2);
    req.write(jpeg.subarray(0, half));
    finish = () => req.end(jpeg.subarray(half));
  });
  return { response, finish: () => finish() };
}

describe("graceful shutdown", () => {
  it("SIGTERM: readiness 503 at once, in-flight requests finish 200, exit 0", {
    timeout: 150_000,
  }, async () => {
    const server = await serverProcess({
      INFERENCE_THREADS: "1",
      QUEUE_MAX: "64",
      SHUTDOWN_DELAY_SECONDS: "1",
      SHUTDOWN_GRACE_SECONDS: "60",
      LOG_LEVEL: "info",
    });
    const { port, base, admin, exited, output } = server;
    child = server.child;

    await until("readiness", async () =>
      (await fetch(`${admin}/readyz`)).status === 200 ? true : undefined,
    );

    // In flight, deterministically: N uploads whose headers and first half are sent, the rest
    // held back until after SIGTERM; plus M /test requests racing the signal.
    const jpeg = await readFile(path.join(APP_DIR, "assets", "test.jpg"));
    const N = 4;
    const M = 6;
    const uploads = Array.from({ length: N }, () => heldUpload(port, jpeg));
    await until("uploads in flight", async () => {
      const text = await (await fetch(`${admin}/metrics`)).text();
      const gauge = (
        parsePrometheusTextFormat(text) as { name: string; metrics: { value: string }[] }[]
      ).find((f) => f.name === "http_requests_in_flight");
      // the held uploads plus the scrape itself
      return Number(gauge?.metrics[0]?.value) >= N + 1 ? true : undefined;
    });
    const racing = Array.from({ length: M }, () =>
      fetch(`${base}/test?topk=1`).then(async (r) => ({ status: r.status, body: await r.json() })),
    );

    child.kill("SIGTERM");
    // the signal is handled between two event-loop turns: ask once the server says so (it keeps
    // listening SHUTDOWN_DELAY_SECONDS more, as a pod does while endpoints update)
    await until("the draining log line", async () =>
      output().includes('"msg":"draining: readiness is now false"') ? true : undefined,
    );
    const ready = await fetch(`${admin}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: "draining" });
    await until("the closing log line", async () =>
      output().includes('"msg":"closing: no new connections, waiting for in-flight requests"')
        ? true
        : undefined,
    );
    // the API's listener is closed, the held uploads are still being served, and the admin
    // listener still answers the probes (it closes after the API has drained)
    expect(
      await fetch(`${base}/test`).then(
        () => "answered",
        (e: Error & { cause?: { code?: string } }) => e.cause?.code,
      ),
    ).toBe("ECONNREFUSED");
    const stillDraining = await fetch(`${admin}/readyz`);
    expect(stillDraining.status).toBe(503);
    expect(await stillDraining.json()).toEqual({ status: "draining" });
    // finish the held uploads
    for (const u of uploads) u.finish();
    const done = await Promise.all(uploads.map((u) => u.response));
    expect(done.map((r) => r.status)).toEqual(Array(N).fill(200));
    for (const r of done) expect(r.body.top).toHaveLength(1);
    const raced = await Promise.all(racing);
    expect(raced.map((r) => r.status)).toEqual(Array(M).fill(200));

    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    const lines = output()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { msg: string; statusCode?: number; route?: string });
    const msgs = lines.map((l) => l.msg);
    expect(msgs).toContain("model loaded and warmed up: ready");
    expect(msgs).toContain("draining: readiness is now false");
    expect(msgs.at(-1)).toBe("drained: bye");
    expect(lines.filter((l) => l.route === "/predict" && l.statusCode === 200)).toHaveLength(N);
    expect(lines.filter((l) => l.route === "/test" && l.statusCode === 200)).toHaveLength(M);
  });
});
