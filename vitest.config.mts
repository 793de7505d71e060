import { defineConfig } from "vitest/config";

// One offline suite: the Pulumi program (over mocks), the server in app/, the measurement
// tools and the policy pack. The real-engine e2e has its own config (vitest.e2e.config.mts).
export default defineConfig({
  test: {
    include: [
      "test/unit/**/*.test.ts",
      "app/test/**/*.test.ts",
      "tools/**/*.test.ts",
      "policy/**/*.test.ts",
    ],
    exclude: ["**/node_modules/**", "**/dist/**"],
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
