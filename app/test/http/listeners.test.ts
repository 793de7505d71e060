// The two listeners over real HTTP on 127.0.0.1: the API (PORT) serves /predict, /test and the
// upload page and nothing of the admin's; the admin (ADMIN_PORT) serves /metrics, /healthz,
// /readyz and nothing of the API's; both count into one registry; closing drains the API first
// while the admin keeps answering; and the server process names ADMIN_PORT when that port is
// taken.
import { once } from "node:events";
import { createServer, type Server } from "node:net";
import type { FastifyInstance } from "fastify";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import {
  buildTestApp,
  images,
  multipart,
  type StubClassifier,
  serverProcess,
  stubClassifier,
} from "./helpers.js";

/** Both listeners on free ports of 127.0.0.1; their base URLs. */
async function listenBoth(app: FastifyInstance): Promise<{ api: string; admin: string }> {
  await app.listen({ port: 0, host: "127.0.0.1" });
  await app.admin.listen({ port: 0, host: "127.0.0.1" });
  const port = (i: FastifyInstance) => (i.server.address() as { port: number }).port;
  return { api: `http://127.0.0.1:${port(app)}`, admin: `http://127.0.0.1:${port(app.admin)}` };
}

/** The status and `code` (JSON errors) of a GET, or the connection error's code. */
async function get(url: string): Promise<{ status: number; code?: string; type: string | null }> {
  const res = await fetch(url);
  const type = res.headers.get("content-type");
  const body = await res.text();
  const code = type?.startsWith("application/json") ? JSON.parse(body).code : undefined;
  return { status: res.status, ...(code ? { code } : {}), type };
}

const refused = (url: string) =>
  fetch(url).then(
    () => "answered",
    (e: Error & { cause?: { code?: string } }) => e.cause?.code ?? e.message,
  );

describe("the API and the admin listener", () => {
  it("each serves its own routes only; both are counted in the admin's /metrics", async () => {
    const app = await buildTestApp();
    await app.modelLoaded;
    const { api, admin } = await listenBoth(app);

    expect(await get(`${api}/test`)).toMatchObject({ status: 200 });
    const jpeg = await images.jpeg();
    const form = multipart([
      { name: "file", filename: "a.jpg", contentType: "image/jpeg", data: jpeg },
    ]);
    const predict = await fetch(`${api}/predict?topk=3`, {
      method: "POST",
      headers: form.headers,
      body: new Uint8Array(form.payload),
    });
    expect(predict.status).toBe(200);
    expect(((await predict.json()) as { top: unknown[] }).top).toHaveLength(3);
    expect(await get(`${api}/`)).toEqual({ status: 200, type: "text/html; charset=utf-8" });
    for (const p of ["/metrics", "/healthz", "/readyz"]) {
      expect(await get(`${api}${p}`), `API ${p}`).toMatchObject({ status: 404, code: "not_found" });
    }

    expect(await get(`${admin}/healthz`)).toMatchObject({ status: 200 });
    expect(await get(`${admin}/readyz`)).toMatchObject({ status: 200 });
    for (const p of ["/test", "/predict", "/"]) {
      expect(await get(`${admin}${p}`), `admin ${p}`).toMatchObject({
        status: 404,
        code: "not_found",
      });
    }
    const scrape = await fetch(`${admin}/metrics`);
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusTextFormat(await scrape.text()) as {
      name: string;
      metrics: { value: string; labels: Record<string, string> }[];
    }[];
    const counts = Object.fromEntries(
      (families.find((f) => f.name === "http_requests_total")?.metrics ?? []).map((m) => [
        `${m.labels.method} ${m.labels.route} ${m.labels.status_code}`,
        Number(m.value),
      ]),
    );
    expect(counts).toEqual({
      "GET /test 200": 1,
      "POST /predict 200": 1,
      "GET / 200": 1,
      "GET unmatched 404": 6, // 3 admin paths on the API, 3 API paths on the admin
      "GET /healthz 200": 1,
      "GET /readyz 200": 1,
    });
    await app.close();
  });

  it("close(): the API stops accepting and drains while the admin answers /readyz 503; then the admin closes", async () => {
    const stub: StubClassifier = stubClassifier();
    const app = await buildTestApp({ classifier: stub });
    await app.modelLoaded;
    const { api, admin } = await listenBoth(app);

    let release!: () => void;
    stub.gate = new Promise((r) => {
      release = r;
    });
    const calls = stub.calls;
    const inFlight = fetch(`${api}/test?topk=1`).then((r) => r.status);
    while (stub.calls === calls) await new Promise((r) => setTimeout(r, 10));

    app.model.draining = true; // what SIGTERM does first (server.ts)
    const closed = app.close();
    // The API's listener no longer accepts; the request in flight is still being served.
    await expect
      .poll(() => refused(`${api}/test`), { timeout: 30_000, interval: 50 })
      .toBe("ECONNREFUSED");
    const ready = await fetch(`${admin}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.headers.get("connection")).toBe("close");
    expect(await ready.json()).toEqual({ status: "draining" });
    expect((await fetch(`${admin}/metrics`)).status).toBe(200);

    release();
    expect(await inFlight).toBe(200);
    await closed;
    expect(await refused(`${admin}/healthz`)).toBe("ECONNREFUSED");
  });

  it("UPLOAD_PAGE false (food11:uploadPage false): GET / is 404 on the API, which serves on", async () => {
    const app = await buildTestApp({ uploadPage: false });
    await app.modelLoaded;
    const { api } = await listenBoth(app);
    expect(await get(`${api}/`)).toMatchObject({ status: 404, code: "not_found" });
    expect(await get(`${api}/test`)).toMatchObject({ status: 200 });
    await app.close();
  });
});

describe("the server process", () => {
  it("ADMIN_PORT in use: one line naming ADMIN_PORT and the fix, exit 1", {
    timeout: 60_000,
  }, async () => {
    const taken: Server = createServer().listen(0, "127.0.0.1");
    await once(taken, "listening");
    const adminPort = (taken.address() as { port: number }).port;
    try {
      const { exited, output } = await serverProcess({
        ADMIN_PORT: String(adminPort),
        INFERENCE_THREADS: "1",
        LOG_LEVEL: "warn",
      });
      const [code] = await exited;
      expect(code).toBe(1);
      expect(output().trim().split("\n")).toContain(
        `ADMIN_PORT ${adminPort} is already in use on 127.0.0.1: stop what listens there, or choose another port with ADMIN_PORT=<port>`,
      );
    } finally {
      taken.close();
    }
  });
});
