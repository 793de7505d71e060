import { execFile } from "node:child_process";
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
      const dir = await mkdtemp(join(tmpdir(), "sb-cli-"));
      const schedule = join(dir, "s.yaml");
      await writeFile(
        schedule,
        "name: tiny\nphases:\n  - { repeat: 2, users: 2, delay: 0, reps: 3 }\n",
      );
      const out = join(dir, "lt.csv");
      const r = await run([
        "loadtest",
        "--url",
        `${srv.url}/test`,
        "--schedule",
        schedule,
        "--out",
        out,
      ]);
      expect(r.code).toBe(0);
      const rows = parseLoadtestCsv(await readFile(out, "utf8"));
      expect(rows.map((x) => x.okay)).toEqual([6, 6]);
      expect(srv.requests).toHaveLength(12);
    } finally {
      await srv.close();
    }
  });
});
