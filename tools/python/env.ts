/**
 * The project's one Python environment (tools/python/requirements*.txt), created on first use in
 * `${FOOD11_CACHE:-~/.cache/food11}/venv-<key>` and reused after: the key hashes both requirement
 * files and the interpreter's version, so a changed pin is a new environment. Python only where
 * the ML ecosystem requires it (Keras, tf2onnx); never in the runtime image.
 *
 * Users: `npm run model:import` (tools/model-import), `npm run test:models`, `npm run bench:peer`.
 * Two processes asking at once: one creates, the other waits for it (a lock directory).
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { food11CacheDir } from "../../lib/cache.js";
import { progressBar } from "../strategy-bench/src/progress.js";

const HERE = import.meta.dirname;
export const REQUIREMENTS = path.join(HERE, "requirements.txt");
/** Installed with --no-deps (why: in the file). */
export const REQUIREMENTS_NO_DEPS = path.join(HERE, "requirements-no-deps.txt");

/** The cache root every setup step of the project shares (lib/cache.ts). */
const CACHE = food11CacheDir();

export interface PythonEnv {
  /** The environment's interpreter. */
  python: string;
  /** The environment's directory. */
  dir: string;
  /** Whether this call created it. */
  created: boolean;
  /** Seconds spent creating it (0 when it existed). */
  seconds: number;
}

/** The pinned requirement lines (name==version) of a requirements file. */
function pins(file: string): string[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}

/** The interpreter the environment is made from: FOOD11_PYTHON, else python3 (3.9 to 3.12). */
function basePython(): { exe: string; version: string } {
  const exe = process.env.FOOD11_PYTHON ?? "python3";
  const r = spawnSync(exe, ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"], {
    encoding: "utf8",
  });
  const version = r.stdout?.trim() ?? "";
  const [major, minor] = version.split(".").map(Number);
  if (r.status !== 0 || major !== 3 || (minor ?? 0) < 9 || (minor ?? 0) > 12) {
    throw new Error(
      `${exe}: Python 3.9 to 3.12 is needed (tensorflow-cpu 2.18.1 has wheels for those), found ` +
        `${version || "none"}${r.error ? ` (${r.error.message})` : ""}. Fix: install python3.11 ` +
        "(with its venv module) or point FOOD11_PYTHON at one.",
    );
  }
  return { exe, version };
}

/** The environment's directory for these pins and this interpreter version. */
function envDir(pythonVersion: string): string {
  const h = createHash("sha256");
  for (const f of [REQUIREMENTS, REQUIREMENTS_NO_DEPS]) h.update(readFileSync(f));
  h.update(pythonVersion);
  return path.join(CACHE, `venv-${h.digest("hex").slice(0, 12)}`);
}

const COMPLETE = ".complete";

/**
 * The environment, created if absent: `python -m venv`, then `pip install -r requirements.txt`
 * (a progress bar on a terminal, a line per step otherwise), then the no-deps file. A file written
 * last marks it complete: a half-made one (an interrupted install) is made again.
 */
export async function pythonEnv(
  log: (line: string) => void = (l) => console.error(l),
): Promise<PythonEnv> {
  const base = basePython();
  const dir = envDir(base.version);
  const python = path.join(dir, "bin", "python");
  if (existsSync(path.join(dir, COMPLETE))) return { python, dir, created: false, seconds: 0 };
  const release = await lock(`${dir}.lock`);
  try {
    if (existsSync(path.join(dir, COMPLETE))) return { python, dir, created: false, seconds: 0 };
    const t0 = performance.now();
    await create(base.exe, dir, log);
    return { python, dir, created: true, seconds: (performance.now() - t0) / 1000 };
  } finally {
    await release();
  }
}

async function create(exe: string, dir: string, log: (line: string) => void): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  const count = pins(REQUIREMENTS).length + pins(REQUIREMENTS_NO_DEPS).length;
  log(
    `[python-env] creating ${dir}: ${count} pinned packages from PyPI (about 0.6 GB to download, ` +
      "1.7 GB installed; a few minutes, once)",
  );
  await run(exe, ["-m", "venv", dir], log);
  const py = path.join(dir, "bin", "python");
  const common = ["-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off"];
  // tfjs-node-local.sh keeps the tensorflow-cpu wheel here: reused instead of downloaded again.
  const wheels = path.join(CACHE, "wheels");
  const findLinks = existsSync(wheels) ? ["--find-links", wheels] : [];
  const bar = progressBar(count, "[python-env] {bar} {value}/{total} {step}", false, { step: "" });
  let seen = 0;
  const onLine = (line: string) => {
    const m =
      /^(Collecting|Downloading|Installing collected packages|Successfully installed)\s*(\S*)/.exec(
        line.trim(),
      );
    if (!m?.[1]) return;
    const what = m[1];
    if (what === "Collecting") seen++;
    const step =
      what === "Collecting" ? m[2] : what === "Downloading" ? `downloading ${m[2]}` : what;
    bar.update(seen, { step: step?.slice(0, 60) ?? "" });
    // Without a terminal: a line per 10 packages and per install step, not per file.
    const every10 = what === "Collecting" && seen % 10 === 0;
    if (
      !process.stderr.isTTY &&
      (every10 || what.startsWith("Install") || what.startsWith("Succ"))
    ) {
      log(
        `[python-env] ${seen}/${count} ${what === "Successfully installed" ? "installed" : step}`,
      );
    }
  };
  try {
    await run("nice", ["-n", "10", py, ...common, ...findLinks, "-r", REQUIREMENTS], log, onLine);
    await run(
      "nice",
      ["-n", "10", py, ...common, "--no-deps", "-r", REQUIREMENTS_NO_DEPS],
      log,
      onLine,
    );
  } finally {
    bar.stop();
  }
  await writeFile(path.join(dir, COMPLETE), `${new Date().toISOString()}\n`);
  log(`[python-env] ready: ${dir}`);
}

/** Runs a command; its stdout lines go to onLine; a failure throws with the last output. */
function run(
  cmd: string,
  args: string[],
  log: (line: string) => void,
  onLine: (line: string) => void = () => {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let tail = "";
    let pending = "";
    const keep = (s: string) => {
      tail = (tail + s).slice(-4000);
    };
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      keep(s);
      pending += s;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const l of lines) onLine(l);
    });
    child.stderr.setEncoding("utf8").on("data", keep);
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve();
      else {
        log(`[python-env] ${cmd} ${args.join(" ")} failed (exit ${code})`);
        reject(
          new Error(
            `${path.basename(cmd)} ${args.slice(0, 4).join(" ")} ... exited ${code}:\n${tail}`,
          ),
        );
      }
    });
  });
}

/** A lock directory (mkdir is atomic); one older than staleMs is taken over (a crashed creator). */
async function lock(dir: string, staleMs = 30 * 60_000): Promise<() => Promise<void>> {
  await mkdir(path.dirname(dir), { recursive: true });
  for (;;) {
    try {
      await mkdir(dir);
      return () => rm(dir, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const st = await stat(dir).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > staleMs) await rm(dir, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 500));
    }
  }
}
