/**
 * Drive the real Pulumi engine (the CLI built by scripts/e2e/build.sh) over this project's
 * program, with a local file backend, a passphrase secrets provider and the locally built
 * Kubernetes provider installed as a plugin. No cloud, no plugin downloads.
 *
 * The program runs in this process through the Automation API's inline-program language server
 * (`pulumi up --client=...`): the Node.js language host `pulumi-language-nodejs` is a Go module
 * that the Go module proxy reachable here does not serve, so it cannot be built (docs/e2e.md).
 * Everything else is the real thing: the CLI and its engine, the provider, the program's code.
 * One operation per process, so the program module is evaluated fresh each time.
 *
 *   tsx scripts/e2e/engine.ts <up|preview|destroy|outputs> --stack S --work DIR
 *        [--config key=value]... [--config-file Pulumi.<other>.yaml] [--result FILE.json]
 *   tsx scripts/e2e/engine.ts render <stack> [--out DIR]      (npm run render -- <stack>)
 *
 * Env: FOOD11_E2E_CACHE (toolchain cache), KUBECONFIG (the cluster for up/preview/destroy).
 * Exit: 0 ok, 1 operation failed, 2 usage, 77 toolchain missing (run scripts/e2e/build.sh).
 */
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  type EngineEvent,
  LocalWorkspace,
  type OutputMap,
  PulumiCommand,
  type Stack,
} from "@pulumi/pulumi/automation";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";

/** Repository root (this file is scripts/e2e/engine.ts). */
export const ROOT = resolve(__dirname, "..", "..");

/** Versions of the toolchain: keep in step with scripts/e2e/versions.sh. */
export function toolchainVersions(): Record<string, string> {
  const text = readFileSync(join(__dirname, "versions.sh"), "utf8");
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^([A-Z0-9_]+)="\$\{\1:-([^}]*)\}"$/gm)) {
    const [, key, def] = m;
    if (key && def !== undefined) out[key] = process.env[key] ?? def;
  }
  return out;
}

export class ToolchainMissing extends Error {}

export interface Toolchain {
  cache: string;
  pulumiRoot: string;
  pulumiBinary: string;
  providerBinary: string;
  providerVersion: string;
  pulumiHome: string;
}

/** Locate the binaries built by scripts/e2e/build.sh; throws ToolchainMissing if absent. */
export function toolchain(): Toolchain {
  const v = toolchainVersions();
  const cache = process.env.FOOD11_E2E_CACHE ?? join(homedir(), ".cache", "food11-e2e");
  const pulumiRoot = join(cache, `pulumi-${v.PULUMI_VERSION}`);
  const providerVersion = v.K8S_PROVIDER_PLUGIN_VERSION ?? "";
  const t: Toolchain = {
    cache,
    pulumiRoot,
    pulumiBinary: join(pulumiRoot, "bin", "pulumi"),
    providerBinary: join(cache, `provider-${providerVersion}`, "bin", "pulumi-resource-kubernetes"),
    providerVersion,
    // Keyed by the provider build, so a rebuilt provider is installed anew.
    pulumiHome: join(cache, `pulumi-home-${v.K8S_PROVIDER_MODULE_VERSION}-${providerVersion}`),
  };
  for (const f of [t.pulumiBinary, t.providerBinary]) {
    if (!existsSync(f))
      throw new ToolchainMissing(`e2e: ${f} is missing: run scripts/e2e/build.sh`);
  }
  return t;
}

