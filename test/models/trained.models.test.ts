/**
 * npm run test:models: models trained here for real (train.py, cached by its hash), imported with
 * `model:import` from every source format, served by the real server, and compared with Keras:
 * - each import's verification record (top-1 on all 48 inputs, max |dp| <= 1e-4 per format);
 * - /predict on held-out images equals Keras' own predictions on them (top-1 on all, probabilities
 *   within the tolerance), on tfjs-node (SavedModel) and on WASM (tfjs);
 * - strategy-bench accuracy through the server equals scikit-learn's metrics of Keras' predictions;
 * - refusals, each with nothing written: wrong preprocessing, corrupt file, unsupported layer,
 *   labels of the wrong length, `auto` on a model that does not say; a server started with a
 *   PREPROCESS that contradicts the manifest.
 * Needs the pinned Python environment (tools/python, made on first use) and tfjs-node.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ImportError,
  type ImportOptions,
  type ImportResult,
  importModel,
} from "../../tools/model-import/src/import.js";
import { CACHE, pythonEnv } from "../../tools/python/env.js";
import { accuracyCommand } from "../../tools/strategy-bench/src/commands.js";
import { fetch } from "../../tools/strategy-bench/src/http.js";
import { freePort } from "../../tools/strategy-bench/src/net.js";

const ROOT = path.resolve(__dirname, "../..");
const TRAIN = path.join(__dirname, "train.py");
const TOL = 1e-4;
let py: string;
let trained: string;
const tmp = mkdtempSync(path.join(os.tmpdir(), "food11-models-"));
const figures: Record<string, unknown> = { imports: {} };

interface Heldout {
  files: string[];
  labels: number[];
  probs: number[][];
}
let report: Record<"colours" | "mobilenet", Heldout & { train_accuracy: number }>;

beforeAll(async () => {
  const env = await pythonEnv();
  py = env.python;
  figures.pythonEnv = { created: env.created, seconds: Math.round(env.seconds) };
  const key = createHash("sha256").update(readFileSync(TRAIN)).digest("hex").slice(0, 12);
  trained = path.join(CACHE, `trained-models-${key}`);
  if (!existsSync(path.join(trained, "report.json"))) {
    const t0 = performance.now();
    const work = `${trained}.tmp-${process.pid}`;
    const r = spawnSync("nice", ["-n", "10", py, TRAIN, work], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    if (r.status !== 0) throw new Error(`train.py failed:\n${r.stderr.slice(-4000)}`);
    rmSync(trained, { recursive: true, force: true });
    renameSync(work, trained);
    figures.trainSeconds = Math.round((performance.now() - t0) / 1000);
  }
  report = JSON.parse(readFileSync(path.join(trained, "report.json"), "utf8"));
  figures.trainAccuracy = {
    colours: report.colours.train_accuracy,
    mobilenet: report.mobilenet.train_accuracy,
  };
}, 30 * 60_000);

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  if (process.env.FOOD11_MODELS_REPORT) {
    writeFileSync(process.env.FOOD11_MODELS_REPORT, `${JSON.stringify(figures, null, 2)}\n`);
  }
});

const src = (f: string) => path.join(trained, f);

async function timedImport(id: string, o: Omit<ImportOptions, "log">): Promise<ImportResult> {
  const r = await importModel({ ...o, log: () => {} });
  (figures.imports as Record<string, unknown>)[id] = {
    seconds: Math.round(r.seconds.total),
    upToDate: r.upToDate,
    formats: Object.keys(r.manifest.formats),
    table: r.table,
  };
  return r;
}

function expectVerified(r: ImportResult, formats: string[]) {
  const v = r.manifest.verification;
  expect(v?.images).toBe(48);
  expect(v?.tolerance).toBe(TOL);
  expect(Object.keys(r.manifest.formats).sort()).toEqual([...formats].sort());
  for (const f of formats) {
    const check = v?.formats[f as "savedmodel"];
    expect(check?.top1Agree, f).toBe(48);
    expect(check?.maxAbsDiff, f).toBeLessThanOrEqual(TOL);
  }
}

const imported: Record<string, string> = {};

describe("importing the trained models", () => {
  it("colours (Rescaling first): .keras, .h5, SavedModel, ONNX; raw detected; every format verified", async () => {
    for (const [id, file, formats] of [
      ["colours.keras", "colours.keras", ["savedmodel", "tfjs", "onnx"]],
      ["colours.h5", "colours.h5", ["savedmodel", "tfjs", "onnx"]],
      ["colours_savedmodel", "colours_savedmodel", ["savedmodel", "tfjs", "onnx"]],
    ] as const) {
      const out = path.join(tmp, id);
      // a SavedModel keeps no Keras layers to read: its preprocessing is given
      const r = await timedImport(id, {
        source: src(file),
        out,
        labels: src("colours-labels.txt"),
        ...(id === "colours_savedmodel" ? { preprocess: "raw" as const } : {}),
      });
      expect(r.manifest.preprocess, id).toBe("raw");
      expect(r.manifest.preprocessFrom?.detected ?? null, id).toBe(
        id === "colours_savedmodel" ? null : "raw",
      );
      expectVerified(r, [...formats]);
      imported[id] = out;
    }
    expect(readFileSync(path.join(imported["colours.keras"] as string, "labels.txt"), "utf8")).toBe(
      "red\nyellow\ngreen\ncyan\nblue\nmagenta\n",
    );
    expect(
      (
        await importModel({
          source: src("colours.keras"),
          out: imported["colours.keras"] as string,
          labels: src("colours-labels.txt"),
          log: () => {},
        })
      ).upToDate,
    ).toBe(true);
    // an ONNX source: served by the ONNX Runtime engine; the reference is ONNX Runtime itself
    const onnx = await timedImport("colours.onnx", {
      source: src("colours.onnx"),
      out: path.join(tmp, "colours-onnx"),
      labels: src("colours-labels.txt"),
      preprocess: "raw",
    });
    expectVerified(onnx, ["onnx"]);
    expect(onnx.manifest.verification?.reference).toMatch(/^the source ONNX model in ONNX Runtime/);
  });

  it("mobilenet (MobileNetV2 + the report's head, mobilenet preprocessing): .keras, .h5, SavedModel", async () => {
    for (const id of ["mobilenet.keras", "mobilenet.h5", "mobilenet_savedmodel"]) {
      const out = path.join(tmp, id);
      const r = await timedImport(id, { source: src(id), out, preprocess: "mobilenet" });
      expect(r.manifest.preprocess).toBe("mobilenet");
      expect(r.manifest.classes).toBe(11);
      expectVerified(r, ["savedmodel", "tfjs", "onnx"]);
      imported[id] = out;
    }
  });
});

/**
 * A server process, the API and the admin listener each on a free port; resolves once the admin
 * port's /readyz answers 200, with the API's base URL.
 */
