/**
 * What a cluster run's parts share: its options, the context every stack's run gets, the one run
 * of one stack its stages work on, and a stack's settings as the run deploys it.
 */
import { clusterStackConfig, clusterVersions } from "../../../../lib/cluster/stack.js";
import {
  PROJECT_ROOT,
  parseStackConfig,
  readStackConfig,
  type StackSettings,
} from "../../../../stacks/index.js";
import {
  type ClusterTimeScaling,
  type NodeCapacity,
  type StackTimeScaling,
  stackTimeScaling,
} from "../cluster-scale.js";
import type { DemoOptions } from "../demo.js";
import type { Manifest } from "../report/manifest.js";

/** The demo's options (but its sampling interval: the cluster run's monitor has its own), and: */
export interface ClusterRunOptions extends Omit<DemoOptions, "interval"> {
  /** A siege schedule file (loadtest's `--schedule`); default the original 30 minutes. */
  schedule?: string;
  /**
   * Stack files outside the project root, by stack name (validate:recommend's recommended stack,
   * written in its output folder): the run reads and deploys these instead of Pulumi.<stack>.yaml.
   */
  stackFiles?: Record<string, string>;
  /** Runs per stack (default 1). */
  repeat: number;
  /** ABCABC… instead of AA…BB…CC… (with repeat > 1). */
  interleave: boolean;
  /** Leave the cluster with this run's flags (the next run wants them too); default: restore. */
  keepClusterFlags?: boolean;
}

export interface RunContext {
  o: ClusterRunOptions;
  /** Other pods that held node capacity during a run, in words. */
  interference: string[];
  ingress: "traefik" | "stand-in";
  scaling: ClusterTimeScaling;
  node: NodeCapacity;
  kubeconfig: string;
  outDir: string;
  imagesDir: string;
}

/** One run of one stack (run-one.ts), as its stages see it. */
export interface StackRun {
  ctx: RunContext;
  stack: string;
  /** The run's name in the report (runName: the stack, `#k` with --repeat). */
  name: string;
  /** The stack's settings as this run deploys it (effectiveSettings). */
  settings: StackSettings;
  /** The run's folder (engine.log, accuracy, loadtest, monitor, events, steps). */
  dir: string;
  /** A line to the log, prefixed with the run's name. */
  say: (line: string) => void;
}

export type RunEntry = Manifest["runs"][number];

/**
 * A stack's settings as this run deploys it: its file (`file`, else Pulumi.<stack>.yaml in the
 * project root), the cluster's config, the scaling's.
 */
export function effectiveSettings(
  stack: string,
  overrides: Record<string, string>,
  file?: string,
): StackSettings {
  return parseStackConfig(stack, { ...readStackConfig(stack, file), ...overrides });
}

/** The config every stack gets on the local cluster (lib/cluster/stack.ts), for this checkout. */
export const localClusterConfig = () =>
  clusterStackConfig(clusterVersions(PROJECT_ROOT), PROJECT_ROOT);

/** A stack as a time-scaled cluster run deploys it (see {@link scaledStack}). */
export interface ScaledStack {
  /** What the time scaling changed: its config overrides, its lines for the report. */
  scaling: StackTimeScaling;
  /** The config `pulumi up` gets: the cluster's, then the scaling's overrides. */
  config: Record<string, string>;
  settings: StackSettings;
}

/**
 * A stack's settings under a run's time scale `timeScale`: its windows and probe periods scaled
 * (cluster-scale.ts) over the cluster's config `base` — what the cluster run deploys, and what
 * validate:recommend recommends and plans for.
 */
export function scaledStack(
  stack: string,
  timeScale: number,
  base: Record<string, string>,
  file?: string,
): ScaledStack {
  const scaling = stackTimeScaling(timeScale, effectiveSettings(stack, base, file));
  const config = { ...base, ...scaling.config };
  return { scaling, config, settings: effectiveSettings(stack, config, file) };
}
