/**
 * Docker for the image suite: a BuildKit build of a context (the Dockerfile's libtensorflow
 * stages need BuildKit: only the selected one is built) and a container run as the Deployment
 * runs the server, published on loopback only.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fetch } from "../../tools/strategy-bench/src/http.js";
import { statusKB } from "../../tools/strategy-bench/src/proc.js";
import { CLUSTER_BUILD_CA, clusterBaseImage, clusterVersions } from "../cluster/stack";
import {
  firstReadableScript,
  hostMemory,
  hostPid,
  type ServerMemory,
  serverMemory,
} from "./cgroup";

/**
 * The build args every local build of app/Dockerfile takes (what the cluster stacks' config turns
 * into): NODE_IMAGE, the base `cluster images` made, and EXTRA_CA_CERTS, this machine's extra CAs
 * when it has some (its registries need them).
 */
export function localBuildArgs(): Record<string, string> {
  return {
    NODE_IMAGE: clusterBaseImage(),
    ...(existsSync(CLUSTER_BUILD_CA)
      ? { EXTRA_CA_CERTS: readFileSync(CLUSTER_BUILD_CA, "utf8") }
      : {}),
  };
}

/** The result of one build: exit code, the whole plain-progress output, its tail, seconds. */
export interface BuildResult {
  code: number;
  output: string;
  tail: string;
  seconds: number;
}

export interface Builder {
  ok: boolean;
  /** Which client builds and why (or why none can). */
  describe: string;
  build(context: string, tag: string, args: Record<string, string>): BuildResult;
}

/**
 * A BuildKit-capable client: `docker buildx build --load` when the buildx plugin is there (Docker
 * 23+ clients need it for BuildKit), else a 20.10 client (Debian's /usr/bin/docker) with
 * DOCKER_BUILDKIT=1, which carries BuildKit's client itself.
 */
export function imageBuilder(): Builder {
  const run = (bin: string, args: string[]) => spawnSync(bin, args, { encoding: "utf8" });
  let cmd:
    | { bin: string; pre: string[]; env: Record<string, string>; describe: string }
    | undefined;
  if (run("docker", ["buildx", "version"]).status === 0) {
    cmd = {
      bin: "docker",
      pre: ["buildx", "build", "--load"],
      env: {},
      describe: "docker buildx build --load",
    };
  } else {
    for (const bin of ["docker", "/usr/bin/docker"]) {
      if (bin !== "docker" && !existsSync(bin)) continue;
      const v = run(bin, ["version", "--format", "{{.Client.Version}}"]).stdout.trim();
      if (/^20\./.test(v)) {
        cmd = {
          bin,
          pre: ["build"],
          env: { DOCKER_BUILDKIT: "1" },
          describe: `DOCKER_BUILDKIT=1 ${bin} build (client ${v})`,
        };
        break;
      }
    }
  }
  if (cmd === undefined) {
    return {
      ok: false,
      describe: "no BuildKit client: no buildx plugin and no Docker 20.10 client",
      build: () => ({ code: 1, output: "", tail: "no BuildKit client", seconds: 0 }),
    };
  }
  const c = cmd;
  return {
    ok: true,
    describe: c.describe,
    build(context, tag, args) {
      const t0 = Date.now();
      const r = spawnSync(
        c.bin,
        [
          ...c.pre,
          "--progress=plain",
          ...Object.entries(args).flatMap(([k, v]) => ["--build-arg", `${k}=${v}`]),
          "-t",
          tag,
          context,
        ],
        { encoding: "utf8", env: { ...process.env, ...c.env }, maxBuffer: 256 * 1024 * 1024 },
      );
      const output = `${r.stdout ?? ""}${r.stderr ?? ""}`;
      return {
        code: r.status ?? 1,
        output,
        tail: output.split("\n").slice(-40).join("\n"),
        seconds: Math.round((Date.now() - t0) / 100) / 10,
      };
    },
  };
}

/** A running container of the server and what the tests read from it. */
export interface Started {
  id: string;
  /** The API (container port 8080, PORT): /predict, /test. */
  url: string;
  /** The admin listener (container port 8081, ADMIN_PORT): /metrics, /healthz, /readyz. */
  adminUrl: string;
  /** Its main process on this host, when the engine runs here. */
  pid?: number;
  exec(...cmd: string[]): string;
  /**
   * `node -e <script>` in the container (the image has no shell: node is the one program every
   * variant has), its stdout trimmed.
   */
  node(script: string): string;
  /**
   * The server's memory, bytes: VmRSS of its process, the container cgroup's usage (what a memory
   * limit counts) and its working set (usage less inactive file pages, as the kubelet reports it).
   * Read on this host (/proc and the cgroup mounts) when the engine runs here, so nothing runs in
   * the container; else through {@link Started.node}.
   */
  memory(): ServerMemory;
  stop(): void;
}

/** In-container paths of the counters {@link Started.memory} reads: /proc/1 and cgroup v2 or v1. */
const MEMORY_FILES = [
  ["/proc/1/status"],
  ["/sys/fs/cgroup/memory.current", "/sys/fs/cgroup/memory/memory.usage_in_bytes"],
  ["/sys/fs/cgroup/memory.stat", "/sys/fs/cgroup/memory/memory.stat"],
] as const;

