/**
 * The machine a benchmark ran on, in bench:peer's report shape (strategy-bench's `thisMachine`
 * read as cores, CPU model, GiB), and the load average as benchmarks print it (bench:peer and
 * bench:engines, before and after a run, the machine being shared).
 */
import { currentLoad, thisMachine } from "../tools/strategy-bench/src/machine.js";

/** The 1, 5 and 15 minute load averages, two decimals each ("1.03 1.53 1.66"). */
export function loadavg(): string {
  return currentLoad()
    .map((v) => v.toFixed(2))
    .join(" ");
}

/** bench:peer's machine line: cores, CPU model, memory, the load before and now. */
export function machine(loadBefore: string) {
  const m = thisMachine();
  return {
    nproc: m.cores,
    cpu: m.cpuModel ?? "unknown",
    memGiB: Math.round(m.memoryBytes / 2 ** 30),
    loadBefore,
    loadAfter: loadavg(),
  };
}
