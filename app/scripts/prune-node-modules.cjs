#!/usr/bin/env node
// Removes from ./node_modules what Node never loads. In @tensorflow/*: each package ships its code
// several times over (the browser bundles dist/<name>.js, .min.js, .es2017.js, .fesm.js and their
// minified forms, WeChat's dist/miniprogram/), source maps and type declarations; Node loads
// `main` (dist/<name>.node.js) and, from tfjs-node, files of tfjs-core's dist/ tree: those stay.
// Anywhere: core-js (a dependency of @tensorflow/tfjs and tfjs-node for their browser bundles;
// no Node code requires it) and @types (declarations only).
// Run by app/Dockerfile's deps stage; `--dry-run` only prints what it would remove.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const dryRun = process.argv.includes("--dry-run");
const root = path.join(process.cwd(), "node_modules", "@tensorflow");
let files = 0;
let bytes = 0;

function remove(p) {
  let st;
  try {
    st = fs.lstatSync(p);
  } catch {
    return;
  }
  if (st.isDirectory()) {
    for (const e of fs.readdirSync(p)) remove(path.join(p, e));
    if (!dryRun) fs.rmdirSync(p);
    return;
  }
  files += 1;
  bytes += st.size;
  if (!dryRun) fs.unlinkSync(p);
}

function walk(dir, visit) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== "node_modules") walk(p, visit);
    } else visit(p, e.name);
  }
}

const pkgs = fs.existsSync(root) ? fs.readdirSync(root) : [];
for (const name of pkgs) {
  const dir = path.join(root, name);
  const manifest = path.join(dir, "package.json");
  if (!fs.existsSync(manifest)) continue;
  const main = JSON.parse(fs.readFileSync(manifest, "utf8")).main ?? "";
  const bundle = /^(?:\.\/)?dist\/(.+)\.node\.js$/.exec(main)?.[1];
  if (bundle !== undefined) {
    for (const suffix of [
      ".js",
      ".min.js",
      ".es2017.js",
      ".es2017.min.js",
      ".fesm.js",
      ".fesm.min.js",
    ]) {
      remove(path.join(dir, "dist", `${bundle}${suffix}`));
    }
  }
  remove(path.join(dir, "dist", "miniprogram"));
  walk(dir, (p, base) => {
    if (base.endsWith(".map") || base.endsWith(".d.ts")) remove(p);
  });
}
// Packages no runtime code loads, wherever npm placed them (top level or nested).
function prunePackages(dir) {
  if (!fs.existsSync(dir)) return;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const p = path.join(dir, e.name);
    if (e.name === "core-js" || e.name === "@types") {
      remove(p);
      continue;
    }
    if (e.name.startsWith("@")) {
      for (const s of fs.readdirSync(p)) prunePackages(path.join(p, s, "node_modules"));
    } else prunePackages(path.join(p, "node_modules"));
  }
}
prunePackages(path.join(process.cwd(), "node_modules"));

console.log(
  `prune-node-modules: ${dryRun ? "would remove" : "removed"} ${files} files, ${(bytes / 1048576).toFixed(1)} MiB from node_modules`,
);
