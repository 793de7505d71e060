// app/Dockerfile, offline: what the image suite (test/image/tfjs-node-image.image.test.ts, `npm run
// test:image`, real BuildKit builds) cannot see. It builds every variant with explicit build args
// on a local base, runs containers with --user, and passes the CAs of the machine it runs on; so
// this file holds the Dockerfile's defaults, its build context, the user of a plain `docker run`,
// where the build's CAs may go, and the image's CMD and HEALTHCHECK run on the real build output.
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type Copy, DockerfileParser, type Instruction } from "dockerfile-ast";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureDemoModel } from "../../lib/demo-model/index.js";
import { serverProcess } from "./helpers.js";

const APP_DIR = fileURLToPath(new URL("../..", import.meta.url));
const dockerfile = DockerfileParser.parse(readFileSync(path.join(APP_DIR, "Dockerfile"), "utf8"));
const ignored = readFileSync(path.join(APP_DIR, ".dockerignore"), "utf8")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#"));

/** Instructions by stage name. */
const stages = new Map<string, Instruction[]>();
{
  let current: Instruction[] = [];
  for (const ins of dockerfile.getInstructions()) {
    if (ins.getKeyword() === "FROM") {
      current = [];
      stages.set(String((ins.getArguments()[2] ?? ins.getArguments()[0])?.getValue()), current);
    }
    current.push(ins);
  }
}
const stage = (name: string) => stages.get(name) ?? [];
const args = (ins: Instruction) => ins.getArguments().map((a) => a.getValue());
const keyword = (name: string, kw: string) => stage(name).filter((i) => i.getKeyword() === kw);
const content = (ins: Instruction) => ins.getArgumentsContent() ?? "";

/** The values of the build args that select stages (the Dockerfile's header documents each). */
const CHOICES: Record<string, string[]> = {
  LIBTENSORFLOW: ["download", "wheel", "none"],
  ENGINE: ["tfjs", "onnxruntime"],
  RUNTIME: ["distroless", "slim"],
};
/** What a FROM or COPY --from names, once per value of its build arg (an image stays as it is). */
function expand(ref: string): string[] {
  const m = /\$\{(\w+)\}/.exec(ref);
  const values = m && CHOICES[m[1] as string];
  return values ? values.flatMap((v) => expand(ref.replace(m[0], v))) : [ref];
}
const parents = (name: string) => keyword(name, "FROM").flatMap((f) => expand(args(f)[0] ?? ""));
const copiesFrom = (name: string) =>
  (keyword(name, "COPY") as Copy[]).flatMap((c) => {
    const from = c.getFromFlag()?.getValue();
    const a = args(c);
    return from
      ? expand(from).map((s) => ({ from: s, sources: a.slice(0, -1), dest: a.at(-1) }))
      : [];
  });
/** Built on `base`, the stage whose EXTRA_CA_CERTS (the build's CAs) every build stage trusts. */
const onBase = (name: string): boolean =>
  name === "base" || parents(name).some((p) => stages.has(p) && onBase(p));

