import { heavySuite } from "./vitest.heavy.mjs";

// The real-engine e2e (test/e2e): needs the toolchain built by scripts/e2e/build.sh and a cluster
// (KUBECONFIG); run it with `npm run test:e2e` (scripts/e2e/run.sh), which provides both.
export default heavySuite("test/e2e/**/*.test.ts", 15, 15);
