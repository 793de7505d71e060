/**
 * Drive the real Pulumi engine (the CLI built by scripts/e2e/build.sh) over this project's
 * program, with a local file backend, a passphrase secrets provider and the locally built
 * Kubernetes provider installed as a plugin. No cloud, no plugin downloads.
 *
 * Each operation is the CLI command a user runs (`pulumi up --yes`, `pulumi preview --diff`,
 * `pulumi destroy --yes`, `--stack S`) in a project directory: the CLI starts the Node.js
 * language host `pulumi-language-nodejs` (built from sdk/v3 v3.68.0, installed beside the CLI),
 * which runs `@pulumi/pulumi`'s `cmd/run` on the repo's index.ts. Nothing runs in this process.
 *
 * Its command line is scripts/e2e/engine.ts (`npm run render -- <stack>`, the e2e suites).
 *
 * Env: FOOD11_E2E_CACHE (toolchain cache), KUBECONFIG (the cluster for up/preview/destroy).
 * Exit: 0 ok, 1 operation failed, 2 usage, 77 toolchain missing (run scripts/e2e/build.sh).
 */
import { execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { e2eCacheDir } from "./cache";
import { shellDefaults } from "./shell-defaults";

/** Repository root (this file is lib/e2e/engine.ts). */
export const ROOT = resolve(__dirname, "..", "..");

/** Versions of the toolchain: scripts/e2e/versions.sh. */
export function toolchainVersions(): Record<string, string> {
  return shellDefaults(join(ROOT, "scripts", "e2e", "versions.sh"));
}

export class ToolchainMissing extends Error {}

export interface Toolchain {
  cache: string;
  pulumiRoot: string;
  pulumiBinary: string;
  languageHostBinary: string;
  providerBinary: string;
  providerVersion: string;
  /** The Docker provider (scripts/e2e/build.sh docker-provider), when built: `docker.Image` needs it. */
  dockerProviderBinary?: string;
  dockerProviderVersion: string;
  pulumiHome: string;
}

/** Locate the binaries built by scripts/e2e/build.sh; throws ToolchainMissing if absent. */
export function toolchain(): Toolchain {
  const v = toolchainVersions();
  const cache = e2eCacheDir();
  const pulumiRoot = join(cache, `pulumi-${v.PULUMI_VERSION}`);
  const providerVersion = v.K8S_PROVIDER_PLUGIN_VERSION ?? "";
  const t: Toolchain = {
    cache,
    pulumiRoot,
    pulumiBinary: join(pulumiRoot, "bin", "pulumi"),
    languageHostBinary: join(pulumiRoot, "bin", "pulumi-language-nodejs"),
    providerBinary: join(cache, `provider-${providerVersion}`, "bin", "pulumi-resource-kubernetes"),
    providerVersion,
    dockerProviderVersion: v.DOCKER_PROVIDER_PLUGIN_VERSION ?? "",
    // Keyed by the provider build, so a rebuilt provider is installed anew.
    pulumiHome: join(cache, `pulumi-home-${v.K8S_PROVIDER_MODULE_VERSION}-${providerVersion}`),
  };
  for (const f of [t.pulumiBinary, t.languageHostBinary, t.providerBinary]) {
    if (!existsSync(f))
      throw new ToolchainMissing(`e2e: ${f} is missing: run scripts/e2e/build.sh`);
  }
  const docker = join(
    cache,
    `docker-provider-${t.dockerProviderVersion}`,
    "bin",
    "pulumi-resource-docker",
  );
  if (existsSync(docker)) t.dockerProviderBinary = docker;
  return t;
}

/** Install a locally built provider binary as plugin `resource <name> v<version>` (once). */
function installPlugin(t: Toolchain, name: string, version: string, binary: string): void {
  const dir = join(t.pulumiHome, "plugins", `resource-${name}-v${version}`);
  if (existsSync(join(dir, `pulumi-resource-${name}`))) return;
  mkdirSync(t.pulumiHome, { recursive: true });
  execFileSync(
    t.pulumiBinary,
    ["plugin", "install", "resource", name, `v${version}`, "-f", binary],
    {
      env: { ...process.env, PULUMI_HOME: t.pulumiHome, PULUMI_SKIP_UPDATE_CHECK: "true" },
      stdio: "inherit",
    },
  );
}

/**
 * Install the locally built providers as plugins (once): `resource kubernetes v<version>`, and
 * `resource docker v<version>` when the Docker provider is built (the version @pulumi/docker asks
 * for; the build is a source snapshot, docs/e2e.md).
 */
export function ensureProviderPlugin(t: Toolchain): void {
  installPlugin(t, "kubernetes", t.providerVersion, t.providerBinary);
  if (t.dockerProviderBinary)
    installPlugin(t, "docker", t.dockerProviderVersion, t.dockerProviderBinary);
}

/** Passphrase of the throwaway local backends (the e2e's and render's): not a secret. */
export const E2E_PASSPHRASE = "food11-e2e-local-backend";

export interface StackOptions {
  stack: string;
  /** Scratch directory: holds the project copy and the file backend. */
  work: string;
  /** Stack file whose config to use (default: the repo's Pulumi.<stack>.yaml). */
  configFile?: string;
  /** Extra config (flat keys; `food11:` is added to keys without a namespace). */
  config?: Record<string, string>;
  kubeconfig?: string;
}

/** A YAML file's top-level mapping: {} for an absent or empty file. */
function readYamlMap(file: string): Record<string, unknown> {
  if (!existsSync(file)) return {};
  return (parseYaml(readFileSync(file, "utf8")) ?? {}) as Record<string, unknown>;
}

/** A prepared project: the CLI's working directory and environment for one stack. */
export interface Project {
  dir: string;
  env: NodeJS.ProcessEnv;
  /** The toolchain it was prepared with (its CLI runs each operation). */
  toolchain: Toolchain;
  stack: string;
}

/** Run the CLI; resolves with its exit code, stdout and stderr (stdout also streamed to log). */
function pulumi(
  p: Project,
  args: string[],
  log: (s: string) => void = () => undefined,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(p.toolchain.pulumiBinary, args, {
      cwd: p.dir,
      env: p.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
      log(d);
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      log(d);
    });
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ code: code ?? 1, stdout, stderr }));
  });
}

