/**
 * food11:inferenceEngine (stacks/schema.ts, issue 28): which image each engine builds, what the
 * server is told, what a switch changes (the offline form of `pulumi preview --diff`: the image's
 * build and the container's environment, nothing else), and the contradictions it refuses.
 */
import { describe, expect, it } from "vitest";
import { only, type Registered, type Run, runAccepted, runStack } from "./mocks";

const IMAGE = "docker:index/image:Image";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";

function container(run: Run) {
  return only(run, DEPLOYMENT).inputs.spec.template.spec.containers[0];
}

function env(run: Run): Record<string, string> {
  return Object.fromEntries(
    (container(run).env as { name: string; value: string }[]).map((e) => [e.name, e.value]),
  );
}

/** Every leaf of `a` and `b` that differs, as "path: a -> b". */
function differences(a: unknown, b: unknown, at = ""): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  if (a && b && typeof a === "object" && typeof b === "object") {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) =>
      differences(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        `${at}.${k}`,
      ),
    );
  }
  return [`${at}: ${JSON.stringify(a)} -> ${JSON.stringify(b)}`];
}

describe("food11:inferenceEngine", () => {
  it("tensorflow (the default) is the mission's image: as before the key existed", async () => {
    const run = await runAccepted("strategy1");
    expect(only(run, IMAGE).inputs.build.args).toEqual({ LIBTENSORFLOW: "download" });
    expect(env(run).TFJS_BACKEND).toBe("auto");
    const explicit = await runAccepted("strategy1", { "food11:inferenceEngine": "tensorflow" });
    expect(differences(run.resources, explicit.resources)).toEqual([]);
  });

  it("wasm is what tfjsBackend wasm was: the same image and environment", async () => {
    const engine = await runAccepted("strategy2", { "food11:inferenceEngine": "wasm" });
    const backend = await runAccepted("strategy2", { "food11:tfjsBackend": "wasm" });
    expect(only(engine, IMAGE).inputs.build.args).toEqual({ LIBTENSORFLOW: "none" });
    expect(env(engine).TFJS_BACKEND).toBe("wasm");
    expect(differences(engine.resources, backend.resources)).toEqual([]);
  });

  it.each(["baseline", "strategy1", "strategy2"])(
    "switching %s to onnxruntime changes the image's build and TFJS_BACKEND only",
    async (stack) => {
      const before = await runAccepted(stack);
      const after = await runAccepted(stack, { "food11:inferenceEngine": "onnxruntime" });
      const key = (r: Registered) => `${r.type}::${r.name}`;
      expect(after.resources.map(key)).toEqual(before.resources.map(key));
      const changed = before.resources.flatMap((r, i) =>
        differences(r.inputs, (after.resources[i] as Registered).inputs, key(r)),
      );
      const envIndex = (container(before).env as { name: string }[]).findIndex(
        (e) => e.name === "TFJS_BACKEND",
      );
      expect(changed).toEqual([
        `${IMAGE}::${only(before, IMAGE).name}.build.args.LIBTENSORFLOW: "download" -> "none"`,
        `${IMAGE}::${only(before, IMAGE).name}.build.args.ENGINE: undefined -> "onnxruntime"`,
        `${DEPLOYMENT}::${only(before, DEPLOYMENT).name}.spec.template.spec.containers.0.env.${envIndex}.value: "auto" -> "onnxruntime"`,
      ]);
    },
  );

  // Each engine with tfjsBackend and imageLibtensorflow: the image's build args and TFJS_BACKEND,
  // or the refusal of a backend the engine has not (naming both keys and the fix).
  it.each([
    ["onnxruntime", "auto", "download", { LIBTENSORFLOW: "none", ENGINE: "onnxruntime" }],
    ["tensorflow", "auto", "download", { LIBTENSORFLOW: "download" }],
    ["tensorflow", "tensorflow", "wheel", { LIBTENSORFLOW: "wheel" }],
    ["tensorflow", "auto", "wheel", { LIBTENSORFLOW: "wheel" }],
    ["tensorflow", "wasm", "download", { LIBTENSORFLOW: "none" }],
    ["tensorflow", "wasm", "wheel", { LIBTENSORFLOW: "none" }],
    ["wasm", "auto", "wheel", { LIBTENSORFLOW: "none" }],
    ["onnxruntime", "tensorflow", "download", "runs no tfjs"],
    ["onnxruntime", "wasm", "download", "runs no tfjs"],
    ["wasm", "tensorflow", "download", "builds the image without it"],
  ])(
    "inferenceEngine %s, tfjsBackend %s, imageLibtensorflow %s: %j",
    async (engine, backend, lib, outcome) => {
      const run = await runStack("strategy1", {
        "food11:inferenceEngine": engine,
        "food11:tfjsBackend": backend,
        "food11:imageLibtensorflow": lib,
      });
      if (typeof outcome === "object") {
        expect(run.error).toBeUndefined();
        expect(only(run, IMAGE).inputs.build.args).toEqual(outcome);
        const told = engine === "tensorflow" ? backend : engine;
        expect(env(run).TFJS_BACKEND).toBe(told);
        return;
      }
      expect(run.resources).toEqual([]);
      const msg = String(run.error);
      expect(msg).toContain('stack "strategy1"');
      expect(msg).toContain(`food11:tfjsBackend = "${backend}"`);
      expect(msg).toContain(outcome);
      expect(msg).toContain("Fix: pulumi config rm food11:tfjsBackend --stack strategy1");
    },
  );

  it("an unknown engine is refused with the choices", async () => {
    const run = await runStack("strategy1", { "food11:inferenceEngine": "tpu" });
    expect(run.resources).toEqual([]);
    expect(String(run.error)).toContain(
      'food11:inferenceEngine = "tpu": must be one of tensorflow, onnxruntime, wasm. Fix: pulumi config set food11:inferenceEngine tensorflow --stack strategy1',
    );
  });
});
