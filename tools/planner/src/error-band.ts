import { figureTable } from "../../strategy-bench/src/index.js";

/**
 * The planner's error against real pods: the one home of the validation's figures
 * (docs/planning.md, "Against real pods": `bench/planner/against-real-pods.ts` per run and
 * profile, 2026-12-01, this machine). The docs' table is checked against these rows
 * (test/plan/error-band.test.ts); `plan` prints the band they give beside every figure.
 */

/** Whole-run error (predicted − measured) / measured, %, of one stack-run with one profile. */
export interface ValidationRow {
  run: string;
  stack: string;
  profile: string;
  rateErrorPct: number;
  responseErrorPct: number;
}

/** The profiles of the validation, the columns of its table below. */
const PROFILES = ["food11-2cpu", "food11-3cpu", "food11-2cpu-quiet"];

/**
 * "Every run against every profile" in docs/planning.md, laid out as there: a row per run (time
 * scale) and stack, then per profile of {@link PROFILES} its rate error % and response-time
 * error %, null where the run was not planned with that profile.
 */
const VALIDATION_TABLE: [run: string, stack: string, ...errors: (number | null)[]][] = [
  ["x1", "strategy1", null, null, 0.3, -10.5, 8.1, -51.1],
  ["x0.1", "baseline", -19.5, 31.5, -8.6, 11.3, 13.8, -16.7],
  ["x0.1", "strategy1", null, null, -6.4, 7.5, 15.8, -18.8],
  ["x0.1", "strategy2", -25.0, 43.8, -14.8, 21.8, 6.1, -8.9],
  ["x0.05", "baseline", -17.9, 25.9, -6.5, 9.6, 14.6, -16.6],
  ["x0.05", "strategy1", -2.1, 5.8, 10.0, -6.9, 32.0, -27.2],
  ["x0.05", "strategy2", -23.5, 36.8, -12.6, 18.8, 7.2, -9.8],
];

/** The same cells, one {@link ValidationRow} each (row by row, profile by profile). */
export const VALIDATION_ROWS: readonly ValidationRow[] = VALIDATION_TABLE.flatMap(
  ([run, stack, ...errors]) =>
    PROFILES.flatMap((profile, i) => {
      const [rateErrorPct, responseErrorPct] = errors.slice(2 * i, 2 * i + 2);
      return rateErrorPct == null || responseErrorPct == null
        ? []
        : [{ run, stack, profile, rateErrorPct, responseErrorPct }];
    }),
);

/** Ready replicas over the runs: the largest mean absolute error (pods). */
export const REPLICAS_MAE = 0.08;

/** A relative band, % below and above the figure (the measured value lies in figure / (1 + e)). */
export interface Band {
  lowPct: number;
  highPct: number;
}

const band = (xs: number[]): Band => ({ lowPct: Math.min(...xs), highPct: Math.max(...xs) });

/**
 * The bands the planner prints: the range of the whole-run errors over every run and profile
 * (the profile is rarely measured in the conditions the stack will run in, so the widest range).
 * Response time's band stands for the percentiles too (not validated separately: said so).
 */
export const ERROR_BANDS = {
  rate: band(VALIDATION_ROWS.map((r) => r.rateErrorPct)),
  responseTime: band(VALIDATION_ROWS.map((r) => r.responseErrorPct)),
} as const;

/**
 * A percentage with its sign, "+12 %", "−3.5 %" (a true minus), `digits` decimals: the bands, the
 * validation table, and one figure against another in the verdict and the knobs.
 */
export function signedPercent(x: number, digits = 0): string {
  return `${x < 0 ? "−" : "+"}${Math.abs(x).toFixed(digits)} %`;
}

/** `0.250 s (−51 %…+44 %)`: a figure and its band. */
export function withBand(text: string, b: Band): string {
  return `${text} (${signedPercent(b.lowPct)}…${signedPercent(b.highPct)})`;
}

/**
 * The range the true value lies in, given a prediction with error e = (pred − true) / true in
 * [low, high]: true = pred / (1 + e).
 */
export function trueRange(predicted: number, b: Band): [number, number] {
  return [predicted / (1 + b.highPct / 100), predicted / (1 + b.lowPct / 100)];
}

/** Whether two predictions are told apart by the planner: their true ranges do not overlap. */
export function distinguishable(a: number, b: number, band: Band): boolean {
  const [alo, ahi] = trueRange(a, band);
  const [blo, bhi] = trueRange(b, band);
  return ahi < blo || bhi < alo;
}

export const WITHIN_ERROR = "within the planner's error: measure both";

/**
 * Where the bands come from, for the end of a report: what they mean, then the validation's
 * table (rows: run and stack; columns: the profile; cells: rate error / response-time error).
 */
export function errorBandMarkdown(): string[] {
  const profiles = [...new Set(VALIDATION_ROWS.map((r) => r.profile))].sort();
  const keys = [...new Set(VALIDATION_ROWS.map((r) => `${r.run} ${r.stack}`))];
  return [
    "Every predicted figure is printed with the range of the planner's error against real pods: " +
      `response time ${withBand("", ERROR_BANDS.responseTime).trim()} (the percentiles too: not validated ` +
      `separately), requests served ${withBand("", ERROR_BANDS.rate).trim()}, ready replicas ±${REPLICAS_MAE} pod ` +
      "(mean absolute error). Two stacks whose ranges overlap are " +
      `"${WITHIN_ERROR}". The cost figures are what the predicted pods request: exact for those pods.`,
    "",
    'The validation (docs/planning.md, "Against real pods"): each measured run against the plan ' +
      "made with each capacity profile; error = (predicted − measured) / measured over the whole run, " +
      "rate / response time.",
    "",
    ...figureTable(
      ["run (time scale), stack", ...profiles],
      keys.map((k) => [
        k.replace(/^x/, "×"),
        ...profiles.map((p) => {
          const r = VALIDATION_ROWS.find((v) => `${v.run} ${v.stack}` === k && v.profile === p);
          return r
            ? `${signedPercent(r.rateErrorPct, 1)} / ${signedPercent(r.responseErrorPct, 1)}`
            : "–";
        }),
      ]),
    ),
  ];
}