/**
 * Prepare a project directory under `work` for the CLI, the way a user's checkout looks but
 * without writing the tracked files: `Pulumi.yaml` (a copy, with `main:` pointing at the
 * repository, so the language host runs the repo's index.ts with its node_modules) and
 * `Pulumi.<stack>.yaml` (the stack's config plus `o.config`; the CLI adds an encryption salt,
 * which is kept across runs). Then `pulumi stack select --create` on a local file backend.
 */
export async function openProject(o: StackOptions): Promise<Project> {
  const t = toolchain();
  ensureProviderPlugin(t);
  const projectDir = join(o.work, "project");
  const stateDir = join(o.work, "state");
  mkdirSync(projectDir, { recursive: true });
  mkdirSync(stateDir, { recursive: true });
  const project = readYamlMap(join(ROOT, "Pulumi.yaml"));
  const projectName = project.name;
  project.main = relative(projectDir, ROOT) || ".";
  writeFileSync(join(projectDir, "Pulumi.yaml"), stringifyYaml(project));
  const stackFile = join(projectDir, `Pulumi.${o.stack}.yaml`);
  const source = o.configFile ?? join(ROOT, `Pulumi.${o.stack}.yaml`);
  // Keep the salt of an existing copy (it encrypts this stack's secrets), take config from source.
  const previous = readYamlMap(stackFile);
  const wanted = readYamlMap(source);
  const merged: Record<string, unknown> = { ...wanted };
  if (previous.encryptionsalt) merged.encryptionsalt = previous.encryptionsalt;
  else delete merged.encryptionsalt;
  const config = { ...((merged.config ?? {}) as Record<string, unknown>) };
  for (const [k, v] of Object.entries(o.config ?? {})) {
    if (k.includes(":")) config[k] = v;
    else if (projectName) config[`${String(projectName)}:${k}`] = v;
    else throw new Error("e2e: Pulumi.yaml has no name");
  }
  merged.config = config;
  writeFileSync(stackFile, stringifyYaml(merged));

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PULUMI_HOME: t.pulumiHome,
    PULUMI_BACKEND_URL: `file://${stateDir}`,
    PULUMI_CONFIG_PASSPHRASE: E2E_PASSPHRASE,
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    // Plugins only from PULUMI_HOME and beside the CLI (the language host is installed there).
    PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_SKIP_CONFIRMATIONS: "true",
    PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
    // Enables the CLI's `--event-log` flag (as the Automation API does).
    PULUMI_DEBUG_COMMANDS: "true",
  };
  delete env.PULUMI_CONFIG_PASSPHRASE_FILE;
  // Without o.kubeconfig, $KUBECONFIG is inherited (render checks it is not used).
  if (o.kubeconfig) env.KUBECONFIG = o.kubeconfig;
  const p: Project = { dir: projectDir, env, toolchain: t, stack: o.stack };
  const sel = await pulumi(p, [
    "stack",
    "select",
    "--create",
    o.stack,
    "--secrets-provider",
    "passphrase",
    "--non-interactive",
  ]);
  if (sel.code !== 0) throw new Error(`pulumi stack select --create ${o.stack}: ${sel.stderr}`);
  return p;
}

