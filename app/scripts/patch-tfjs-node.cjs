#!/usr/bin/env node
// @tensorflow/tfjs-node 4.22.0 (the latest release) calls util.isNullOrUndefined, which Node 23
// removed: on Node 24 its first op throws "(0 , util_1.isNullOrUndefined) is not a function"
// (tensorflow/tfjs#8609). The fix is merged upstream (tensorflow/tfjs#8425) but unreleased; this
// applies the same change to an installed copy's dist/: `isNullOrUndefined(x)` -> `(x == null)`,
// `util.isArray(x)` -> `Array.isArray(x)`. Idempotent; drop it once a fixed tfjs-node ships.
//   node scripts/patch-tfjs-node.cjs [<tfjs-node dir>]   (default ./node_modules/@tensorflow/tfjs-node)
// Run by scripts/tfjs-node-local.sh (host and image) and app/Dockerfile's download stage.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const dir = path.resolve(process.argv[2] ?? path.join("node_modules", "@tensorflow", "tfjs-node"));
const dist = path.join(dir, "dist");
if (!fs.existsSync(dist)) {
  console.log(`patch-tfjs-node: no ${dist}: nothing to patch`);
  process.exit(0);
}
const REWRITES = [
  [/\(0, util_1\.isNullOrUndefined\)\(([^()]*)\)/g, "($1 == null)"],
  [/\(0, util_1\.isArray\)\(([^()]*)\)/g, "Array.isArray($1)"],
];
let changed = 0;
const left = [];
function visit(p) {
  for (const e of fs.readdirSync(p, { withFileTypes: true })) {
    const f = path.join(p, e.name);
    if (e.isDirectory()) visit(f);
    else if (e.name.endsWith(".js")) {
      const before = fs.readFileSync(f, "utf8");
      let after = before;
      for (const [re, to] of REWRITES) after = after.replace(re, to);
      if (after !== before) {
        // a fresh file, not an edit in place: the package may be hard-linked from a cache
        fs.rmSync(f);
        fs.writeFileSync(f, after);
        changed += 1;
      }
      if (/util_1\.isNullOrUndefined/.test(after)) left.push(path.relative(dir, f));
    }
  }
}
visit(dist);
if (left.length > 0) {
  console.error(`patch-tfjs-node: util.isNullOrUndefined is still called in ${left.join(", ")}`);
  process.exit(1);
}
console.log(`patch-tfjs-node: ${changed} file(s) patched (tensorflow/tfjs#8425) in ${dir}`);