async function startServer(
  env: Record<string, string>,
): Promise<{ base: string; child: ChildProcess }> {
  const port = await freePort();
  const adminPort = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "src/server.ts"], {
    cwd: path.join(ROOT, "app"),
    env: {
      ...process.env,
      HOST: "127.0.0.1",
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
      INFERENCE_THREADS: "1",
      LOG_LEVEL: "warn",
      ...env,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    const status = await fetch(`http://127.0.0.1:${adminPort}/readyz`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return { base, child };
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`server not ready (exit ${child.exitCode})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function stop(child: ChildProcess) {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

/** The server's probabilities for each held-out file, by class index. */
async function serverProbs(
  base: string,
  dir: string,
  files: string[],
  classes: number,
): Promise<number[][]> {
  const out: number[][] = [];
  for (const f of files) {
    const res = await fetch(`${base}/predict?topk=${classes}`, {
      method: "POST",
      headers: { "content-type": "image/png" },
      body: readFileSync(path.join(dir, f)),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { top: { index: number; probability: number }[] };
    const p = new Array<number>(classes).fill(0);
    for (const t of body.top) p[t.index] = t.probability;
    out.push(p);
  }
  return out;
}

const argmax = (p: number[]) => p.indexOf(Math.max(...p));

describe("the server serves what Keras predicts", () => {
  for (const [model, id, backend] of [
    ["colours", "colours.keras", "tensorflow"],
    ["colours", "colours.h5", "wasm"],
    ["mobilenet", "mobilenet.keras", "tensorflow"],
    ["mobilenet", "mobilenet_savedmodel", "wasm"],
  ] as const) {
    it(`${id} on ${backend}: /predict on the held-out images equals Keras; accuracy equals scikit-learn's`, async () => {
      const dir = imported[id];
      if (!dir) throw new Error(`${id} was not imported`);
      const held = report[model];
      const images = path.join(trained, `${model}-heldout`);
      const { base, child } = await startServer({ MODEL_DIR: dir, TFJS_BACKEND: backend });
      try {
        const classes = held.probs[0]?.length as number;
        const got = await serverProbs(base, images, held.files, classes);
        let maxDiff = 0;
        let agree = 0;
        for (const [i, p] of got.entries()) {
          const k = held.probs[i] as number[];
          if (argmax(p) === argmax(k)) agree++;
          for (let c = 0; c < classes; c++)
            maxDiff = Math.max(maxDiff, Math.abs((p[c] as number) - (k[c] as number)));
        }
        (figures as Record<string, unknown>)[`predict ${id} ${backend}`] = {
          images: got.length,
          agree,
          maxDiff,
        };
        expect(agree).toBe(got.length);
        expect(maxDiff).toBeLessThanOrEqual(TOL);

        // strategy-bench accuracy through the server vs scikit-learn on Keras' predictions
        const labels = readFileSync(path.join(dir, "labels.txt"), "utf8").trim().split("\n");
        const acc = await accuracyCommand({
          images,
          url: base,
          labels,
          concurrency: 2,
          out: path.join(tmp, `${id}-${backend}-accuracy.json`),
          allowRemote: false,
          quiet: true,
        });
        const yTrue = held.labels.map((k) => labels[k]);
        const yPred = held.probs.map((p) => labels[argmax(p)]);
        const sk = JSON.parse(
          spawnSync(
            py,
            ["-c", SKLEARN, JSON.stringify({ yTrue, yPred, labels: acc.metrics.labels })],
            {
              encoding: "utf8",
            },
          ).stdout,
        ) as { accuracy: number; weighted: number[]; macro: number[]; confusion: number[][] };
        const m = acc.metrics;
        (figures as Record<string, unknown>)[`accuracy ${id} ${backend}`] = {
          server: m.accuracy,
          sklearn: sk.accuracy,
        };
        expect(m.samples).toBe(held.files.length);
        expect(m.accuracy).toBeCloseTo(sk.accuracy, 12);
        expect(
          [m.weighted.precision, m.weighted.recall, m.weighted.f1].map((v) => v.toFixed(12)),
        ).toEqual(sk.weighted.map((v) => v.toFixed(12)));
        expect([m.macro.precision, m.macro.recall, m.macro.f1].map((v) => v.toFixed(12))).toEqual(
          sk.macro.map((v) => v.toFixed(12)),
        );
        expect(m.confusion).toEqual(sk.confusion);
      } finally {
        await stop(child);
      }
    });
  }
});

