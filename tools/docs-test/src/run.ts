/**
 * `npm run test:docs`: every fenced `sh` block of README.md and docs/*.md run as a user would type
 * it on this checkout, or skipped where its marker says why and what covers it (docs/docs-tests.md).
 *
 * Each block runs in bash (`set -e -o pipefail`) from the repository root, with HOME a scratch
 * directory (so `~/...` and `~/.curlrc` are the scratch's: curl fails on an HTTP error there). A
 * block fails when a command exits non-zero, when a file it writes (`--out`, `--markdown`, `>`,
 * or a `writes` marker) is missing afterwards, or when it leaves a tracked file changed or an
 * untracked file that is not ignored. What it wrote under runs/ is removed afterwards (`--keep`
 * keeps it). Servers it starts (`npm start`) run in their own process group and are stopped by
 * their PID when the block ends. The output names every block run and every block skipped with
 * its reason; a failure prints the block's file and line, the command's line, and its output.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  globSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Command } from "commander";
import { food11CacheDir } from "../../../lib/cache.js";
import { e2eCacheDir } from "../../../lib/e2e/cache.js";
import { collect, positive } from "../../strategy-bench/src/flags.js";
import { freePort } from "../../strategy-bench/src/net.js";
import {
  type Block,
  documentationFiles,
  extractBlocks,
  failedLine,
  MarkerError,
  prepare,
  script,
} from "./blocks.js";

const ROOT = resolve(import.meta.dirname, "../../..");
/** Where documented commands write their results (git-ignored); new entries are removed after. */
const OUTPUT_DIRS = ["runs", "render", "out"];

const out = (line = "") => process.stdout.write(`${line}\n`);

