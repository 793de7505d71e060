/**
 * The policy pack under the real Pulumi engine: `pulumi preview --diff --policy-pack policy` of
 * each strategy stack passes, and a deliberately bad stack (a `:latest` image) is refused by the
 * mandatory policies. Uses the toolchain of scripts/e2e (the CLI built from Go modules, the
 * Kubernetes provider, the inline-program engine driver) and the program's own
 * renderYamlToDirectory mode, so it needs no cluster and no image build.
 *
 *   npx tsx policy/e2e.ts [--work DIR]
 *
 * Exit: 0 as expected, 1 a check failed, 3 toolchain missing (run scripts/e2e/build.sh).
 *
 * The CLI starts a Node.js policy pack through the analyzer plugin `pulumi-analyzer-policy`, which
 * the Pulumi distribution ships beside the `pulumi` binary but a CLI built from Go modules lacks:
 * ensurePolicyAnalyzer() installs an equivalent script as plugin `analyzer policy` into the
 * toolchain's PULUMI_HOME (the e2e sets PULUMI_IGNORE_AMBIENT_PLUGINS, so $PATH is not searched).
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import {
  openStack,
  ROOT,
  type Toolchain,
  ToolchainMissing,
  toolchain,
  toolchainVersions,
} from "../scripts/e2e/engine";

/** The policy pack directory, as given to `--policy-pack`. */
export const POLICY_PACK = join(ROOT, "policy");

/**
 * What the Pulumi distribution's `pulumi-analyzer-policy` does: run @pulumi/pulumi's policy-pack
 * runner with node, resolved from the pack's directory (the CLI starts it there, with the
 * arguments `<engine address> .`).
 */
export const ANALYZER_SCRIPT = `#!/bin/sh
# pulumi-analyzer-policy: starts a Node.js policy pack (run by the Pulumi CLI in the pack's directory).
set -e
run_policy_pack=$(node -e "process.stdout.write(require.resolve('@pulumi/pulumi/cmd/run-policy-pack'))")
exec node "$run_policy_pack" "$@"
`;

/** Installs ANALYZER_SCRIPT as plugin `analyzer policy` into the toolchain's PULUMI_HOME (once). */
export function ensurePolicyAnalyzer(t: Toolchain): void {
  const version = (toolchainVersions().PULUMI_VERSION ?? "v3.0.0").replace(/^v?/, "v");
  const installed = join(t.pulumiHome, "plugins", `analyzer-policy-${version}`);
  const target = join(installed, "pulumi-analyzer-policy");
  try {
    if (readFileSync(target, "utf8") === ANALYZER_SCRIPT) return;
  } catch {
    // not installed yet
  }
  const dir = join(t.cache, "policy-analyzer");
  mkdirSync(dir, { recursive: true });
  const script = join(dir, "pulumi-analyzer-policy");
  writeFileSync(script, ANALYZER_SCRIPT);
  chmodSync(script, 0o755);
  execFileSync(
    t.pulumiBinary,
    ["plugin", "install", "analyzer", "policy", version, "-f", script, "--reinstall"],
    {
      env: { ...process.env, PULUMI_HOME: t.pulumiHome, PULUMI_SKIP_UPDATE_CHECK: "true" },
      stdio: "inherit",
    },
  );
}

/** A digest-pinned image (the renderer never pulls it). */
const IMAGE = `registry.example.com/food11-classifier@sha256:${"ab".repeat(32)}`;

export interface PolicyPreview {
  stack: string;
  ok: boolean;
  /** The CLI's output (stdout, then the error's text when it failed). */
  output: string;
}

/**
 * `pulumi preview --diff --policy-pack policy` of `stack` in render mode (objects go to YAML files,
 * no cluster), deploying `image` instead of building one.
 */
export async function previewWithPolicy(
  stack: string,
  work: string,
  image: string,
): Promise<PolicyPreview> {
  const t = toolchain();
  ensurePolicyAnalyzer(t);
  // The stack's committed config, switched from "build and push" to a prebuilt image.
  const committed = (parseYaml(readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) ?? {}) as {
    config?: Record<string, unknown>;
  };
  const config = { ...(committed.config ?? {}) };
  delete config["food11:imageRepository"];
  delete config["food11:imageRegistry"];
  const stackWork = join(work, stack);
  mkdirSync(stackWork, { recursive: true });
  const configFile = join(stackWork, `Pulumi.${stack}.policy.yaml`);
  writeFileSync(configFile, stringifyYaml({ config }));
  const s = await openStack({
    stack,
    work: stackWork,
    configFile,
    config: { imageRef: image, renderYamlToDirectory: join(stackWork, "render") },
    kubeconfig: join(stackWork, "no-kubeconfig"),
  });
  let output = "";
  try {
    await s.preview({
      diff: true,
      color: "never",
      policyPacks: [POLICY_PACK],
      onOutput: (o) => {
        output += o;
      },
    });
    return { stack, ok: true, output };
  } catch (err) {
    return { stack, ok: false, output: `${output}\n${err instanceof Error ? err.message : err}` };
  }
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { work: { type: "string" } } });
  const work = values.work ?? mkdtempSync(join(tmpdir(), "food11-policy-e2e-"));
  const failures: string[] = [];
  try {
    for (const stack of ["baseline", "strategy1", "strategy2"]) {
      const r = await previewWithPolicy(stack, work, IMAGE);
      const mandatory = r.output.match(/mandatory/g)?.length ?? 0;
      console.log(`preview ${stack} (digest image): ${r.ok ? "passed" : "REFUSED"}`);
      if (!r.ok || mandatory > 0) failures.push(`${stack} should pass:\n${r.output}`);
    }
    const bad = await previewWithPolicy("baseline", join(work, "bad"), "food11-classifier:latest");
    const named = ["image-not-latest", "image-pinned-by-digest"].filter((p) =>
      bad.output.includes(p),
    );
    console.log(
      `preview baseline with food11-classifier:latest: ${bad.ok ? "PASSED" : "refused"} (${named.join(", ")})`,
    );
    if (bad.ok || named.length !== 2 || !bad.output.includes("mandatory")) {
      failures.push(
        `the :latest stack should be refused by the mandatory image policies:\n${bad.output}`,
      );
    }
  } catch (err) {
    if (err instanceof ToolchainMissing) {
      console.error(err.message);
      return 3;
    }
    throw err;
  } finally {
    if (!values.work) rmSync(work, { recursive: true, force: true });
  }
  for (const f of failures) console.error(`\nFAILED: ${f}`);
  console.log(
    failures.length === 0
      ? "policy e2e: 4 passed, 0 failed"
      : `policy e2e: ${4 - failures.length} passed, ${failures.length} failed`,
  );
  return failures.length === 0 ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
      process.exit(1);
    },
  );
}