/**
 * The same project as an Automation API stack (a LocalWorkspace on the project directory, not an
 * inline program): its operations also run the CLI, which runs index.ts through the language
 * host. For callers that want the Automation API's options (policy/e2e.ts).
 */
export async function openStack(o: StackOptions): Promise<Stack> {
  const p = await openProject(o);
  const envVars: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.env)) {
    if (v !== undefined && (k.startsWith("PULUMI_") || k === "KUBECONFIG")) envVars[k] = v;
  }
  const pulumiCommand = await PulumiCommand.get({
    root: p.toolchain.pulumiRoot,
    skipVersionCheck: true,
  });
  return LocalWorkspace.selectStack(
    { stackName: o.stack, workDir: p.dir },
    { workDir: p.dir, pulumiCommand, envVars },
  );
}

/** Per resource (by URN): the step's op and its detailed diff property paths (preview/up). */
export interface StepDiff {
  urn: string;
  type: string;
  op: string;
  diffs: string[];
  detailedDiff: Record<string, string>;
}

interface EngineEventLine {
  resourcePreEvent?: {
    metadata?: {
      urn: string;
      type: string;
      op: string;
      diffs?: string[];
      detailedDiff?: Record<string, { diffKind: string }>;
    };
  };
  summaryEvent?: { resourceChanges?: Record<string, number> };
}

/** The engine's structured events (`--event-log`, one JSON object per line). */
function readEvents(file: string): EngineEventLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as EngineEventLine);
}

function stepsOf(events: EngineEventLine[]): StepDiff[] {
  const out: StepDiff[] = [];
  for (const e of events) {
    const m = e.resourcePreEvent?.metadata;
    if (!m) continue;
    const detailed: Record<string, string> = {};
    for (const [k, d] of Object.entries(m.detailedDiff ?? {})) detailed[k] = d.diffKind;
    out.push({ urn: m.urn, type: m.type, op: m.op, diffs: m.diffs ?? [], detailedDiff: detailed });
  }
  return out;
}

export interface OperationResult {
  op: string;
  stack: string;
  ok: boolean;
  /** The CLI command line that ran (argv after `pulumi`). */
  command?: string[];
  summary?: Record<string, number>;
  outputs?: Record<string, unknown>;
  steps: StepDiff[];
  stdout: string;
  error?: string;
}