/** Install the locally built provider as plugin `resource kubernetes v<version>` (once). */
export function ensureProviderPlugin(t: Toolchain): void {
  const dir = join(t.pulumiHome, "plugins", `resource-kubernetes-v${t.providerVersion}`);
  if (existsSync(join(dir, "pulumi-resource-kubernetes"))) return;
  mkdirSync(t.pulumiHome, { recursive: true });
  execFileSync(
    t.pulumiBinary,
    [
      "plugin",
      "install",
      "resource",
      "kubernetes",
      `v${t.providerVersion}`,
      "-f",
      t.providerBinary,
    ],
    {
      env: { ...process.env, PULUMI_HOME: t.pulumiHome, PULUMI_SKIP_UPDATE_CHECK: "true" },
      stdio: "inherit",
    },
  );
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

function projectName(): string {
  const project = parseYaml(readFileSync(join(ROOT, "Pulumi.yaml"), "utf8")) as { name?: string };
  if (!project.name) throw new Error("e2e: Pulumi.yaml has no name");
  return project.name;
}

/** The program as an inline Automation API program: evaluates index.ts and returns its exports. */
async function program(): Promise<OutputMap | Record<string, unknown>> {
  const mod = require(join(ROOT, "index.ts")) as Record<string, unknown>;
  if (typeof mod.default === "function") {
    const out = await (mod.default as () => unknown)();
    return (out ?? {}) as Record<string, unknown>;
  }
  const { default: _d, ...exports } = mod;
  return exports;
}

/**
 * Open (or create) a stack in a local file backend under `work`, on a copy of the project file
 * and the stack file, so the tracked files are never written (the CLI adds an encryption salt).
 */
export async function openStack(o: StackOptions): Promise<Stack> {
  const t = toolchain();
  ensureProviderPlugin(t);
  const projectDir = join(o.work, "project");
  const stateDir = join(o.work, "state");
  mkdirSync(projectDir, { recursive: true });
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(join(projectDir, "Pulumi.yaml"), readFileSync(join(ROOT, "Pulumi.yaml")));
  const stackFile = join(projectDir, `Pulumi.${o.stack}.yaml`);
  const source = o.configFile ?? join(ROOT, `Pulumi.${o.stack}.yaml`);
  // Keep the salt of an existing copy (it encrypts this stack's secrets), take config from source.
  const previous = existsSync(stackFile)
    ? ((parseYaml(readFileSync(stackFile, "utf8")) ?? {}) as Record<string, unknown>)
    : {};
  const wanted = existsSync(source)
    ? ((parseYaml(readFileSync(source, "utf8")) ?? {}) as Record<string, unknown>)
    : {};
  const merged: Record<string, unknown> = { ...wanted };
  if (previous.encryptionsalt) merged.encryptionsalt = previous.encryptionsalt;
  else delete merged.encryptionsalt;
  writeFileSync(stackFile, stringifyYaml(merged));

  const envVars: Record<string, string> = {
    PULUMI_HOME: t.pulumiHome,
    PULUMI_BACKEND_URL: `file://${stateDir}`,
    PULUMI_CONFIG_PASSPHRASE: E2E_PASSPHRASE,
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_SKIP_CONFIRMATIONS: "true",
    PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
  };
  if (o.kubeconfig) envVars.KUBECONFIG = o.kubeconfig;
  const pulumiCommand = await PulumiCommand.get({ root: t.pulumiRoot, skipVersionCheck: true });
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: o.stack, projectName: projectName(), program },
    { workDir: projectDir, pulumiCommand, envVars, secretsProvider: "passphrase" },
  );
  for (const [k, v] of Object.entries(o.config ?? {})) {
    await stack.setConfig(k.includes(":") ? k : `${projectName()}:${k}`, { value: v });
  }
  return stack;
}

/** Per resource (by URN): the step's op and its detailed diff property paths (preview/up). */
export interface StepDiff {
  urn: string;
  type: string;
  op: string;
  diffs: string[];
  detailedDiff: Record<string, string>;
}

function collectSteps(into: StepDiff[]): (e: EngineEvent) => void {
  return (e) => {
    const m = e.resourcePreEvent?.metadata;
    if (!m) return;
    const detailed: Record<string, string> = {};
    for (const [k, d] of Object.entries(m.detailedDiff ?? {})) detailed[k] = d.diffKind;
    into.push({ urn: m.urn, type: m.type, op: m.op, diffs: m.diffs ?? [], detailedDiff: detailed });
  };
}

export interface OperationResult {
  op: string;
  stack: string;
  ok: boolean;
  summary?: Record<string, number>;
  outputs?: Record<string, unknown>;
  steps: StepDiff[];
  stdout: string;
  error?: string;
}

