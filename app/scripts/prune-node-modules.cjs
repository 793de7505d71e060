#!/usr/bin/env node
// Removes from ./node_modules what Node never loads (run by app/Dockerfile's libtensorflow stage;
// `--dry-run` only prints what it would remove, `--verbose` also the MiB per rule):
// - @tensorflow/* with `main` dist/<name>.node.js: Node loads that one CommonJS bundle (it requires
//   the other @tensorflow packages by name, never a file of their dist/). dist/ keeps it and
//   tfjs-backend-wasm's .wasm binaries (the server loads them from disk) and loses the rest: the
//   browser bundles (dist/<name>.js, .min.js, .es2017.js, .fesm.js, ...), WeChat's miniprogram/,
//   the per-file ES module tree behind `module` (only bundlers read it) and its *_test.js files.
// - tfjs-node (main dist/index.js): its tests (dist/**/*_test.js, dist/run_tests.js) and the C++
//   sources of its binding (already compiled into lib/).
// - onnxruntime-node: the binaries of every other platform (bin/napi-v6/<os>/<arch>: the package
//   ships darwin, linux and win32 ones, ~290 MB; this platform's is ~45 MB on linux x64).
// - anywhere: core-js (a dependency of the tfjs browser bundles; no Node code requires it), @types,
//   TypeScript sources and declarations (Node 24 refuses to strip types under node_modules), source
//   maps, Markdown other than licences, and a package's own test/, docs/, example(s)/,
//   benchmark(s)/ and .github/ folders.
// Never a file that a package.json names as its `main`, a `bin` or an `exports` target (other than
// a `types` one), nor a folder holding one, nor a licence or notice file.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const dryRun = process.argv.includes("--dry-run");
const verbose = process.argv.includes("--verbose");
const top = path.join(process.cwd(), "node_modules");
/** bytes removed per rule */
const byRule = new Map();
let files = 0;
let bytes = 0;
/** Absolute paths no rule may remove (package entry points), filled per package before its rules. */
const protectedPaths = new Set();
/** With --dry-run: what a rule already counted (nothing is removed, so a later rule sees it again). */
const counted = new Set();

const LICENCE = /^(licen[cs]e|copying|notice|authors|patents)(\.|-|$)/i;
const PACKAGE_DIRS = new Set([
  "test",
  "tests",
  "__tests__",
  "docs",
  "doc",
  "example",
  "examples",
  "benchmark",
  "benchmarks",
  "bench",
  ".github",
]);

function isProtected(p) {
  if (protectedPaths.has(p)) return true;
  const prefix = p + path.sep;
  for (const q of protectedPaths) if (q.startsWith(prefix)) return true;
  return false;
}

function remove(p, rule) {
  let st;
  try {
    st = fs.lstatSync(p);
  } catch {
    return;
  }
  if (isProtected(p)) return;
  if (st.isDirectory()) {
    for (const e of fs.readdirSync(p)) remove(path.join(p, e), rule);
    if (!dryRun && fs.readdirSync(p).length === 0) fs.rmdirSync(p);
    return;
  }
  if (LICENCE.test(path.basename(p)) || counted.has(p)) return;
  if (dryRun) counted.add(p);
  files += 1;
  bytes += st.size;
  byRule.set(rule, (byRule.get(rule) ?? 0) + st.size);
  if (!dryRun) fs.unlinkSync(p);
}

/** Files under dir (not descending into nested node_modules). */
function walk(dir, visit) {
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== "node_modules") walk(p, visit);
    } else visit(p, e.name);
  }
}

