/**
 * A finished run as the report's manifest lists it: its files, the stack's config as deployed
 * (with what the time scaling and the node make of it), each step's wall time, where it ran.
 */
import { stackFit } from "../cluster-scale.js";
import { RUN_FILES, runEntryFiles } from "../commands.js";
import { currentLoad, type Machine } from "../machine.js";
import { stackConfigRows } from "../stack.js";
import type { RunEntry, StackRun } from "./context.js";

export function runEntry(
  { ctx, stack, name, settings }: StackRun,
  r: {
    /** The run's folder, relative to the output folder. */
    dirName: string;
    repetition: number;
    steps: Record<string, number>;
    /** The machine as the run started. */
    machine: Machine;
    backend: string | undefined;
  },
): RunEntry {
  const { o } = ctx;
  const { dirName, repetition, steps, machine, backend } = r;
  const fit = stackFit(ctx.node, settings);
  return {
    name,
    stack,
    model: "demo (seeded, untrained)",
    ...runEntryFiles(dirName),
    events: `${dirName}/${RUN_FILES.events}`,
    ...(o.repeat > 1 ? { repetition } : {}),
    hpaTargetCpuUtilization: settings.autoscaling.targetCpuUtilization,
    config: {
      ...stackConfigRows(settings),
      "HPA scale-down stabilization (s)": String(
        settings.autoscaling.scaleDownStabilizationSeconds,
      ),
      "readiness period (s)": String(settings.probes.readiness.periodSeconds),
      "a new pod takes traffic after (s, successThreshold × period)": String(
        settings.probes.readiness.successThreshold * settings.probes.readiness.periodSeconds,
      ),
      "pods that fit on the node by requests (CPU / memory)": `${fit.fit} (${fit.byCpu} / ${fit.byMemory})`,
      "wall time: up / ready / accuracy / load / destroy (s)": [
        "up",
        "ready",
        "accuracy",
        "load",
        "destroy",
      ]
        .map((k) => (steps[k] === undefined ? "–" : steps[k]?.toFixed(0)))
        .join(" / "),
    },
    environment: {
      machine: {
        hostname: ctx.node.name,
        cores: Math.max(1, Math.floor(ctx.node.cpuCores)),
        memoryBytes: ctx.node.memoryKB * 1024,
        ...(machine.loadBefore ? { loadBefore: machine.loadBefore } : {}),
        loadAfter: currentLoad(),
      },
      ...(backend ? { backend } : {}),
      where:
        `real pods on ${ctx.node.name} (pulumi up of the stack; ${fit.fit} of maxReplicas ` +
        `${fit.maxReplicas} fit by requests), load through ${
          ctx.ingress === "traefik" ? "Traefik" : "the stand-in ingress (Traefik not running)"
        } at 127.0.0.1`,
    },
  };
}
