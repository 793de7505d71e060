import { heavySuite } from "./vitest.heavy.mjs";

// The real-pods suite (test/cluster): needs the local cluster of scripts/cluster/cluster.sh and
// the built toolchain; run it with `npm run test:cluster` (scripts/cluster/test.sh), which
// provides both.
export default heavySuite("test/cluster/**/*.cluster.test.ts", 20, 10);