/**
 * One engine operation through the CLI, as a user runs it in the project directory:
 * `pulumi up --yes`, `pulumi preview [--diff]`, `pulumi destroy --yes` (each `--stack S`), then
 * `pulumi stack output --json`. The CLI starts the Node.js language host, which runs
 * `@pulumi/pulumi`'s `cmd/run` on index.ts (TypeScript via the SDK's ts-node). `--event-log`
 * gives the engine's structured events (per-resource op and detailedDiff, and the summary).
 */
export async function operate(
  op: "up" | "preview" | "destroy" | "outputs",
  o: StackOptions,
  log: (s: string) => void = (s) => process.stderr.write(s),
  diff = true,
): Promise<OperationResult> {
  const p = await openProject(o);
  const res: OperationResult = { op, stack: o.stack, ok: false, steps: [], stdout: "" };
  const common = ["--stack", o.stack, "--non-interactive", "--color", "never"];
  try {
    if (op !== "outputs") {
      const eventLog = join(o.work, `events-${op}-${Date.now()}.jsonl`);
      const args =
        op === "up"
          ? ["up", "--yes", ...(diff ? ["--diff"] : [])]
          : op === "preview"
            ? ["preview", ...(diff ? ["--diff"] : [])]
            : ["destroy", "--yes"];
      res.command = [...args, ...common];
      log(`$ pulumi ${res.command.join(" ")}   (in ${p.dir})\n`);
      const r = await pulumi(p, [...args, ...common, "--event-log", eventLog], (s) => {
        res.stdout += s;
        log(s);
      });
      const events = readEvents(eventLog);
      res.steps = stepsOf(events);
      const summaries = events.filter((e) => e.summaryEvent).map((e) => e.summaryEvent);
      res.summary = summaries.at(-1)?.resourceChanges ?? {};
      if (r.code !== 0) {
        res.error = `pulumi ${args[0]} exited ${r.code}: ${r.stderr.trim().split("\n").slice(-10).join("\n")}`;
        return res;
      }
    }
    if (op !== "destroy") {
      const out = await pulumi(p, ["stack", "output", "--json", "--show-secrets", ...common]);
      if (out.code !== 0) {
        res.error = `pulumi stack output exited ${out.code}: ${out.stderr.trim()}`;
        return res;
      }
      res.outputs = JSON.parse(out.stdout || "{}") as Record<string, unknown>;
    }
    res.ok = true;
  } catch (err) {
    res.error = err instanceof Error ? err.message : String(err);
  }
  return res;
}

/** All files under dir, relative, sorted. */
export function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** The config key (without namespace) the program reads for renderYamlToDirectory. */
export const RENDER_KEY = process.env.FOOD11_RENDER_KEY ?? "renderYamlToDirectory";

/**
 * Render a stack's manifests as YAML without a cluster: `pulumi up` on a throwaway backend with
 * the program's renderYamlToDirectory config set, so the provider writes files, not objects;
 * `config` overrides keys of the stack file (e.g. `food11:monitoring: servicemonitor`).
 */
export async function render(
  stackName: string,
  outDir: string,
  config: Record<string, string> = {},
): Promise<{ files: string[]; result: OperationResult }> {
  const out = resolve(outDir);
  rmSync(out, { recursive: true, force: true });
  const work = mkdtempSync(join(tmpdir(), "food11-render-"));
  // No cluster is used, even when $KUBECONFIG names one: the program's render provider sets
  // kubeconfig "" (the e2e renders with KUBECONFIG set and checks nothing reached the cluster).
  try {
    const result = await operate(
      "up",
      {
        stack: stackName,
        work,
        config: { ...config, [RENDER_KEY]: out },
      },
      undefined,
      false,
    );
    return { files: listFiles(out), result };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