/** `docker <args>`'s stdout, trimmed; throws with its stderr when it fails. */
export function docker(...args: string[]): string {
  const r = spawnSync("docker", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`docker ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * Runs `image` as the Deployment runs the server: UID 10001, read-only root with a /tmp tmpfs, all
 * capabilities dropped, no-new-privileges, `memory` limit and `cpus`; ports 8080 (the API) and
 * 8081 (the admin listener) published on 127.0.0.1. Resolves once the admin's /readyz answers 200
 * (rejects after `readySeconds` with the logs).
 */
export async function runContainer(
  image: string,
  opts: {
    memory?: string;
    cpus?: string;
    env?: Record<string, string>;
    readySeconds?: number;
  } = {},
): Promise<Started> {
  const id = docker(
    "run",
    "-d",
    "--read-only",
    "--tmpfs",
    "/tmp",
    "--user",
    "10001:10001",
    "--cap-drop",
    "ALL",
    "--security-opt",
    "no-new-privileges",
    "--memory",
    opts.memory ?? "2g",
    "--cpus",
    opts.cpus ?? "2",
    ...Object.entries(opts.env ?? {}).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
    "-p",
    "127.0.0.1::8080",
    "-p",
    "127.0.0.1::8081",
    image,
  );
  const stop = () => {
    spawnSync("docker", ["rm", "-f", id], { stdio: "ignore" });
  };
  const published = (containerPort: number) =>
    `http://127.0.0.1:${docker("port", id, `${containerPort}/tcp`).split("\n")[0]?.split(":").pop()}`;
  const url = published(8080);
  const adminUrl = published(8081);
  const deadline = Date.now() + (opts.readySeconds ?? 120) * 1000;
  for (;;) {
    const status = await fetch(`${adminUrl}/readyz`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) break;
    const running = docker("inspect", "-f", "{{.State.Running}}", id) === "true";
    if (!running || Date.now() > deadline) {
      const logs = spawnSync("docker", ["logs", "--tail", "40", id], { encoding: "utf8" });
      stop();
      throw new Error(
        `${image} never became ready (running: ${running}):\n${logs.stdout}${logs.stderr}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const exec = (...cmd: string[]) => docker("exec", id, ...cmd);
  const node = (script: string) => exec("node", "-e", script);
  const pid = hostPid(id, Number(docker("inspect", "-f", "{{.State.Pid}}", id)));
  return {
    id,
    url,
    adminUrl,
    ...(pid !== undefined ? { pid } : {}),
    exec,
    node,
    memory() {
      const onHost = pid === undefined ? undefined : hostMemory(pid);
      if (onHost) return onHost;
      const [status, usage, stat] = JSON.parse(node(firstReadableScript(MEMORY_FILES))) as (
        | string
        | null
      )[];
      return serverMemory(
        (statusKB(status ?? "", "VmRSS") ?? Number.NaN) * 1024,
        usage ?? "NaN",
        stat ?? "",
      );
    },
    stop,
  };
}

/** Paths whose size {@link imageBytes} reports: where an image's bytes go. */
export const SIZE_PATHS = [
  "/usr/local/bin/node",
  "/usr/local/include",
  "/usr/local/lib/node_modules",
  "/usr/lib",
  "/usr/share",
  "/etc",
  "/app/node_modules",
  "/app/node_modules/@tensorflow/tfjs-node/deps/lib",
  "/app/node_modules/@tensorflow",
  "/app/node_modules/@img",
  "/app/dist",
  "/app/model",
];

/**
 * A `node -e` program printing `<bytes> <path>` for each path: the apparent size of its files (a
 * file with several hard links under one path counted once; symlinks not followed), 0 if absent.
 * Node, not du: the runtime image has no shell and no coreutils.
 */
export function sizeScript(paths: readonly string[]): string {
  return `const fs=require("fs"),p=require("path");const size=(f,seen)=>{let s;try{s=fs.lstatSync(f)}catch{return 0}if(s.isDirectory()){let t=0;for(const e of fs.readdirSync(f))t+=size(p.join(f,e),seen);return t}if(!s.isFile())return 0;const k=s.dev+":"+s.ino;if(seen.has(k))return 0;seen.add(k);return s.size};for(const f of ${JSON.stringify(paths)})console.log(size(f,new Set())+" "+f)`;
}

/**
 * Bytes of the image (uncompressed, as `docker images` shows) and of each of {@link SIZE_PATHS}
 * (apparent sizes, from a container of the image running {@link sizeScript}).
 */
export function imageBytes(image: string): Record<string, number> {
  const out: Record<string, number> = {
    image: Number(docker("image", "inspect", "-f", "{{.Size}}", image)),
  };
  const lines = docker("run", "--rm", "--entrypoint", "node", image, "-e", sizeScript(SIZE_PATHS));
  for (const line of lines.split("\n")) {
    const [bytes, path] = line.trim().split(/\s+/);
    if (bytes && path) out[path] = Number(bytes);
  }
  return out;
}

/**
 * The image as the registry stores it and a node pulls it: pushed to the local registry
 * (localhost:<REGISTRY_PORT>, `npm run cluster -- images`) as food11-size/<tag's name>:<tag's tag>,
 * the sum of its manifest's compressed layers and config, bytes.
 */
export async function compressedBytes(image: string): Promise<number> {
  const registry = `localhost:${clusterVersions().REGISTRY_PORT}`;
  const [name = "image", tag = "latest"] = (image.split("/").pop() ?? image).split(":");
  const repo = `food11-size/${name}`;
  docker("tag", image, `${registry}/${repo}:${tag}`);
  docker("push", "-q", `${registry}/${repo}:${tag}`);
  const res = await fetch(`http://${registry}/v2/${repo}/manifests/${tag}`, {
    headers: { Accept: "application/vnd.docker.distribution.manifest.v2+json" },
  });
  if (!res.ok) throw new Error(`registry ${registry}: manifest of ${repo}:${tag}: ${res.status}`);
  const m = (await res.json()) as { config: { size: number }; layers: { size: number }[] };
  return m.config.size + m.layers.reduce((a, l) => a + l.size, 0);
}
