// No Docker engine (and no hadolint in Debian) here: validate app/Dockerfile by parsing it
// (dockerfile-ast) against the real build output of `npm run build` and the package files.
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type Copy, DockerfileParser, type Instruction } from "dockerfile-ast";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureDemoModel } from "../../scripts/demo-model/index.js";

const APP_DIR = fileURLToPath(new URL("../..", import.meta.url));
const text = readFileSync(path.join(APP_DIR, "Dockerfile"), "utf8");
const dockerfile = DockerfileParser.parse(text);
const instructions = dockerfile.getInstructions();
const pkg = JSON.parse(readFileSync(path.join(APP_DIR, "package.json"), "utf8")) as {
  scripts: Record<string, string>;
  optionalDependencies: Record<string, string>;
};
const tsconfig = JSON.parse(readFileSync(path.join(APP_DIR, "tsconfig.json"), "utf8")) as {
  compilerOptions: { outDir: string; rootDir: string };
};
const ignored = readFileSync(path.join(APP_DIR, ".dockerignore"), "utf8")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#"));

/** Instructions grouped by stage name. */
const stages = new Map<string, Instruction[]>();
{
  let current: Instruction[] | undefined;
  for (const ins of instructions) {
    if (ins.getKeyword() === "FROM") {
      const args = ins.getArguments().map((a) => a.getValue());
      const name = args[2] ?? `stage${stages.size}`;
      expect(args[1]?.toUpperCase()).toBe("AS");
      current = [];
      stages.set(name, current);
    }
    current?.push(ins);
  }
}
const stage = (name: string) => stages.get(name) ?? [];
const args = (ins: Instruction) => ins.getArguments().map((a) => a.getValue());
const workdir = (name: string) => {
  const w = stage(name).filter((i) => i.getKeyword() === "WORKDIR");
  return w.length ? (args(w.at(-1) as Instruction)[0] ?? "/") : "/";
};

beforeAll(async () => {
  // the real build the image runs (`npm run build` = tsc -p tsconfig.json -> dist/)
  await promisify(execFile)("npm", ["run", "build", "--silent"], { cwd: APP_DIR });
}, 180_000);