/** The first command line of a block (its marker and comment lines left out), for the summary. */
function firstCommand(b: Block): string {
  const l = b.lines.find((x) => x.trim() !== "" && !x.trim().startsWith("#")) ?? "";
  const code = l.replace(/\s+#.*$/, "").trim();
  return code.length > 70 ? `${code.slice(0, 67)}...` : code;
}

/** `git status --porcelain` lines (tracked changes and untracked, ignored left out), or undefined. */
function gitStatus(): Set<string> | undefined {
  try {
    const text = execFileSync("git", ["status", "--porcelain", "--untracked-files=all"], {
      cwd: ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    return new Set(text.split("\n").filter(Boolean));
  } catch {
    return undefined; // not a git checkout (an unpacked tarball): that check is skipped
  }
}

function outputEntries(): Set<string> {
  const s = new Set<string>();
  for (const d of OUTPUT_DIRS) {
    const dir = join(ROOT, d);
    if (existsSync(dir)) for (const e of readdirSync(dir)) s.add(join(d, e));
  }
  return s;
}

/** Stop a process group by its leader's PID: SIGTERM, then SIGKILL after `graceMs`. */
async function stopGroup(pid: number, graceMs: number): Promise<void> {
  const alive = () => {
    try {
      process.kill(-pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  try {
    process.kill(-pid, "SIGTERM");
  } catch {
    return;
  }
  const end = Date.now() + graceMs;
  while (alive() && Date.now() < end) await sleep(100);
  if (alive()) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
}

/** The environment of a block: the user's, with HOME the scratch and npm's run-script state gone. */
function blockEnv(home: string, scratch: string): NodeJS.ProcessEnv {
  const realHome = homedir();
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // `npm run test:docs` sets npm_* and INIT_CWD for its own script: a user's shell has none.
    if (k.startsWith("npm_") || k === "INIT_CWD") continue;
    env[k] = v;
  }
  return {
    ...env,
    HOME: home,
    // Caches stay the user's (the pinned Node, the e2e toolchain, npm's): what a block writes is
    // its own, what it downloads once is not.
    FOOD11_CACHE: food11CacheDir(realHome),
    FOOD11_E2E_CACHE: e2eCacheDir(realHome),
    npm_config_cache: process.env.npm_config_cache ?? join(realHome, ".npm"),
    DOCS_SCRATCH: scratch,
  };
}

interface Result {
  block: Block;
  status: "ran" | "skipped" | "failed";
  seconds?: number;
  detail: string;
}

/** Run one block; resolves with its result (never throws for the block's own failure). */
async function runBlock(
  b: Block,
  o: { scratch: string; keep: boolean; timeoutSeconds: number },
): Promise<Result> {
  const where = `${b.file}:${b.line}`;
  const dir = join(o.scratch, `${b.file.replace(/[/.]/g, "_")}-${b.line}`);
  const home = join(dir, "home");
  mkdirSync(home, { recursive: true });
  // curl as a user reads it: an HTTP error is a failure (exit 22) and its body is shown.
  writeFileSync(join(home, ".curlrc"), "fail-with-body\nshow-error\n");
  const prepared = prepare(b, { port: await freePort(), adminPort: await freePort() });
  const { text, firstBlockLine } = script(prepared);
  const scriptFile = join(dir, "block.sh");
  writeFileSync(scriptFile, text);
  const pidsFile = join(dir, "servers.pids");
  const writesFile = join(dir, "writes.txt");
  writeFileSync(pidsFile, "");
  writeFileSync(writesFile, "");
  for (const n of prepared.notes) out(`  test:docs: ${n}`);

  const gitBefore = gitStatus();
  const outputsBefore = outputEntries();
  const started = Date.now();
  // The block's output, shown as it comes (indented) and its last 400 lines kept for a failure.
  const tail: string[] = [""];
  let atLineStart = true;
  const keepTail = (chunk: Buffer) => {
    const text = chunk.toString();
    const parts = text.split("\n");
    tail[tail.length - 1] += parts[0] as string;
    tail.push(...parts.slice(1));
    if (tail.length > 400) tail.splice(0, tail.length - 400);
    let shown = "";
    for (const [i, part] of parts.entries()) {
      if (i > 0) {
        shown += "\n";
        atLineStart = true;
      }
      if (failedLine(part) !== undefined) continue; // the runner's own, not the block's
      if (part === "") {
        if (i < parts.length - 1 && atLineStart) shown += "  │";
        continue;
      }
      shown += `${atLineStart ? "  │ " : ""}${part}`;
      atLineStart = false;
    }
    process.stdout.write(shown);
  };
  const child: ChildProcess = spawn("bash", [scriptFile], {
    cwd: ROOT,
    env: { ...blockEnv(home, dir), DOCS_PIDS: pidsFile, DOCS_WRITES: writesFile },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group: whatever it leaves behind is stopped with it
  });
  child.stdout?.on("data", keepTail);
  child.stderr?.on("data", keepTail);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    if (child.pid) void stopGroup(child.pid, 5_000);
  }, o.timeoutSeconds * 1000);
  const code = await new Promise<number>((r) =>
    child.once("close", (c, sig) => r(c ?? (sig ? 128 : 1))),
  );
  clearTimeout(timer);
  if (!atLineStart) process.stdout.write("\n");
  const seconds = (Date.now() - started) / 1000;
  // Servers first (their own groups, by the PIDs the block recorded), then anything the block
  // left running in its group.
  for (const pid of readFileSync(pidsFile, "utf8").split("\n").filter(Boolean).map(Number)) {
    await stopGroup(pid, 30_000);
  }
  if (child.pid) await stopGroup(child.pid, 5_000);

  const problems: string[] = [];
  if (code !== 0 || timedOut) {
    const failed = tail.map(failedLine).find((n) => n !== undefined);
    const at = failed !== undefined ? b.line + failed - firstBlockLine : undefined;
    const cmd = at !== undefined ? (b.lines[at - b.line] ?? "").trim() : undefined;
    problems.push(
      timedOut
        ? `timed out after ${o.timeoutSeconds} s`
        : `exit ${code}${at !== undefined ? ` at ${b.file}:${at}: ${cmd}` : ""}`,
    );
  } else {
    for (const p of readFileSync(writesFile, "utf8").split("\n").filter(Boolean)) {
      const file = resolve(ROOT, p);
      if (!existsSync(file)) problems.push(`it says it writes ${p}, which is missing`);
      else if (statSync(file).mtimeMs < started) problems.push(`${p} was not written by it`);
    }
    for (const g of b.writes) {
      const fresh = globSync(g, { cwd: ROOT }).filter(
        (f) => statSync(join(ROOT, f)).mtimeMs >= started,
      );
      if (fresh.length === 0) problems.push(`it says it writes ${g}: nothing written there`);
    }
    const gitAfter = gitStatus();
    if (gitBefore && gitAfter) {
      const dirtied = [...gitAfter].filter((l) => !gitBefore.has(l));
      if (dirtied.length > 0) {
        problems.push(`it changed the checkout (git status): ${dirtied.join("; ")}`);
      }
    }
  }
  if (!o.keep) {
    for (const e of outputEntries()) {
      if (!outputsBefore.has(e)) rmSync(join(ROOT, e), { recursive: true, force: true });
    }
  }
  if (problems.length > 0) {
    const lines = tail.filter((l) => failedLine(l) === undefined);
    return {
      block: b,
      status: "failed",
      seconds,
      detail: [
        `FAIL ${where}: ${problems.join("; ")}`,
        `  its output (last ${Math.min(lines.length, 80)} lines; the block's script: ${o.keep ? scriptFile : "--keep keeps it"}):`,
        ...lines.slice(-80).map((l) => `  │ ${l}`),
      ].join("\n"),
    };
  }
  const flags = b.runWith.map((r) => `${r.flags}${r.on ? ` on ${r.on}` : ""}`).join("; ");
  return {
    block: b,
    status: "ran",
    seconds,
    detail: `${firstCommand(b)}${flags ? ` [run with ${flags}]` : ""}`,
  };
}

async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name("test:docs")
    .description(
      "Run every fenced sh block of README.md and docs/*.md as a user would, or say why it is skipped (docs/docs-tests.md).",
    )
    .option("--list", "list the blocks and what would be done with each; run nothing", false)
    .option(
      "--only <file[:line]>",
      "only this file's blocks, or the block starting at this line (repeatable)",
      collect,
    )
    .option("--keep", "keep the scratch directory and what the blocks wrote under runs/", false)
    .option("--timeout <s>", "per block", positive("timeout"), 1800)
    .parse(argv);
  const o = program.opts<{ list: boolean; only?: string[]; keep: boolean; timeout: number }>();

  let blocks: Block[] = [];
  for (const f of documentationFiles(ROOT)) {
    try {
      blocks.push(...extractBlocks(f, readFileSync(join(ROOT, f), "utf8")));
    } catch (err) {
      if (err instanceof MarkerError) {
        out(`test:docs: ${err.message}`);
        return 1;
      }
      throw err;
    }
  }
  if (o.only?.length) {
    blocks = blocks.filter((b) =>
      o.only?.some((s) => {
        const [file, line] = s.split(":");
        return b.file === file && (line === undefined || b.line === Number(line));
      }),
    );
    if (blocks.length === 0) {
      out(`test:docs: no block matches --only ${o.only.join(" ")}`);
      return 1;
    }
  }
  const toRun = blocks.filter((b) => !b.skip);
  out(
    `test:docs: ${blocks.length} sh blocks in ${new Set(blocks.map((b) => b.file)).size} files: ${toRun.length} to run, ${blocks.length - toRun.length} skipped by their markers`,
  );
  if (o.list) {
    for (const b of blocks) {
      out(
        b.skip
          ? `  skip ${b.file}:${b.line}: ${b.skip.why}; covered by ${b.skip.coveredBy}`
          : `  run  ${b.file}:${b.line}: ${firstCommand(b)}`,
      );
    }
    return 0;
  }
  const scratch = mkdtempSync(join(tmpdir(), "food11-docs-"));
  out(`test:docs: scratch (HOME of each block): ${scratch}`);
  const results: Result[] = [];
  const t0 = Date.now();
  for (const b of blocks) {
    if (b.skip) {
      results.push({
        block: b,
        status: "skipped",
        detail: `${b.skip.why}; covered by ${b.skip.coveredBy}`,
      });
      continue;
    }
    out(`\n=== ${b.file}:${b.line} (${new Date().toISOString().slice(11, 19)} UTC)`);
    const r = await runBlock(b, { scratch, keep: o.keep, timeoutSeconds: o.timeout });
    results.push(r);
    out(
      r.status === "failed" ? r.detail : `=== ok ${b.file}:${b.line} in ${r.seconds?.toFixed(1)} s`,
    );
  }
  if (!o.keep) rmSync(scratch, { recursive: true, force: true });

  out("\n=== test:docs summary");
  for (const r of results) {
    const at = `${r.block.file}:${r.block.line}`;
    if (r.status === "ran") out(`  ran     ${at} (${r.seconds?.toFixed(1)} s): ${r.detail}`);
    else if (r.status === "skipped") out(`  skipped ${at}: ${r.detail}`);
    else out(`  FAILED  ${at} (${r.seconds?.toFixed(1)} s): see above`);
  }
  const n = (s: Result["status"]) => results.filter((r) => r.status === s).length;
  out(
    `${n("ran")} ran, ${n("skipped")} skipped, ${n("failed")} failed (${((Date.now() - t0) / 1000).toFixed(0)} s)`,
  );
  if (n("failed") > 0) {
    out("");
    for (const r of results.filter((x) => x.status === "failed")) out(r.detail);
  }
  return n("failed") > 0 ? 1 : 0;
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    out(`test:docs: ${(err as Error).stack ?? String(err)}`);
    process.exitCode = 1;
  },
);
