/**
 * Command-line flags, one home. The project parses flags with commander (the strategy-bench CLI,
 * the planner's commands, bench/*, scripts/ and policy/e2e.ts); this file holds the value parsers
 * they share and the Option of each flag more than one command takes, so that such a flag has
 * one spelling, one parser and one default rule. A flag one command alone takes is written there.
 */
import { InvalidArgumentError, Option } from "commander";

/**
 * A parser of a number flag: finite, at least `min` (above it with `above`), at most `max` when
 * given (below it with `below`), whole with `integer`. Anything else is commander's "invalid
 * argument" error, naming the flag, the bounds and the value.
 */
export function numberValue(
  name: string,
  min: number,
  o: { integer?: boolean; above?: boolean; max?: number; below?: boolean } = {},
): (v: string) => number {
  return (v) => {
    const n = Number(v);
    const inRange =
      (o.above ? n > min : n >= min) && (o.max === undefined || (o.below ? n < o.max : n <= o.max));
    if (v.trim() === "" || !Number.isFinite(n) || !inRange || (o.integer && !Number.isInteger(n))) {
      const upTo = o.max === undefined ? "" : ` and ${o.below ? "<" : "<="} ${o.max}`;
      throw new InvalidArgumentError(
        `${name} must be ${o.integer ? "a whole number" : "a number"} ${o.above ? ">" : ">="} ${min}${upTo} (got ${JSON.stringify(v)})`,
      );
    }
    return n;
  };
}

/** A number > 0. */
export const positive = (name: string) => numberValue(name, 0, { above: true });
/** A number >= 0. */
export const nonNegative = (name: string) => numberValue(name, 0);
/** A whole number >= `min` (default 0). */
export const wholeNumber = (name: string, min = 0) => numberValue(name, min, { integer: true });

/** A repeatable flag's values, in the order given. */
export const collect = (v: string, prev: string[] = []) => [...prev, v];

/** A comma-separated list: `a,b` -> ["a", "b"] (empty items dropped). */
export const commaList = (v: string) =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/** `--stack <name>`, repeatable (the command's default when absent is in `help`). */
export const stacksOption = (help: string) => new Option("--stack <name>", help).argParser(collect);

/** `--no-error-margin` (plan, recommend, validate:recommend): the SLO judged on the prediction alone. */
export const errorMarginOption = (help: string) => new Option("--no-error-margin", help);

/** `--slo-p95 <s>` and `--slo-p50 <s>` (plan, recommend, validate:recommend): seconds > 0. */
export const sloP95Option = (help: string) =>
  new Option("--slo-p95 <s>", help).argParser(positive("slo p95"));
export const sloP50Option = (help: string) =>
  new Option("--slo-p50 <s>", help).argParser(positive("slo p50"));

/** `--profile <file>`, repeatable: capacity profiles (plan, recommend, validate:recommend). */
export const profileOption = (help: string) =>
  new Option("--profile <file>", help).argParser(collect);

/** `--nodes <spec>`, repeatable: node groups <count>x<cpu>cpu,<memory>. */
export const nodesOption = (help: string) => new Option("--nodes <spec>", help).argParser(collect);

/** `--max-replicas <n>`: a whole number >= 1. */
export const maxReplicasOption = (help: string) =>
  new Option("--max-replicas <n>", help).argParser(wholeNumber("max replicas", 1));

/** `--seed <n>`: a whole number, default `n` (1). */
export const seedOption = (help: string, n = 1) =>
  new Option("--seed <n>", help).argParser(wholeNumber("seed")).default(n);

/** `--time-scale <k>` (k > 0): phase durations (and what else `help` says) times k. */
export const timeScaleOption = (help: string, k: number) =>
  new Option("--time-scale <k>", help).argParser(positive("time scale")).default(k);

/** `--delay-scale <k>` (k >= 0): the users' think times times k; absent, the time scale. */
export const delayScaleOption = (
  help = "multiply users' think times (default: the time scale, keeping requests per phase)",
) => new Option("--delay-scale <k>", help).argParser(nonNegative("delay scale"));

/** `--quiet`: no progress bar(s). */
export const quietOption = (help = "no progress bars") =>
  new Option("--quiet", help).default(false);

/** `--allow-remote`: a non-loopback target is refused without it (safety.ts checkTarget). */
export const allowRemoteOption = (
  help = "allow a non-loopback target (a deployed stack you operate)",
) => new Option("--allow-remote", help).default(false);

/** `--kubeconfig <file>`: the kubeconfig a command's Kubernetes client reads. */
export const kubeconfigOption = (
  help = "kubeconfig file (default: KUBECONFIG, ~/.kube/config, in-cluster)",
) => new Option("--kubeconfig <file>", help);

/** `--context <name>` of the kubeconfig. */
export const contextOption = (help = "kubeconfig context") => new Option("--context <name>", help);