describe("app/Dockerfile", () => {
  it("is multi-stage on node:24-slim, one libtensorflow stage per LIBTENSORFLOW value, one root per RUNTIME", () => {
    expect([...stages.keys()]).toEqual([
      "base",
      "runtime-ca",
      "build",
      "deps",
      "libtensorflow-download",
      "tensorflow-wheel",
      "libtensorflow-wheel",
      "libtensorflow-none",
      "libtensorflow",
      "node-strip",
      "runtime-root-distroless-files",
      "runtime-root-distroless",
      "runtime-root-slim",
      "runtime-root",
      "runtime",
    ]);
    const initial = dockerfile.getInitialARGs().map((a) => a.getArgumentsContent());
    expect(initial).toEqual([
      "NODE_IMAGE=node:24-slim",
      "LIBTENSORFLOW=download",
      "RUNTIME=distroless",
    ]);
    const from = Object.fromEntries(
      dockerfile.getFROMs().map((f) => [f.getBuildStage(), f.getImage()] as const),
    );
    const nodeImage = ["$", "{NODE_IMAGE}"].join("");
    expect(from).toEqual({
      base: nodeImage,
      "runtime-ca": "base",
      build: "base",
      deps: "base",
      "libtensorflow-download": "deps",
      "tensorflow-wheel": "base",
      "libtensorflow-wheel": "tensorflow-wheel",
      "libtensorflow-none": "deps",
      libtensorflow: ["libtensorflow-$", "{LIBTENSORFLOW}"].join(""),
      "node-strip": "base",
      // the runtime's root is cut from the plain base: no build CAs, no toolchain, no wheel
      "runtime-root-distroless-files": nodeImage,
      "runtime-root-distroless": "scratch",
      "runtime-root-slim": nodeImage,
      "runtime-root": ["runtime-root-$", "{RUNTIME}"].join(""),
      // and flattened: no layer of the base underneath
      runtime: "scratch",
    });
    const runtimeCopies = stage("runtime").filter((i) => i.getKeyword() === "COPY") as Copy[];
    expect([
      runtimeCopies[0]?.getFromFlag()?.getValue(),
      ...args(runtimeCopies[0] as Copy).slice(-2),
    ]).toEqual(["runtime-root", "/", "/"]);
  });

  it("the wheel stage runs the host's script; the runtime stage fails the build if tfjs-node does not load", () => {
    const wheel = [...stage("tensorflow-wheel"), ...stage("libtensorflow-wheel")]
      .filter((i) => i.getKeyword() === "RUN")
      .map((i) => i.getArgumentsContent() ?? "")
      .join("\n");
    expect(wheel).toContain("bash scripts/tfjs-node-local.sh --fetch");
    expect(wheel).toMatch(/bash scripts\/tfjs-node-local\.sh(?! --)/);
    expect(existsSync(path.join(APP_DIR, "scripts", "tfjs-node-local.sh"))).toBe(true);
    const runtime = stage("runtime").filter((i) => i.getKeyword() === "RUN");
    expect(text).toContain("RUN --mount=type=bind,source=scripts/check-tfjs-node.cjs");
    // the runtime has no shell: every RUN in it is exec form (a JSON array after any --mount)
    expect(runtime.length).toBeGreaterThan(0);
    for (const r of runtime) {
      const content = (r.getArgumentsContent() ?? "").replace(/^(--\S+\s+(\\\s+)?)+/, "");
      expect(JSON.parse(content), content).toEqual(expect.arrayContaining(["node"]));
    }
    const check = runtime.map((r) => r.getArgumentsContent() ?? "").join("\n");
    expect(check).toContain('["node", "/tmp/check-tfjs-node.cjs"]');
    // the build arg reaches the check (as RUN's environment), which passes LIBTENSORFLOW=none itself
    expect(
      stage("runtime").some((i) => i.getKeyword() === "ARG" && args(i)[0] === "LIBTENSORFLOW"),
    ).toBe(true);
    const checkScript = readFileSync(path.join(APP_DIR, "scripts", "check-tfjs-node.cjs"), "utf8");
    expect(checkScript).toContain('process.env.LIBTENSORFLOW === "none"');
  });

  it("every COPY from the build context names a file that exists and is not .dockerignored", () => {
    const fromContext = dockerfile.getCOPYs().filter((c: Copy) => !c.getFromFlag());
    expect(fromContext.length).toBeGreaterThan(0);
    for (const copy of fromContext) {
      const sources = args(copy).slice(0, -1);
      for (const src of sources) {
        expect(existsSync(path.join(APP_DIR, src)), `COPY ${src}`).toBe(true);
        expect(ignored, `COPY ${src} is dockerignored`).not.toContain(src);
      }
    }
    // what the build stage needs from the context is not ignored
    for (const need of ["src", "scripts", "assets", "tsconfig.json", "package-lock.json"]) {
      expect(ignored).not.toContain(need);
      expect(existsSync(path.join(APP_DIR, need)), need).toBe(true);
    }
  });

  it("the runtime stage copies node_modules, the build output, assets, model and (only) the runtime CAs", () => {
    const buildDir = workdir("build");
    expect(buildDir).toBe("/app");
    const copies = stage("runtime").filter((i) => i.getKeyword() === "COPY") as Copy[];
    const fromStages = copies
      .filter((c) => c.getFromFlag() !== null)
      .map((c) => [c.getFromFlag()?.getValue(), ...args(c).slice(-2)]);
    expect(fromStages).toEqual([
      ["runtime-root", "/", "/"],
      ["libtensorflow", "/app/node_modules", "./node_modules"],
      ["build", "/app/dist", "./dist"],
      ["build", "/app/assets", "./assets"],
      ["build", "/model", "./model"],
      ["runtime-ca", "/usr/local/lib/food11/extra-ca.pem", "/usr/local/lib/food11/extra-ca.pem"],
    ]);
    // /app/dist is what `npm run build` writes: tsconfig's outDir under the build WORKDIR
    expect(tsconfig.compilerOptions.outDir).toBe("dist");
    expect(tsconfig.compilerOptions.rootDir).toBe("src");
    expect(existsSync(path.join(APP_DIR, "dist", "server.js"))).toBe(true);
    expect(existsSync(path.join(APP_DIR, "dist", "inference", "worker.js"))).toBe(true);
    expect(existsSync(path.join(APP_DIR, "assets", "test.jpg"))).toBe(true);
    // the scripts the build stage runs exist
    expect(text).toContain("npm run build");
    expect(pkg.scripts.build).toBe("tsc -p tsconfig.json");
    expect(text).toContain("npm run model:demo -- /model");
    expect(pkg.scripts["model:demo"]).toBeTruthy();
  });

  it("CMD runs the compiled entry point, from the runtime WORKDIR", () => {
    const cmds = stage("runtime").filter((i) => i.getKeyword() === "CMD");
    expect(cmds).toHaveLength(1);
    const cmd = JSON.parse((cmds[0] as Instruction).getArgumentsContent() ?? "[]");
    expect(cmd).toEqual(["node", "dist/server.js"]);
    expect(workdir("runtime")).toBe("/app");
    expect(existsSync(path.join(APP_DIR, cmd[1]))).toBe(true);
  });

  it("installs production dependencies from the lockfile, tfjs-node optional", () => {
    const runs = stage("deps")
      .filter((i) => i.getKeyword() === "RUN")
      .map((i) => i.getArgumentsContent() ?? "");
    expect(runs.some((r) => r.includes("npm ci --omit=dev --ignore-scripts"))).toBe(true);
    expect(pkg.optionalDependencies["@tensorflow/tfjs-node"]).toBe("4.22.0");
  });

  it("runs as a numeric non-root user, exposes 8080 and 8081, bakes the model, probes /healthz on the admin port", () => {
    const runtime = stage("runtime");
    const users = runtime.filter((i) => i.getKeyword() === "USER").map(args);
    expect(users).toEqual([["10001:10001"]]);
    const exposes = runtime.filter((i) => i.getKeyword() === "EXPOSE").map(args);
    expect(exposes).toEqual([["8080", "8081"]]);
    const env = runtime
      .filter((i) => i.getKeyword() === "ENV")
      .map((i) => i.getArgumentsContent() ?? "")
      .join(" ");
    expect(env).toMatch(/MODEL_DIR=\/app\/model/);
    expect(env).toMatch(/(^|\s)PORT=8080/);
    expect(env).toMatch(/ADMIN_PORT=8081/);
    expect(env).toMatch(/HOST=0\.0\.0\.0/);
    expect(env).toMatch(/MALLOC_ARENA_MAX=2/);
    const argNames = instructions
      .filter((i) => i.getKeyword() === "ARG")
      .map((i) => args(i)[0]?.split("=")[0]);
    expect(argNames).toEqual(
      expect.arrayContaining([
        "MODEL_DIR",
        "MODEL_URL",
        "LIBTENSORFLOW",
        "EXTRA_CA_CERTS",
        "EXTRA_CA_CERTS_IN_IMAGE",
      ]),
    );
    expect(text).toMatch(/HEALTHCHECK[\s\S]*process\.env\.ADMIN_PORT\|\|8081\)\+'\/healthz'/);
  });
});

