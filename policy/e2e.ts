/**
 * The policy pack under the real Pulumi engine: `pulumi preview --diff --policy-pack policy` of
 * each strategy stack passes, and a deliberately bad stack (a `:latest` image) is refused by the
 * mandatory policies. Uses the toolchain of scripts/e2e (the CLI built from Go modules, the
 * Kubernetes provider, the Node.js language host, the engine driver) and the program's own
 * renderYamlToDirectory mode, so it needs no cluster and no image build.
 *
 *   npx tsx policy/e2e.ts [--work DIR]
 *
 * Exit: 0 as expected, 1 a check failed, 3 toolchain missing (run scripts/e2e/build.sh).
 *
 * The pack is given as `--policy-pack policy/analyzer` (see that file): the newest Node.js
 * language host the Go module proxy serves (sdk/v3 v3.68.0) answers the RunPlugin call that
 * `--policy-pack policy` needs with "not supported".
 */

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { openStack, ROOT, ToolchainMissing, toolchain } from "../lib/e2e/engine";
import { POLICY_PACK_NAME } from "./policies";

/** The policy pack directory, as given to `--policy-pack`. */
export const POLICY_PACK = join(ROOT, "policy");

/**
 * How the CLI names the pack in its output: its name and, after `@v`, policy/package.json's
 * version (`food11-guardrails@v0.1.0`).
 */
const PACK = `${POLICY_PACK_NAME}@v${packageVersion()}`;

function packageVersion(): string {
  const file = join(POLICY_PACK, "package.json");
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}

/**
 * The pack as an executable analyzer (policy/analyzer): the e2e's language host (v3.68.0) cannot
 * start a pack directory (its RunPlugin is "not supported"), but the CLI executes a policy-pack
 * path that is a file directly.
 */
export const POLICY_PACK_EXECUTABLE = join(POLICY_PACK, "analyzer");

/** A digest-pinned image (the renderer never pulls it). */
const IMAGE = `registry.example.com/food11-classifier@sha256:${"ab".repeat(32)}`;

export interface PolicyPreview {
  stack: string;
  ok: boolean;
  /** The CLI's output (stdout, then the error's text when it failed). */
  output: string;
}

/** The pack's config for local clusters (image-pinned-by-digest advisory). */
export const LOCAL_CONFIG = join(POLICY_PACK, "config", "local.json");

/**
 * `pulumi preview --diff --policy-pack policy` of `stack` in render mode (objects go to YAML files,
 * no cluster), deploying `image` instead of building one; with `local`, also
 * `--policy-pack-config policy/config/local.json`.
 */
export async function previewWithPolicy(
  stack: string,
  work: string,
  image: string,
  local = false,
): Promise<PolicyPreview> {
  toolchain();
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
      policyPacks: [POLICY_PACK_EXECUTABLE],
      ...(local ? { policyPackConfigs: [LOCAL_CONFIG] } : {}),
      onOutput: (o) => {
        output += o;
      },
    });
    return { stack, ok: true, output };
  } catch (err) {
    return { stack, ok: false, output: `${output}\n${err instanceof Error ? err.message : err}` };
  }
}

type Expect = "pass" | "refuse" | "warn";

/**
 * The checks: each stack with a digest-pinned image passes; baseline with `:latest` is refused;
 * baseline with a tag-only image under policy/config/local.json passes with an advisory warning.
 */
const CASES: { stack: string; image: string; local?: boolean; expect: Expect }[] = [
  { stack: "baseline", image: IMAGE, expect: "pass" },
  { stack: "strategy1", image: IMAGE, expect: "pass" },
  { stack: "strategy2", image: IMAGE, expect: "pass" },
  { stack: "baseline", image: "food11-classifier:latest", expect: "refuse" },
  {
    stack: "baseline",
    image: "localhost:5001/food11-classifier:0.1.0",
    local: true,
    expect: "warn",
  },
];

