import { heavySuite } from "./vitest.heavy.mjs";

// The image suite (test/image): real `docker build`s of app/Dockerfile on the local stand-in for
// node:24-slim and containers run as the Deployment runs them. Needs a Docker engine with
// BuildKit and the local registry; run it with `npm run test:image` (scripts/image/test.sh).
export default heavySuite("test/image/**/*.image.test.ts", 30, 10);
