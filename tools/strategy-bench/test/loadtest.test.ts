import { afterEach, describe, expect, it } from "vitest";
import { loadtestRows, parseLoadtestCsv } from "../src/csv.js";
import { runLoadtest } from "../src/loadtest.js";
import { checkTarget, isLoopbackHost, RemoteTargetError } from "../src/safety.js";
import { closedPort, startServer, type TestServer } from "./helpers.js";

let srv: TestServer | undefined;
afterEach(async () => {
  await srv?.close();
  srv = undefined;
});

describe("loadtest", () => {
  it("counts transactions, OKAY and failed exactly as siege does", async () => {
    // Request n: every 5th has its socket destroyed (a socket failure), every other 4th gets a 500.
    srv = await startServer((n, req, res) => {
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
    expect(result.overall.transactions).toBe(16);
    expect(result.overall.okay).toBe(12);
    // Only the URL it was given.
    expect(srv.requests).toHaveLength(20);
    expect(new Set(srv.requests)).toEqual(new Set(["GET /test?x=1"]));
  });

  it("runs several phases, stops by itself and writes siege's columns", async () => {
    srv = await startServer((_n, _req, res) => res.end("ok"));
    const result = await runLoadtest({
      url: new URL(`${srv.url}/test`),
      schedule: {
        name: "t",
        phases: [
          { users: 3, delaySeconds: 0, durationSeconds: 30, reps: 2 },
          { users: 1, delaySeconds: 0.01, durationSeconds: 0.3 },
        ],
      },
      seed: 7,
    });
    expect(result.phases).toHaveLength(2);
    expect(result.phases[0]?.okay).toBe(6);
    expect(result.phases[1]?.transactions).toBeGreaterThan(0);
    expect(result.phases[1]?.failed).toBe(0);
    expect(result.overall.okay).toBe(6 + (result.phases[1]?.okay ?? 0));
    const csv = loadtestRows([...result.phases, result.overall]);
    expect(csv.split("\n")[0]).toBe(
      "date,transactions,elapsed_time,data_transferred,response_time,transaction_rate,throughput," +
        "concurrency,okay,failed,phase,users,delay,availability,response_time_p50," +
        "response_time_p95,response_time_p99,bytes,throughput_bytes,socket_failures",
    );
    const back = parseLoadtestCsv(csv);
    expect(back.map((r) => r.okay)).toEqual(result.phases.map((p) => p.okay));
  });

  it("waits for requests in flight at the end of a phase, or aborts them uncounted", async () => {
    // The server answers after 400 ms; the phase lasts 50 ms: one request per user is in flight.
    srv = await startServer((_n, _req, res) => {
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
    srv = await startServer(() => undefined); // accepts, never responds
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
});
