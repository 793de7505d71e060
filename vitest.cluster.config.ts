import { defineConfig } from "vitest/config";

// The real-pods suite (test/cluster): needs the local cluster of scripts/cluster/cluster.sh and
// the built toolchain; run it with `npm run test:cluster` (scripts/cluster/test.sh), which
// provides both. One file, its tests in order: they share the cluster and the stacks' state.
export default defineConfig({
  test: {
    include: ["test/cluster/**/*.cluster.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    fileParallelism: false,
    sequence: { concurrent: false },
    testTimeout: 20 * 60_000,
    hookTimeout: 10 * 60_000,
    reporters: ["default"],
  },
});
