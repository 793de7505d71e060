import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parseLoadtestCsv } from "../src/csv.js";
import { startServer } from "./helpers.js";

const exec = promisify(execFile);
const cli = resolve(import.meta.dirname, "../src/cli.ts");

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, ["--import", "tsx", cli, ...args], { timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/**
 * `strategy-bench loadtest --url <url>` on a one-line YAML schedule (`phases` its entry) in a new
 * folder, the CSV at `csv` under it; returns the CLI's result and the folder.
 */
async function loadtest(url: string, phases: string, csv: string) {
  const dir = await mkdtemp(join(tmpdir(), "sb-cli-"));
  const schedule = join(dir, "s.yaml");
  await writeFile(schedule, `name: tiny\nphases:\n  - ${phases}\n`);
  const out = join(dir, csv);
  const r = await run(["loadtest", "--url", url, "--schedule", schedule, "--out", out]);
  return { r, dir, out };
}

describe("strategy-bench CLI", () => {
  it("has --help for every subcommand", async () => {
    const subs = ["loadtest", "monitor", "accuracy", "report", "demo", "make-images"];
    const results = await Promise.all(subs.map((sub) => run([sub, "--help"])));
    subs.forEach((sub, i) => {
      expect(results[i]?.code).toBe(0);
      expect(results[i]?.stdout).toContain(`Usage: strategy-bench ${sub} [options]`);
    });
  });

  it("refuses a non-loopback target without --allow-remote and sends nothing", async () => {
    const r = await run(["loadtest", "--url", "http://192.0.2.1/test", "--quiet"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("refusing to send traffic to 192.0.2.1");
  });

  it("runs a YAML schedule against a loopback server and writes the CSV", async () => {
    const srv = await startServer((_n, _req, res) => res.end("ok"));
    try {
      const { r, out } = await loadtest(
        `${srv.url}/test`,
        "{ repeat: 2, users: 2, delay: 0, reps: 3 }",
        "lt.csv",
      );
      expect(r.code).toBe(0);
      const rows = parseLoadtestCsv(await readFile(out, "utf8"));
      expect(rows.map((x) => x.okay)).toEqual([6, 6]);
      expect(srv.requests).toHaveLength(12);
    } finally {
      await srv.close();
    }
  });

  it("exits non-zero with a clear line when the URL answers 404, and keeps the CSV", async () => {
    const srv = await startServer((_n, _req, res) => {
      res.statusCode = 404;
      res.end("not found");
    });
    try {
      const { r, dir, out } = await loadtest(
        `${srv.url}/nope`,
        "{ repeat: 2, users: 2, delay: 0, reps: 2 }",
        join("new", "lt.csv"),
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("phase 1 (c2 d0): 404: 4");
      expect(r.stderr).toContain("status codes: 404: 8");
      expect(r.stderr).toContain(
        `strategy-bench: most requests failed: 0 of 8 succeeded against ${srv.url}/nope (404: 8); ` +
          "most answers are 4xx: check the URL's path (/nope)",
      );
      expect(parseLoadtestCsv(await readFile(out, "utf8")).map((x) => x.statusCodes)).toEqual([
        { "404": 4 },
        { "404": 4 },
      ]);
      const meta = JSON.parse(await readFile(join(dir, "new", "lt.meta.json"), "utf8"));
      expect(meta.statusCodes).toEqual({ "404": 8 });
      expect(meta.fullLength).toBe(false);
    } finally {
      await srv.close();
    }
  });

  it("makes $URL/test with $URL ending in / hit /test, not //test", async () => {
    const srv = await startServer((_n, req, res) => {
      res.statusCode = req.url === "/test" ? 200 : 404;
      res.end("ok");
    });
    try {
      const URL = `${srv.url}/`;
      const { r } = await loadtest(`${URL}/test`, "{ users: 1, delay: 0, reps: 3 }", "lt.csv");
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(
        `note: --url ${srv.url}//test has a doubled slash; using ${srv.url}/test`,
      );
      expect(srv.requests).toEqual(["GET /test", "GET /test", "GET /test"]);
    } finally {
      await srv.close();
    }
  });

  it("names a bad value and the fix: --url, --images, demo --stack (which writes nothing)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sb-cli-"));
    const out = join(dir, "demo-out");
    const [url, images, demo] = await Promise.all([
      run(["loadtest", "--url", "notaurl", "--quiet"]),
      run([
        "accuracy",
        "--images",
        join(dir, "missing"),
        "--url",
        "http://127.0.0.1:9/",
        "--quiet",
      ]),
      run(["demo", "--stack", "nosuch", "--out", out]),
    ]);
    expect(url.code).toBe(1);
    expect(url.stderr).toContain(
      '--url "notaurl" is not a URL: give a full one, e.g. http://127.0.0.1:8080/test',
    );
    expect(images.code).toBe(1);
    expect(images.stderr).toContain(`--images ${join(dir, "missing")}: no such folder`);
    expect(images.stderr).toContain("strategy-bench make-images --out <dir>");
    expect(demo.code).toBe(1);
    expect(demo.stderr).toContain('--stack "nosuch": no stack file');
    expect(demo.stderr).toContain("valid stacks: baseline, strategy1, strategy2");
    expect(existsSync(out)).toBe(false);
  });

  it("run asks for no flag its help calls the only mode; capacity's default is the list it takes", async () => {
    const [bare, help, capacity] = await Promise.all([
      run(["run"]),
      run(["run", "--help"]),
      run(["capacity", "--help"]),
    ]);
    // The first thing `run` needs is a stack, not --cluster (real pods are its only mode).
    expect(bare.code).toBe(1);
    expect(bare.stderr).toBe(
      "strategy-bench: give --stack <name> (repeatable): baseline, strategy1, strategy2\n",
    );
    expect(help.stdout).not.toContain("--cluster");
    expect(capacity.stdout).toMatch(
      /--concurrency <list>\s+levels, comma-separated \(default: 1,2,4,8,16,20,30\)/,
    );
  });

  it("monitor makes a missing output folder and names the stack it watches", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sb-cli-"));
    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 20000)"], {
      stdio: "ignore",
    });
    try {
      const out = join(dir, "runs", "s1", "monitor.csv");
      const r = await run([
        "monitor",
        "--stack",
        "strategy2",
        "--local-pid",
        String(child.pid),
        "--interval",
        "0.2",
        "--duration",
        "0.5",
        "--out",
        out,
      ]);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(
        `monitoring stack strategy2: local process ${child.pid} as one replica of it`,
      );
      const lines = (await readFile(out, "utf8")).trim().split("\n");
      expect(lines[0]).toBe(
        "time,replicas,cpu_requested,mem_requested_kb,cpu_limit,mem_limit_kb,cpu_used,mem_used_kb",
      );
      // strategy2: requests.memory 4.5Gi = 4,718,592 KB, limits.cpu 2.
      expect(lines[1]?.split(",").slice(1, 5)).toEqual(["1", "1", "4718592", "2"]);
      const bad = await run(["monitor", "--stack", "nosuch", "--duration", "1"]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain(
        '--stack "nosuch": not a stack of this project (valid: baseline, strategy1, strategy2)',
      );
    } finally {
      child.kill();
    }
  });
});
