import { defineConfig } from "vitest/config";

// The image suite (test/image): real `docker build`s of app/Dockerfile on the local stand-in for
// node:24-slim and containers run as the Deployment runs them. Needs a Docker engine with
// BuildKit and the local registry; run it with `npm run test:image` (scripts/image/test.sh).
export default defineConfig({
  test: {
    include: ["test/image/**/*.image.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    fileParallelism: false,
    sequence: { concurrent: false },
    testTimeout: 30 * 60_000,
    hookTimeout: 10 * 60_000,
    reporters: ["default"],
  },
});
