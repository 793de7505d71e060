import { describe, expect, it } from "vitest";
import { prometheusSamples, samplesOf, sumOf } from "../src/prometheus.js";

// As prom-client writes a histogram (le first) and a counter, with an escaped label value.
const TEXT = `# HELP inference_duration_seconds Time per stage.
# TYPE inference_duration_seconds histogram
inference_duration_seconds_bucket{le="0.1",stage="decode"} 1
inference_duration_seconds_bucket{le="+Inf",stage="decode"} 2
inference_duration_seconds_sum{stage="decode"} 0.5
inference_duration_seconds_count{stage="decode"} 2
inference_duration_seconds_bucket{le="+Inf",stage="infer"} 4
inference_duration_seconds_sum{stage="infer"} 1.5
inference_duration_seconds_count{stage="infer"} 4
# TYPE http_requests_total counter
http_requests_total{method="POST",route="/predict",status_code="200"} 6
http_requests_total{method="GET",route="/te\\"st",status_code="200"} 3
`;

describe("prometheusSamples", () => {
  it("keeps a histogram's _sum and _count per label set (the library alone folds them)", () => {
    const samples = prometheusSamples(TEXT);
    expect(samplesOf(samples, "inference_duration_seconds_sum")).toEqual([
      { name: "inference_duration_seconds_sum", labels: { stage: "decode" }, value: 0.5 },
      { name: "inference_duration_seconds_sum", labels: { stage: "infer" }, value: 1.5 },
    ]);
    expect(sumOf(samples, "inference_duration_seconds_count", { stage: "infer" })).toBe(4);
    expect(samplesOf(samples, "inference_duration_seconds_bucket")[1]?.labels.le).toBe("+Inf");
  });

  it("reads labels with escapes, sums over a label subset, and says undefined for none", () => {
    const samples = prometheusSamples(TEXT);
    expect(samplesOf(samples, "http_requests_total", { method: "GET" })[0]?.labels.route).toBe(
      '/te"st',
    );
    expect(sumOf(samples, "http_requests_total", { status_code: "200" })).toBe(9);
    expect(sumOf(samples, "http_requests_total", { status_code: "500" })).toBeUndefined();
  });
});
