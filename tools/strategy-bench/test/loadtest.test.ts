import { describe, expect, it } from "vitest";
import { loadtestRows, parseLoadtestCsv } from "../src/csv.js";
import { formatStatusCodes, loadtestProblem, runLoadtest } from "../src/loadtest.js";
import { checkTarget, isLoopbackHost, normalizeUrlPath, RemoteTargetError } from "../src/safety.js";
import type { Schedule } from "../src/schedule.js";
import { closedPort, serversClosedAfterEach, type TestServer } from "./helpers.js";

const serve = serversClosedAfterEach();
/** runLoadtest on the server's /test with a schedule of these phases. */
const loadPhases = (srv: TestServer, seed: number, phases: Schedule["phases"]) =>
  runLoadtest({ url: new URL(`${srv.url}/test`), schedule: { name: "t", phases }, seed });

describe("loadtest", () => {
  it("counts transactions, OKAY and failed exactly as siege does", async () => {
    // Request n: every 5th has its socket destroyed (a socket failure), every other 4th gets a 500.
    const srv = await serve((n, req, res) => {
      if (n % 5 === 0) {
        req.socket.destroy();
        return;
      }
      res.statusCode = n % 4 === 0 ? 500 : 200;
      res.end("0123456789");
    });
    const result = await runLoadtest({
      url: checkTarget(`${srv.url}/test?x=1`, false),
      schedule: {
        name: "t",
        phases: [{ users: 2, delaySeconds: 0, durationSeconds: 60, reps: 10 }],
      },
      seed: 1,
      failurePauseSeconds: 0,
    });
    // 20 attempts: 5,10,15,20 destroyed (4); 4,8,12,16 answered 500 (4); 12 answered 200.
    const p = result.phases[0];
    expect(p?.transactions).toBe(16);
    expect(p?.okay).toBe(12);
    expect(p?.failed).toBe(8);
    expect(p?.socketFailures).toBe(4);
    expect(p?.availability).toBe(80);
    expect(p?.bytes).toBe(160);
    expect(p?.statusCodes).toEqual({ "200": 12, "500": 4 });
    expect(result.overall.statusCodes).toEqual({ "200": 12, "500": 4 });
    expect(formatStatusCodes(result.overall.statusCodes, 4)).toBe(
      "200: 12, 500: 4, socket failures: 4",
    );
    // 12 of 20 succeeded: a majority, so the run is not flagged.
    expect(loadtestProblem(result)).toBeUndefined();
    expect(result.overall.transactions).toBe(16);
    expect(result.overall.okay).toBe(12);
    // Only the URL it was given.
    expect(srv.requests).toHaveLength(20);
    expect(new Set(srv.requests)).toEqual(new Set(["GET /test?x=1"]));
  });

  it("runs several phases, stops by itself and writes siege's columns", async () => {
    const srv = await serve((_n, _req, res) => res.end("ok"));
    const result = await loadPhases(srv, 7, [
      { users: 3, delaySeconds: 0, durationSeconds: 30, reps: 2 },
      { users: 1, delaySeconds: 0.01, durationSeconds: 0.3 },
    ]);
    expect(result.phases).toHaveLength(2);
    expect(result.phases[0]?.okay).toBe(6);
    expect(result.phases[1]?.transactions).toBeGreaterThan(0);
    expect(result.phases[1]?.failed).toBe(0);
    expect(result.overall.okay).toBe(6 + (result.phases[1]?.okay ?? 0));
    const csv = loadtestRows([...result.phases, result.overall]);
    expect(csv.split("\n")[0]).toBe(
      "date,transactions,elapsed_time,data_transferred,response_time,transaction_rate,throughput," +
        "concurrency,okay,failed,phase,users,delay,availability,response_time_p50," +
        "response_time_p95,response_time_p99,bytes,throughput_bytes,socket_failures,status_codes",
    );
    const back = parseLoadtestCsv(csv);
    expect(back.map((r) => r.okay)).toEqual(result.phases.map((p) => p.okay));
  });

  it("waits for requests in flight at the end of a phase, or aborts them uncounted", async () => {
    // The server answers after 400 ms; the phase lasts 50 ms: one request per user is in flight.
    const srv = await serve((_n, _req, res) => {
      setTimeout(() => res.end("late"), 400);
    });
    const schedule = {
      name: "t",
      phases: [{ users: 2, delaySeconds: 0, durationSeconds: 0.05 }],
    };
    const drained = await runLoadtest({ url: new URL(`${srv.url}/test`), schedule, seed: 1 });
    expect(drained.overall.transactions).toBe(2);
    expect(drained.overall.okay).toBe(2);
    expect(drained.overall.elapsedSeconds).toBeGreaterThan(0.05);
    const aborted = await runLoadtest({
      url: new URL(`${srv.url}/test`),
      schedule,
      seed: 1,
      inFlight: "abort",
    });
    expect(aborted.overall.transactions).toBe(0);
    expect(aborted.overall.failed).toBe(0);
    expect(aborted.overall.elapsedSeconds).toBeLessThanOrEqual(0.05);
  });

  it("turns a closed port into failed transactions, not a crash", async () => {
    const port = await closedPort();
    const result = await runLoadtest({
      url: new URL(`http://127.0.0.1:${port}/test`),
      schedule: {
        name: "t",
        phases: [{ users: 2, delaySeconds: 0, durationSeconds: 30, reps: 3 }],
      },
      seed: 1,
      failurePauseSeconds: 0,
    });
    expect(result.overall.transactions).toBe(0);
    expect(result.overall.okay).toBe(0);
    expect(result.overall.failed).toBe(6);
    expect(result.overall.availability).toBe(0);
  });

  it("counts a server that never answers as failed (timeout) and still stops", async () => {
    const srv = await serve(() => undefined); // accepts, never responds
    const result = await runLoadtest({
      url: new URL(`${srv.url}/test`),
      schedule: { name: "t", phases: [{ users: 2, delaySeconds: 0, durationSeconds: 0.1 }] },
      seed: 1,
      timeoutSeconds: 0.3,
      failurePauseSeconds: 0,
    });
    expect(result.overall.transactions).toBe(0);
    expect(result.overall.failed).toBe(2);
    expect(result.overall.socketFailures).toBe(2);
  });

  it("refuses non-loopback targets unless allowed", () => {
    expect(() => checkTarget("http://10.1.2.3/test", false)).toThrow(RemoteTargetError);
    expect(() => checkTarget("http://example.com/test", false)).toThrow(RemoteTargetError);
    expect(() => checkTarget("http://[fe80::1]/test", false)).toThrow(RemoteTargetError);
    expect(() => checkTarget("ftp://127.0.0.1/x", true)).toThrow(/http/);
    expect(checkTarget("http://example.com/test", true).hostname).toBe("example.com");
    for (const h of ["127.0.0.1", "127.9.8.7", "localhost", "[::1]", "::ffff:127.0.0.1"]) {
      expect(isLoopbackHost(h)).toBe(true);
    }
    for (const h of ["128.0.0.1", "0.0.0.0", "192.168.1.1", "localhost.example.com"]) {
      expect(isLoopbackHost(h)).toBe(false);
    }
  });

  it("breaks status codes down per phase and flags a run whose answers are mostly 404", async () => {
    // Phase 1: every request answers 404 (a wrong path); phase 2: 3 of 4 answer 200.
    const srv = await serve((n, req, res) => {
      res.statusCode = req.url === "/test" && n > 6 && n % 4 !== 3 ? 200 : 404;
      res.end("x");
    });
    const result = await loadPhases(srv, 1, [
      { users: 2, delaySeconds: 0, durationSeconds: 30, reps: 3 },
      { users: 2, delaySeconds: 0, durationSeconds: 30, reps: 2 },
    ]);
    expect(result.phases[0]?.statusCodes).toEqual({ "404": 6 });
    expect(result.phases[1]?.statusCodes).toEqual({ "200": 3, "404": 1 });
    expect(result.overall.statusCodes).toEqual({ "200": 3, "404": 7 });
    expect(result.overall.availability).toBe(100); // siege's availability does not see 404s
    expect(loadtestProblem(result)).toBe(
      `most requests failed: 3 of 10 succeeded against ${srv.url}/test (200: 3, 404: 7); ` +
        "most answers are 4xx: check the URL's path (/test); the server's test route is /test",
    );
  });

  it("makes a doubled slash in the path one, and leaves a clean URL alone", () => {
    const { url, changed } = normalizeUrlPath(new URL("http://10.0.0.1/food11//test?x=1"));
    expect(changed).toBe(true);
    expect(url.href).toBe("http://10.0.0.1/food11/test?x=1");
    const clean = new URL("http://127.0.0.1:8080/test");
    expect(normalizeUrlPath(clean)).toEqual({ url: clean, changed: false });
  });

  it("names a value that is not a URL and shows a fix", () => {
    expect(() => checkTarget("notaurl", false)).toThrow(
      '--url "notaurl" is not a URL: give a full one, e.g. http://127.0.0.1:8080/test',
    );
  });
});
