/**
 * A trained model through `food11:modelSource` on real pods (npm run test:cluster, after
 * real-pods.cluster.test.ts): the Keras model test/models/train.py trained (cached by
 * `npm run test:models`) is imported and verified by `pulumi up` (components/ImportedModel.ts),
 * baked into the image, deployed, and /predict through the ingress answers what Keras predicted
 * on every held-out image (top-1 equal, probabilities within 1e-4); then `destroy`.
 *
 * Skipped, with the reason printed, when the trained models are not in the cache: training needs
 * the pinned Python environment (made by `npm run test:models`, which `.ci/run` runs first).
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { AGREEMENT_TOLERANCE, compareOutputs } from "../../app/src/inference/agreement.js";
import { clusterEngineArgs, clusterStackConfig, clusterVersions } from "../../lib/cluster/stack";
import { readStackFile } from "../../stacks";
import { fetch } from "../../tools/strategy-bench/src/http.js";
import { type Clients, clients, engine, ROOT } from "../e2e/helpers";
import { type Heldout, trainedModelsDir } from "../models/trained-cache";
import { namespaceDeleted } from "./helpers";

const S = clusterVersions();
const INGRESS = `http://127.0.0.1${S.INGRESS_PORT === "80" ? "" : `:${S.INGRESS_PORT}`}/`;
const STACK = "strategy1";
const trained = trainedModelsDir();
const available = existsSync(join(trained, "report.json"));
if (!available)
  process.stdout.write(
    `cluster: SKIP the modelSource step: no trained models in ${trained} (npm run test:models trains them; it needs the Python environment)\n`,
  );

describe.skipIf(!available)(
  "a trained Keras model through food11:modelSource on a real node",
  () => {
    const work = mkdtempSync(join(tmpdir(), "food11-cluster-model-"));
    const logFile = join(work, "engine.log");
    const extra = {
      "food11:modelSource": join(trained, "colours.keras"),
      "food11:modelLabels": join(trained, "colours-labels.txt"),
    };
    const base = clusterStackConfig(S, ROOT);
    const args = () => clusterEngineArgs(STACK, join(work, STACK), extra, undefined, base);
    const ns = readStackFile(STACK, undefined, { ...base, ...extra }).namespace.name;
    let c: Clients;
    let outputs: Record<string, unknown> = {};

    beforeAll(() => {
      c = clients(process.env.KUBECONFIG ?? "");
      process.stdout.write(`cluster: modelSource step scratch ${work}; engine log ${logFile}\n`);
    });

    it("pulumi up imports and verifies the model, bakes it into the image and rolls it out", async () => {
      const r = await engine("up", args(), work, logFile);
      expect(r.ok, r.error).toBe(true);
      outputs = r.outputs ?? {};
      const verification = String(outputs.modelVerification ?? "");
      expect(verification).toMatch(/savedmodel/);
      const pods = await c.core.listNamespacedPod({ namespace: ns });
      expect(pods.items.length).toBe(1);
    });

    it("/predict through the ingress equals Keras on every held-out image; /test answers one of its labels", async () => {
      const held = (
        JSON.parse(readFileSync(join(trained, "report.json"), "utf8")) as {
          colours: Heldout;
        }
      ).colours;
      const classes = held.probs[0]?.length as number;
      const labels = readFileSync(join(trained, "colours-labels.txt"), "utf8").trim().split("\n");
      const t = (await (await fetch(`${INGRESS}test`)).json()) as { label?: string };
      expect(labels).toContain(t.label);
      const got: number[] = [];
      for (const f of held.files) {
        const res = await fetch(`${INGRESS}predict?topk=${classes}`, {
          method: "POST",
          headers: { "content-type": "image/png" },
          body: readFileSync(join(trained, "colours-heldout", f)),
        });
        expect(res.status).toBe(200);
        const body = (await res.json()) as { top: { index: number; probability: number }[] };
        const p = new Array<number>(classes).fill(0);
        for (const x of body.top) p[x.index] = x.probability;
        got.push(...p);
      }
      // the server's rule (agreement.ts): the same top-1 on every image, |dp| within its tolerance
      const { top1Agree: agree, maxAbsDiff: maxDiff } = compareOutputs(
        held.probs.flat(),
        got,
        classes,
      );
      process.stdout.write(
        `cluster: modelSource /predict vs Keras: ${agree}/${held.files.length} top-1 equal, max |dp| ${maxDiff.toExponential(2)}\n`,
      );
      expect(agree).toBe(held.files.length);
      expect(maxDiff).toBeLessThanOrEqual(AGREEMENT_TOLERANCE);
    });

    it("pulumi destroy leaves nothing", async () => {
      const r = await engine("destroy", args(), work, logFile);
      expect(r.ok, r.error).toBe(true);
      await namespaceDeleted(c, ns);
    });
  },
);