export async function operate(
  op: "up" | "preview" | "destroy" | "outputs",
  o: StackOptions,
  log: (s: string) => void = (s) => process.stderr.write(s),
  diff = true,
): Promise<OperationResult> {
  const stack = await openStack(o);
  const steps: StepDiff[] = [];
  const res: OperationResult = { op, stack: o.stack, ok: false, steps, stdout: "" };
  const onOutput = (s: string) => {
    res.stdout += s;
    log(s);
  };
  try {
    if (op === "up") {
      const r = await stack.up({
        onOutput,
        onEvent: collectSteps(steps),
        color: "never",
        diff,
      });
      res.summary = r.summary.resourceChanges as Record<string, number>;
      res.outputs = Object.fromEntries(Object.entries(r.outputs).map(([k, v]) => [k, v.value]));
    } else if (op === "preview") {
      const r = await stack.preview({
        onOutput,
        onEvent: collectSteps(steps),
        color: "never",
        diff,
      });
      res.summary = r.changeSummary as Record<string, number>;
    } else if (op === "destroy") {
      const r = await stack.destroy({ onOutput, color: "never" });
      res.summary = r.summary.resourceChanges as Record<string, number>;
    } else {
      const out = await stack.outputs();
      res.outputs = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.value]));
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
 * the program's renderYamlToDirectory config set, so the provider writes files, not objects.
 */
export async function render(
  stackName: string,
  outDir: string,
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
        config: { [RENDER_KEY]: out },
      },
      undefined,
      false,
    );
    return { files: listFiles(out), result };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      stack: { type: "string" },
      work: { type: "string" },
      config: { type: "string", multiple: true },
      "config-file": { type: "string" },
      result: { type: "string" },
      out: { type: "string" },
    },
  });
  const [op, positionalStack] = positionals;
  const usage =
    "usage: engine.ts <up|preview|destroy|outputs> --stack S --work DIR [--config k=v]... [--config-file F] [--result F]\n       engine.ts render <stack> [--out DIR]";
  try {
    if (op === "render") {
      const stack = positionalStack ?? values.stack;
      if (!stack) {
        process.stderr.write(`${usage}\n`);
        return 2;
      }
      const outDir = values.out ?? join(ROOT, "render", stack);
      const { files, result } = await render(stack, outDir);
      if (values.result)
        writeFileSync(values.result, JSON.stringify({ ...result, files }, null, 2));
      if (!result.ok) {
        process.stderr.write(`render: pulumi up failed: ${result.error}\n`);
        return 1;
      }
      process.stdout.write(`render: ${files.length} file(s) in ${outDir}\n`);
      for (const f of files) process.stdout.write(`  ${f}\n`);
      return files.length > 0 ? 0 : 1;
    }
    if (op !== "up" && op !== "preview" && op !== "destroy" && op !== "outputs") {
      process.stderr.write(`${usage}\n`);
      return 2;
    }
    if (!values.stack || !values.work) {
      process.stderr.write(`${usage}\n`);
      return 2;
    }
    const config: Record<string, string> = {};
    for (const kv of values.config ?? []) {
      const i = kv.indexOf("=");
      if (i <= 0) {
        process.stderr.write(`bad --config ${kv} (want key=value)\n`);
        return 2;
      }
      config[kv.slice(0, i)] = kv.slice(i + 1);
    }
    const result = await operate(op, {
      stack: values.stack,
      work: resolve(values.work),
      config,
      configFile: values["config-file"] ? resolve(values["config-file"]) : undefined,
      kubeconfig: process.env.KUBECONFIG,
    });
    if (values.result) {
      mkdirSync(dirname(resolve(values.result)), { recursive: true });
      writeFileSync(values.result, JSON.stringify(result, null, 2));
    }
    if (!result.ok) process.stderr.write(`\n${op} ${values.stack} failed: ${result.error}\n`);
    return result.ok ? 0 : 1;
  } catch (err) {
    if (err instanceof ToolchainMissing) {
      process.stderr.write(`${err.message}\n`);
      return 77;
    }
    throw err;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