describe("app/Dockerfile", () => {
  it("defaults to node:24-slim (what food11:imageBaseImage empty means) and tfjs-node's own download", () => {
    // the image suite always passes NODE_IMAGE (its local base) and LIBTENSORFLOW
    const initial = dockerfile.getInitialARGs().map((a) => a.getArgumentsContent());
    expect(initial).toEqual(
      expect.arrayContaining(["NODE_IMAGE=node:24-slim", "LIBTENSORFLOW=download"]),
    );
    // the build args the stacks pass that no image-suite build sets (a renamed ARG is ignored)
    const declared = dockerfile.getInstructions().filter((i) => i.getKeyword() === "ARG");
    expect(declared.map((i) => args(i)[0]?.split("=")[0])).toEqual(
      expect.arrayContaining(["MODEL_DIR", "MODEL_URL"]),
    );
  });

  it("the build's CAs reach the image only through runtime-ca (emptied unless EXTRA_CA_CERTS_IN_IMAGE)", () => {
    // the image's stages: its FROM chain, for every choice, and what is copied whole to its root
    const inImage = new Set<string>();
    const walk = (name: string) => {
      if (!stages.has(name) || inImage.has(name)) return;
      inImage.add(name);
      for (const p of parents(name)) walk(p);
      for (const c of copiesFrom(name)) if (c.dest === "/") walk(c.from);
    };
    walk("image");
    expect(inImage).toContain("runtime-root-slim");
    expect(inImage).toContain("runtime-root-distroless-files");
    expect([...inImage].filter(onBase)).toEqual([]);
    expect(
      [...inImage].filter((s) => keyword(s, "ARG").some((a) => args(a)[0] === "EXTRA_CA_CERTS")),
    ).toEqual([]);
    // from the build stages the image takes named files only, and the CA file from runtime-ca
    const taken = [...inImage].flatMap((s) => copiesFrom(s).filter((c) => onBase(c.from)));
    expect(taken.length).toBeGreaterThan(0);
    for (const c of taken) expect(c.sources, c.from).not.toContain("/");
    const caFiles = taken.filter((c) =>
      c.sources.some((s) => s.startsWith("/usr/local/lib/food11")),
    );
    expect(caFiles.map((c) => c.from)).toEqual(["runtime-ca"]);
  });

  it("the build fails when ONNX Runtime does not load or the baked model.onnx does not run", () => {
    // the image suite runs check-onnxruntime.cjs itself: only this says the build runs it too
    expect(keyword("runtime", "RUN").map(content).join("\n")).toContain(
      '["node", "/tmp/check-onnxruntime.cjs"]',
    );
  });

  it("installs dependencies from the lockfile only (npm ci), never npm install", () => {
    const runs = dockerfile.getInstructions().filter((i) => i.getKeyword() === "RUN");
    expect(runs.map(content).join("\n")).toContain("npm ci --omit=dev");
    for (const r of runs) expect(content(r)).not.toMatch(/\bnpm (install|i|add)\b/);
  });

  it(".dockerignore keeps host builds, node_modules, hidden files and tests out of the context", () => {
    // a host dist/ would ship stale files (tsc does not clean), hidden files hold .env, .npmrc, caches
    expect(ignored).toEqual(expect.arrayContaining(["node_modules", "dist", ".*", "test"]));
  });

  it("a plain `docker run` runs as a numeric non-root user, with glibc's arenas capped", () => {
    // the image suite and the pods pass their own user; MALLOC_ARENA_MAX: docs/benchmarks' RSS
    const users = keyword("runtime", "USER").map((u) => args(u)[0]);
    expect(users).toHaveLength(1);
    expect(users[0]).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    expect(keyword("runtime", "ENV").map(content).join(" ")).toMatch(/\bMALLOC_ARENA_MAX=2\b/);
  });
});

describe("the image's CMD and HEALTHCHECK on the build output", () => {
  beforeAll(async () => {
    // the build the image runs (`npm run build` = tsc -p tsconfig.json -> dist/)
    await promisify(execFile)("npm", ["run", "build", "--silent"], { cwd: APP_DIR });
  }, 180_000);

  /** An exec-form command of the runtime stage (CMD, or HEALTHCHECK's CMD) with this node. */
  const execForm = (ins: Instruction) => {
    const argv = JSON.parse(content(ins).replace(/^[\s\S]*?(?=\[)/, "")) as string[];
    expect(argv[0]).toBe("node");
    return argv.slice(1);
  };
  const healthy = async (adminPort: number) => {
    const [check] = keyword("runtime", "HEALTHCHECK");
    const child = spawn(process.execPath, execForm(check as Instruction), {
      env: { ...process.env, ADMIN_PORT: String(adminPort) },
      stdio: "ignore",
    });
    const [code] = await once(child, "exit");
    return code === 0;
  };

  it("CMD serves the baked model; HEALTHCHECK passes, and fails once it exits", {
    timeout: 120_000,
  }, async () => {
    const { dir } = await ensureDemoModel();
    const [cmd] = keyword("runtime", "CMD");
    // app/ stands for the image's /app, where the runtime stage copies dist/ and assets/
    const { child, adminPort, base, exited, ready } = await serverProcess(
      { MODEL_DIR: dir, INFERENCE_THREADS: "1" },
      execForm(cmd as Instruction),
    );
    try {
      await ready(90_000);
      expect(await healthy(adminPort)).toBe(true);
      const res = await fetch(`${base}/test?topk=2`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { top: unknown[]; model: { name: string } };
      expect(body.top).toHaveLength(2);
      expect(body.model.name).toBe("food11-mobilenetv2-demo");
      child.kill("SIGTERM");
      expect(await exited).toEqual([0, null]);
      expect(await healthy(adminPort)).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
