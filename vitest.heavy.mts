import { defineConfig } from "vitest/config";

/**
 * The shape of every heavy suite's vitest config (e2e, cluster, image): its files, run one at a
 * time and in order (they share a cluster or an engine and its state), with long timeouts.
 */
export function heavySuite(include: string, testMinutes: number, hookMinutes: number) {
  return defineConfig({
    test: {
      include: [include],
      exclude: ["**/node_modules/**", "**/dist/**"],
      fileParallelism: false,
      sequence: { concurrent: false },
      testTimeout: testMinutes * 60_000,
      hookTimeout: hookMinutes * 60_000,
      reporters: ["default"],
    },
  });
}