const SKLEARN = `
import json, sys
from sklearn.metrics import accuracy_score, precision_recall_fscore_support, confusion_matrix
a = json.loads(sys.argv[1])
w = precision_recall_fscore_support(a["yTrue"], a["yPred"], labels=a["labels"], average="weighted", zero_division=0)
m = precision_recall_fscore_support(a["yTrue"], a["yPred"], labels=a["labels"], average="macro", zero_division=0)
print(json.dumps({"accuracy": accuracy_score(a["yTrue"], a["yPred"]), "weighted": list(w[:3]), "macro": list(m[:3]),
  "confusion": confusion_matrix(a["yTrue"], a["yPred"], labels=a["labels"]).tolist()}))
`;

describe("refusals: a clear error, nothing written", () => {
  const cases: [string, Omit<ImportOptions, "out" | "log">, RegExp][] = [
    [
      "wrong preprocessing (unit on a model that rescales itself: normalising twice)",
      { source: "colours.keras", preprocess: "unit", labels: "colours-labels.txt" },
      /--preprocess unit contradicts the model: the model's first layer 'rescaling' \(Rescaling\) computes x \* 0.00392157 \+ 0.*would normalise twice.*Fix: --preprocess raw/,
    ],
    [
      "auto on a model that does not say",
      { source: "mobilenet.keras" },
      /cannot tell how to scale pixels for this model: the model's first layer 'Conv1' \(Conv2D\) does not rescale its input\. Fix: --preprocess unit/,
    ],
    [
      "a corrupt file",
      { source: "corrupt.keras" },
      /corrupt.keras is not a Keras 3 .keras file: not a zip archive/,
    ],
    [
      "an unsupported layer",
      { source: "custom-layer.keras" },
      /unsupported layer in custom-layer.keras: .*could not be deserialized.*a class Keras cannot rebuild here.*Fix: .*model.export\('saved_model_dir'\)/,
    ],
    [
      "a label file of the wrong length",
      { source: "colours.keras", labels: "five-labels.txt" },
      /five-labels.txt has 5 labels but the model has 6 outputs/,
    ],
  ];
  for (const [why, o, message] of cases) {
    it(why, async () => {
      const parent = path.join(tmp, `refused-${why.replace(/\W+/g, "-")}`);
      const out = path.join(parent, "model");
      let err: unknown;
      try {
        await importModel({
          ...o,
          source: src(o.source),
          ...(o.labels ? { labels: src(o.labels) } : {}),
          out,
          log: () => {},
        });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ImportError);
      expect((err as Error).message).toMatch(message);
      expect(existsSync(out)).toBe(false);
      expect(existsSync(parent) ? readdirSync(parent) : []).toEqual([]);
    });
  }

  it("the server refuses a PREPROCESS that contradicts the manifest (exit 2, saying why)", async () => {
    const dir = imported["colours.keras"] as string;
    const r = spawnSync(process.execPath, ["--import", "tsx", "src/server.ts"], {
      cwd: path.join(ROOT, "app"),
      env: {
        ...process.env,
        MODEL_DIR: dir,
        PREPROCESS: "unit",
        PORT: "0",
        ADMIN_PORT: "0",
        HOST: "127.0.0.1",
      },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /PREPROCESS=unit but the model's manifest.json says preprocess "raw" \(the model's first layer 'rescaling'/,
    );
  });
});
