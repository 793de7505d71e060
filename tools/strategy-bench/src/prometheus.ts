/**
 * The Prometheus text format (a server's /metrics, a kubelet's /metrics/resource), read with
 * parse-prometheus-text-format as flat samples: name, labels, value. The library folds a
 * histogram's series into one family and drops their `_sum` and `_count` per label set, so the
 * `# TYPE` and `# HELP` lines are left out first: every sample line is then a sample of its own
 * (`inference_duration_seconds_sum{stage="infer"}` as it is written).
 */
import parsePrometheusTextFormat from "parse-prometheus-text-format";

export interface PrometheusSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const number = (v: string | undefined) =>
  v === "+Inf" ? Infinity : v === "-Inf" ? -Infinity : Number(v);

export function prometheusSamples(text: string): PrometheusSample[] {
  const lines = text.split("\n").filter((l) => !/^\s*#/.test(l));
  return parsePrometheusTextFormat(lines.join("\n")).flatMap((family) =>
    family.metrics.map((m) => ({
      name: family.name,
      labels: m.labels ?? {},
      value: number(m.value),
    })),
  );
}

/** The samples named `name` whose labels include `labels`. */
export function samplesOf(
  samples: readonly PrometheusSample[],
  name: string,
  labels: Record<string, string> = {},
): PrometheusSample[] {
  return samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

/** The sum of {@link samplesOf}, or undefined when there is none. */
export function sumOf(
  samples: readonly PrometheusSample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const found = samplesOf(samples, name, labels);
  return found.length === 0 ? undefined : found.reduce((a, s) => a + s.value, 0);
}
