/** Worker thread entry that builds the demo model (see demo-model.ts buildDemoModel). */
import { parentPort, workerData } from "node:worker_threads";
import { buildDemoModel } from "./demo-model-build.js";

const { dir } = workerData as { dir: string };
buildDemoModel(dir).then(
  (r) => parentPort?.postMessage({ ok: true, ...r }),
  (err: unknown) =>
    parentPort?.postMessage({ ok: false, error: (err as Error).message ?? String(err) }),
);
