import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import {
  accuracyMarkdown,
  directPredictor,
  scoreImages,
  serverPredictor,
} from "../src/accuracy.js";
import { loadLabeledSet } from "../src/dataset.js";
import { generateImageSet } from "../src/imageset.js";
import { FOOD11_LABELS } from "../src/labels.js";
import { serversClosedAfterEach } from "./helpers.js";

const serve = serversClosedAfterEach();

describe("labeled image sets", () => {
  it("generates a deterministic set in Food-11's layout that opens as images", async () => {
    const a = await mkdtemp(join(tmpdir(), "sb-set-"));
    const b = await mkdtemp(join(tmpdir(), "sb-set-"));
    await generateImageSet({ dir: a, classes: 3, perClass: 2, size: 32, seed: 5 });
    await generateImageSet({ dir: b, classes: 3, perClass: 2, size: 32, seed: 5 });
    expect((await readdir(a)).sort()).toEqual([
      "0_0.jpg",
      "0_1.jpg",
      "1_0.jpg",
      "1_1.jpg",
      "2_0.jpg",
      "2_1.jpg",
    ]);
    for (const f of await readdir(a)) {
      expect(await readFile(join(a, f))).toEqual(await readFile(join(b, f)));
    }
    const meta = await sharp(join(a, "2_1.jpg")).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["jpeg", 32, 32]);
    const set = await loadLabeledSet(a, FOOD11_LABELS);
    expect(set.map((x) => x.label)).toEqual([
      "Bread",
      "Bread",
      "Dairy product",
      "Dairy product",
      "Dessert",
      "Dessert",
    ]);
    expect(await loadLabeledSet(a, FOOD11_LABELS, 1)).toHaveLength(3);
  });

  it("reads a folder per class by name or by index", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sb-folders-"));
    const img = await sharp({ create: { width: 4, height: 4, channels: 3, background: "red" } })
      .jpeg()
      .toBuffer();
    for (const folder of ["Noodles-Pasta", "vegetable_fruit", "3"]) {
      await mkdir(join(dir, folder));
      await writeFile(join(dir, folder, "b.jpg"), img);
      await writeFile(join(dir, folder, "a.jpg"), img);
    }
    const set = await loadLabeledSet(dir, FOOD11_LABELS);
    expect(set.map((x) => [x.label, x.path.slice(dir.length + 1)])).toEqual([
      ["Egg", "3/a.jpg"],
      ["Egg", "3/b.jpg"],
      ["Noodles/Pasta", "Noodles-Pasta/a.jpg"],
      ["Noodles/Pasta", "Noodles-Pasta/b.jpg"],
      ["Vegetable/Fruit", "vegetable_fruit/a.jpg"],
      ["Vegetable/Fruit", "vegetable_fruit/b.jpg"],
    ]);
    await mkdir(join(dir, "Pizza"));
    await expect(loadLabeledSet(dir, FOOD11_LABELS)).rejects.toThrow(/Pizza/);
  });
});

describe("scoring through a server's /predict", () => {
  it("posts multipart field `file` and scores the returned labels", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sb-score-"));
    await generateImageSet({ dir, classes: 2, perClass: 3, size: 16, seed: 1 });
    // A fake server: answers from the uploaded file name; class 1's image n=2 is called class 0,
    // and class 0's image n=1 gets a 500 (a failure: not scored).
    const seen: string[] = [];
    const srv = await serve((_n, req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("latin1");
        const m = /name="file"; filename="(\d+)_(\d+)\.jpg"/.exec(body);
        seen.push(`${req.method} ${req.url} ${m ? "file" : "none"}`);
        const [cls, n] = [Number(m?.[1]), Number(m?.[2])];
        if (cls === 0 && n === 1) {
          res.statusCode = 500;
          res.end("{}");
          return;
        }
        const index = cls === 1 && n === 2 ? 0 : cls;
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ label: FOOD11_LABELS[index], index, probability: 0.9 }));
      });
    });
    const images = await loadLabeledSet(dir, FOOD11_LABELS);
    const r = await scoreImages(images, serverPredictor(new URL(srv.url)), {
      concurrency: 2,
      labelOrder: FOOD11_LABELS,
      model: "fake",
      dataset: dir,
    });
    expect(seen).toHaveLength(6);
    expect(new Set(seen)).toEqual(new Set(["POST /predict file"]));
    expect(r.errors).toBe(1);
    // Scored: Bread x2 (both right), Dairy x3 (two right, one called Bread).
    expect(r.metrics.samples).toBe(5);
    expect(r.metrics.accuracy).toBeCloseTo(0.8, 12);
    expect(r.metrics.confusion).toEqual([
      [2, 0],
      [1, 2],
    ]);
    // Bread: P 2/3 R 1 F1 0.8; Dairy: P 1 R 2/3 F1 0.8. Weighted by support 2 and 3.
    expect(r.metrics.weighted.precision).toBeCloseTo((2 * (2 / 3) + 3 * 1) / 5, 12);
    expect(r.metrics.macro.f1).toBeCloseTo(0.8, 12);
    const md = accuracyMarkdown(r);
    expect(md).toContain("| accuracy | 80.00% | |");
    expect(md).toContain("| Dairy product | 1 | 2 |");
  });
});

const demoModel = resolve(import.meta.dirname, "../../../app/models/demo");

describe("scoring by loading the model directly", () => {
  it.skipIf(!existsSync(join(demoModel, "model.json")))(
    "classifies with app/src/inference/classifier.ts (demo model, WASM)",
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "sb-direct-"));
      await generateImageSet({ dir, classes: 11, perClass: 1, size: 48, seed: 3 });
      const p = await directPredictor({ modelDir: demoModel, backend: "wasm", threads: 1 });
      try {
        expect(p.labels).toHaveLength(11);
        const images = await loadLabeledSet(dir, p.labels);
        const r = await scoreImages(images, p, {
          concurrency: 2,
          labelOrder: p.labels,
          model: "demo",
          dataset: dir,
        });
        expect(r.errors).toBe(0);
        expect(r.metrics.samples).toBe(11);
        expect(r.predictions.every((x) => p.labels.includes(x.predicted ?? ""))).toBe(true);
      } finally {
        await p.close();
      }
    },
    120_000,
  );
});
