/** Where and how a report's figures were made, as its HTML page states them last. */
import { thisMachine } from "../machine.js";

/** An argument as a POSIX shell would need it typed (quoted only when it must be). */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}

/**
 * The command as the user typed it after `npm run strategy-bench --` (or `npx tsx cli.ts`):
 * `strategy-bench <argv after the script>`.
 */
export function commandLine(argv: readonly string[] = process.argv): string {
  return ["strategy-bench", ...argv.slice(2).map(shellQuote)].join(" ");
}

/** This machine, its CPU, the command and the date (UTC), as label/value pairs. */
export function runConditions(command: string = commandLine()): [string, string][] {
  const m = thisMachine();
  const gib = (m.memoryBytes / 1024 ** 3).toFixed(1);
  return [
    [
      "machine",
      `${m.hostname ?? "not recorded"} (where this was written): ${m.cores} cores, ${gib} GiB of memory`,
    ],
    ["CPU", m.cpuModel ?? "not recorded"],
    ["load average (1 / 5 / 15 min)", (m.loadBefore ?? []).join(" / ") || "not recorded"],
    ["command", command],
    ["date", new Date().toISOString()],
  ];
}
