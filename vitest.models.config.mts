import { heavySuite } from "./vitest.heavy.mjs";

// The trained-model suite (test/models): models trained here, imported from every source format,
// served and compared with Keras. Needs the pinned Python environment (made on first use) and
// tfjs-node: run it with `npm run test:models` (scripts/models/test.sh).
export default heavySuite("test/models/**/*.models.test.ts", 30, 40);
