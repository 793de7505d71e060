/**
 * The machine a benchmark ran on, as its report names it: the load average (bench:peer and
 * bench:engines print it before and after a run, the machine being shared), cores, memory.
 */
import os from "node:os";

/** The 1, 5 and 15 minute load averages, two decimals each ("1.03 1.53 1.66"). */
export function loadavg(): string {
  return os
    .loadavg()
    .map((v) => v.toFixed(2))
    .join(" ");
}

/** bench:peer's machine line: cores, CPU model, memory, the load before and now. */
export function machine(loadBefore: string) {
  return {
    nproc: os.availableParallelism(),
    // libuv reads /proc/cpuinfo's `model name`
    cpu: os.cpus()[0]?.model ?? "unknown",
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    loadBefore,
    loadAfter: loadavg(),
  };
}
