import { availableParallelism, cpus, hostname, loadavg, totalmem } from "node:os";
import { z } from "zod";

/** The machine a measurement ran on, as the report states it. */
export const machineSchema = z
  .object({
    hostname: z.string().optional(),
    /** Cores this process may use (os.availableParallelism). */
    cores: z.number().int().positive(),
    cpuModel: z.string().optional(),
    memoryBytes: z.number().positive(),
    /** 1, 5 and 15-minute load averages when the measurement started / ended. */
    loadBefore: z.array(z.number()).length(3).optional(),
    loadAfter: z.array(z.number()).length(3).optional(),
  })
  .strict();

export type Machine = z.output<typeof machineSchema>;

/** This machine now; `loadAfter` is the caller's to add when the measurement ends. */
export function thisMachine(): Machine {
  const model = cpus()[0]?.model?.trim();
  return {
    hostname: hostname(),
    cores: availableParallelism(),
    ...(model ? { cpuModel: model } : {}),
    memoryBytes: totalmem(),
    loadBefore: currentLoad(),
  };
}

export function currentLoad(): number[] {
  return loadavg().map((l) => Number(l.toFixed(2)));
}
