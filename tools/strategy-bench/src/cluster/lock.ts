/**
 * The shared machine's rules for a real-cluster run: one at a time (the whole run holds
 * $FOOD11_CLUSTER_DIR/run.lock), and none while a Go build runs.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { CLUSTER_RUN_LOCK, CLUSTER_STATE_DIR } from "../../../../lib/cluster/stack.js";

/**
 * Hold the run lock for the whole run: unless this process already holds it, wait while a Go
 * build runs (before taking the lock, so others are not blocked meanwhile; the run waits again
 * once it is held), then run this same command again under `flock` and return its exit code
 * (the caller exits with it).
 */
export async function reexecUnderLock(log: (l: string) => void): Promise<number | undefined> {
  if (process.env.FOOD11_CLUSTER_RUN_LOCKED === "1") return undefined;
  await waitForGoBuilds(log);
  await mkdir(CLUSTER_STATE_DIR, { recursive: true });
  const free = spawnSync("flock", ["-n", CLUSTER_RUN_LOCK, "true"]).status === 0;
  if (!free) log(`another real-cluster run holds ${CLUSTER_RUN_LOCK}: waiting for it`);
  const child = spawn(
    "flock",
    [CLUSTER_RUN_LOCK, process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    { stdio: "inherit", env: { ...process.env, FOOD11_CLUSTER_RUN_LOCKED: "1" } },
  );
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  const onTerm = forward("SIGTERM");
  process.on("SIGTERM", onTerm);
  // Ctrl-C reaches the child through the terminal's process group; ignore it here.
  const onInt = () => undefined;
  process.on("SIGINT", onInt);
  const code = await new Promise<number>((r) =>
    child.once("exit", (c, s) => r(c ?? (s ? 130 : 1))),
  );
  process.removeListener("SIGTERM", onTerm);
  process.removeListener("SIGINT", onInt);
  return code;
}

/** Wait while a Go build runs on the machine (the shared machine's rule); at most 90 minutes. */
export async function waitForGoBuilds(
  log: (l: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + 90 * 60_000;
  let said = false;
  for (;;) {
    const r = spawnSync("pgrep", ["-f", "go build"], { encoding: "utf8" });
    const pids = (r.stdout ?? "").trim();
    if (!pids) return;
    if (!said) {
      log(`a Go build runs (pids ${pids.split("\n").join(" ")}): waiting for it to end`);
      said = true;
    }
    if (signal?.aborted) throw new Error("interrupted while waiting for a Go build");
    if (Date.now() > deadline) throw new Error("a Go build still runs after 90 min");
    await sleep(15_000);
  }
}
