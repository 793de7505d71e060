/**
 * Docker for the image suite: a BuildKit build of a context (the Dockerfile's libtensorflow
 * stages need BuildKit: only the selected one is built) and a container run as the Deployment
 * runs the server, published on loopback only.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { CLUSTER_BUILD_CA, clusterBaseImage } from "../cluster/stack";

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
  url: string;
  exec(...cmd: string[]): string;
  /** The server's memory: VmRSS of PID 1 and the container's cgroup usage, bytes. */
  memory(): { rssBytes: number; cgroupBytes: number };
  stop(): void;
}

/** `docker <args>`'s stdout, trimmed; throws with its stderr when it fails. */
export function docker(...args: string[]): string {
  const r = spawnSync("docker", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`docker ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * Runs `image` as the Deployment runs the server: UID 10001, read-only root with a /tmp tmpfs, all
 * capabilities dropped, no-new-privileges, `memory` limit and `cpus`; port 8080 published on
 * 127.0.0.1. Resolves once /readyz answers 200 (rejects after `readySeconds` with the logs).
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
    image,
  );
  const stop = () => {
    spawnSync("docker", ["rm", "-f", id], { stdio: "ignore" });
  };
  const port = docker("port", id, "8080/tcp").split("\n")[0]?.split(":").pop();
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.readySeconds ?? 120) * 1000;
  for (;;) {
    const status = await fetch(`${url}/readyz`).then(
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
    await new Promise((r) => setTimeout(r, 250));
  }
  const exec = (...cmd: string[]) => docker("exec", id, ...cmd);
  return {
    id,
    url,
    exec,
    memory() {
      const rssKb = Number(/VmRSS:\s+(\d+)/.exec(exec("cat", "/proc/1/status"))?.[1] ?? Number.NaN);
      const cg = exec(
        "sh",
        "-c",
        "cat /sys/fs/cgroup/memory.current 2>/dev/null || cat /sys/fs/cgroup/memory/memory.usage_in_bytes",
      );
      return { rssBytes: rssKb * 1024, cgroupBytes: Number(cg) };
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
  "/app/node_modules",
  "/app/node_modules/@tensorflow/tfjs-node/deps/lib",
  "/app/node_modules/@tensorflow",
  "/app/node_modules/@img",
  "/app/model",
];

/** Bytes of the image (uncompressed, as `docker images` shows) and of each of {@link SIZE_PATHS}. */
export function imageBytes(image: string): Record<string, number> {
  const out: Record<string, number> = {
    image: Number(docker("image", "inspect", "-f", "{{.Size}}", image)),
  };
  // one du per path: du counts a directory once, so nested paths in one call would read 0
  const script = SIZE_PATHS.map((p) => `du -sk ${p} 2>/dev/null || true`).join("; ");
  for (const line of docker("run", "--rm", "--entrypoint", "sh", image, "-c", script).split("\n")) {
    const [kb, path] = line.trim().split(/\s+/);
    if (kb && path) out[path] = Number(kb) * 1024;
  }
  return out;
}