/** The CLI prints each violation as "<pack>@v<version> [<level>] [severity: …]  <policy>  (<type>: <name>)". */
function violated(output: string, level: "mandatory" | "advisory", policy: string): boolean {
  const pack = PACK.replaceAll(".", "\\.");
  return new RegExp(`${pack} \\[${level}\\][^\\n]* ${policy} `).test(output);
}

/** Why a preview's result is not what the case expects, or undefined when it is. */
export function judge(r: PolicyPreview, expect: Expect): string | undefined {
  if (!r.output.includes(POLICY_PACK_NAME)) return "the policy pack did not run";
  if (!r.output.includes("kubernetes:apps/v1:Deployment")) return "no Deployment in the preview";
  if (expect === "pass") {
    if (!r.ok) return "refused";
    if (r.output.includes(`${PACK} [`)) return "a policy violation was reported";
    return undefined;
  }
  if (expect === "warn") {
    if (!r.ok) return "refused";
    if (!violated(r.output, "advisory", "image-pinned-by-digest")) {
      return "no advisory image-pinned-by-digest warning";
    }
    if (r.output.includes(`${PACK} [mandatory]`)) return "a mandatory violation";
    return undefined;
  }
  if (r.ok) return "not refused";
  for (const policy of ["image-not-latest", "image-pinned-by-digest"]) {
    if (!violated(r.output, "mandatory", policy)) return `no mandatory ${policy} violation`;
  }
  return undefined;
}

async function main(argv: string[]): Promise<number> {
  const values = new Command("policy-e2e")
    .description(
      "pulumi preview with the policy pack on each case; a case alone with --stack, --image, --work and --result.",
    )
    .option("--work <dir>", "work folder (default: a temporary one, removed after)")
    .option("--stack <name>", "one case: the stack")
    .option("--image <ref>", "one case: the image reference")
    .option("--result <file>", "one case: where its result JSON goes")
    .option("--local", "one case: with the policy pack's local.json")
    .parse(argv, { from: "user" })
    .opts<{ work?: string; stack?: string; image?: string; result?: string; local?: boolean }>();
  try {
    toolchain();
  } catch (err) {
    if (err instanceof ToolchainMissing) {
      console.error(err.message);
      return 3;
    }
    throw err;
  }
  // One preview per process: the inline program is a module, evaluated once per process.
  if (values.stack && values.image && values.work && values.result) {
    const r = await previewWithPolicy(values.stack, values.work, values.image, values.local);
    writeFileSync(values.result, JSON.stringify(r));
    return 0;
  }
  const work = values.work ?? mkdtempSync(join(tmpdir(), "food11-policy-e2e-"));
  let passed = 0;
  let failed = 0;
  try {
    for (const [i, c] of CASES.entries()) {
      const caseWork = join(work, `case${i}`);
      mkdirSync(caseWork, { recursive: true });
      const result = join(caseWork, "result.json");
      const args = ["--stack", c.stack, "--image", c.image, "--work", caseWork, "--result", result];
      if (c.local) args.push("--local");
      execFileSync(process.execPath, [...process.execArgv, __filename, ...args], {
        stdio: ["ignore", "inherit", "inherit"],
      });
      const r = JSON.parse(readFileSync(result, "utf8")) as PolicyPreview;
      const problem = judge(r, c.expect);
      const label = `pulumi preview --policy-pack${c.local ? " (local.json)" : ""} ${c.stack} with ${c.image}`;
      if (problem === undefined) {
        passed++;
        const outcome = {
          pass: "passed",
          refuse: "refused",
          warn: "passed with an advisory warning",
        };
        console.log(`ok: ${label}: ${outcome[c.expect]}`);
      } else {
        failed++;
        console.log(`FAILED: ${label}: ${problem}\n${r.output}`);
      }
    }
  } finally {
    if (!values.work) rmSync(work, { recursive: true, force: true });
  }
  console.log(`policy e2e: ${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
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