/** A package's entry points: main (as Node resolves it), bin, exports targets but `types`. */
function entryPoints(dir, manifest) {
  const out = [];
  const add = (rel) => {
    if (typeof rel !== "string" || rel.includes("*")) return;
    const p = path.resolve(dir, rel);
    for (const c of [p, `${p}.js`, `${p}.cjs`, `${p}.json`, path.join(p, "index.js")]) {
      if (fs.existsSync(c) && fs.statSync(c).isFile()) out.push(c);
    }
  };
  add(manifest.main ?? "index.js");
  if (typeof manifest.bin === "string") add(manifest.bin);
  else for (const b of Object.values(manifest.bin ?? {})) add(b);
  const targets = (v) => {
    if (typeof v === "string") add(v);
    else if (Array.isArray(v)) v.forEach(targets);
    else if (v && typeof v === "object") {
      for (const [k, t] of Object.entries(v)) if (k !== "types") targets(t);
    }
  };
  targets(manifest.exports);
  return out;
}

function prunePackage(dir, name, manifest) {
  protectedPaths.clear();
  for (const p of entryPoints(dir, manifest)) protectedPaths.add(p);
  if (name.startsWith("@tensorflow/")) {
    const main = manifest.main ?? "";
    if (/^(?:\.\/)?dist\/[^/]+\.node\.js$/.test(main)) {
      const keep = path.resolve(dir, main);
      walk(path.join(dir, "dist"), (p, base) => {
        if (p !== keep && !base.endsWith(".wasm"))
          remove(p, "@tensorflow: dist/ but the Node bundle and .wasm");
      });
    }
    walk(path.join(dir, "dist"), (p, base) => {
      if (base.endsWith("_test.js") || base === "run_tests.js") remove(p, "@tensorflow: tests");
    });
    if (name === "@tensorflow/tfjs-node") {
      for (const d of ["binding", "src", "scripts", "python"]) {
        remove(path.join(dir, d), "tfjs-node: binding sources, install scripts");
      }
    }
  }
  if (name === "onnxruntime-node") {
    const bin = path.join(dir, "bin", "napi-v6");
    const here = path.join(bin, process.platform, process.arch);
    for (const os of fs.existsSync(bin) ? fs.readdirSync(bin) : []) {
      for (const arch of fs.readdirSync(path.join(bin, os))) {
        const p = path.join(bin, os, arch);
        if (p !== here) remove(p, "onnxruntime-node: other platforms' binaries");
      }
      if (!dryRun && fs.readdirSync(path.join(bin, os)).length === 0)
        fs.rmdirSync(path.join(bin, os));
    }
  }
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory() && PACKAGE_DIRS.has(e.name)) {
      remove(path.join(dir, e.name), "tests, docs, examples, benchmarks");
    }
  }
  walk(dir, (p, base) => {
    if (/\.d\.[cm]?ts$/.test(base) || /\.[cm]?ts$/.test(base)) remove(p, "TypeScript");
    else if (base.endsWith(".map")) remove(p, "source maps");
    else if (/\.(md|markdown)$/i.test(base)) remove(p, "Markdown");
  });
}

/** Every package under a node_modules folder, nested ones too. */
function prunePackages(nm) {
  if (!fs.existsSync(nm)) return;
  for (const e of fs.readdirSync(nm, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name.startsWith(".")) continue;
    const p = path.join(nm, e.name);
    if (e.name === "core-js" || e.name === "@types") {
      protectedPaths.clear();
      remove(p, "core-js, @types");
      continue;
    }
    const scoped = e.name.startsWith("@");
    for (const [dir, name] of scoped
      ? fs.readdirSync(p).map((s) => [path.join(p, s), `${e.name}/${s}`])
      : [[p, e.name]]) {
      const manifest = path.join(dir, "package.json");
      if (fs.existsSync(manifest)) {
        prunePackage(dir, name, JSON.parse(fs.readFileSync(manifest, "utf8")));
      }
      prunePackages(path.join(dir, "node_modules"));
    }
  }
}

prunePackages(top);

const mib = (b) => (b / 1048576).toFixed(1);
console.log(
  `prune-node-modules: ${dryRun ? "would remove" : "removed"} ${files} files, ${mib(bytes)} MiB from node_modules`,
);
if (verbose) for (const [rule, b] of byRule) console.log(`  ${mib(b)} MiB  ${rule}`);
