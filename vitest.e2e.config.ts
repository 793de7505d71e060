import { defineConfig } from "vitest/config";

// The real-engine e2e (test/e2e): needs the toolchain built by scripts/e2e/build.sh and a cluster
// (KUBECONFIG); run it with `npm run test:e2e` (scripts/e2e/run.sh), which provides both.
// One file, its tests in order, one at a time: they share the cluster and the stacks' state.
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    fileParallelism: false,
    sequence: { concurrent: false },
    testTimeout: 15 * 60_000,
    hookTimeout: 15 * 60_000,
    reporters: ["default"],
  },
});