describe("the image's command on the build output", () => {
  it("node dist/server.js serves the baked model: ready, GET /test 200, SIGTERM exit 0", {
    timeout: 120_000,
  }, async () => {
    const { dir } = await ensureDemoModel();
    const freePort = async () => {
      const srv = createServer().listen(0, "127.0.0.1");
      await once(srv, "listening");
      const { port } = srv.address() as { port: number };
      srv.close();
      await once(srv, "close");
      return port;
    };
    const port = await freePort();
    const adminPort = await freePort();
    // as in the image: WORKDIR /app, CMD node dist/server.js, MODEL_DIR set
    const child = spawn(process.execPath, ["dist/server.js"], {
      cwd: APP_DIR,
      env: {
        ...process.env,
        PORT: String(port),
        ADMIN_PORT: String(adminPort),
        HOST: "127.0.0.1",
        MODEL_DIR: dir,
        INFERENCE_THREADS: "1",
      },
      stdio: "ignore",
    });
    const exited = once(child, "exit");
    try {
      const base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 90_000;
      while (
        (await fetch(`http://127.0.0.1:${adminPort}/readyz`).then(
          (r) => r.status,
          () => 0,
        )) !== 200
      ) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error("not ready");
        await new Promise((r) => setTimeout(r, 100));
      }
      const res = await fetch(`${base}/test?topk=2`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { top: unknown[]; model: { name: string } };
      expect(body.top).toHaveLength(2);
      expect(body.model.name).toBe("food11-mobilenetv2-demo");
      child.kill("SIGTERM");
      expect(await exited).toEqual([0, null]);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
