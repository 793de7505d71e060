/**
 * The engine CLI (library: lib/e2e/engine.ts). Drive the real Pulumi engine (the CLI built by scripts/e2e/build.sh) over this project's
 * program, with a local file backend, a passphrase secrets provider and the locally built
 * Kubernetes provider installed as a plugin. No cloud, no plugin downloads.
 *
 * Each operation is the CLI command a user runs (`pulumi up --yes`, `pulumi preview --diff`,
 * `pulumi destroy --yes`, `--stack S`) in a project directory: the CLI starts the Node.js
 * language host `pulumi-language-nodejs` (built from sdk/v3 v3.68.0, installed beside the CLI),
 * which runs `@pulumi/pulumi`'s `cmd/run` on the repo's index.ts. Nothing runs in this process.
 *
 *   tsx scripts/e2e/engine.ts <up|preview|destroy|outputs> --stack S --work DIR
 *        [--config key=value]... [--config-file Pulumi.<other>.yaml] [--result FILE.json]
 *   tsx scripts/e2e/engine.ts render <stack> [--out DIR] [--config k=v]...   (npm run render -- <stack>)
 *
 * Env: FOOD11_E2E_CACHE (toolchain cache), KUBECONFIG (the cluster for up/preview/destroy).
 * Exit: 0 ok, 1 operation failed, 2 usage, 77 toolchain missing (run scripts/e2e/build.sh).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { Command, CommanderError } from "commander";
import { operate, ROOT, render, ToolchainMissing } from "../../lib/e2e/engine";
import { collect } from "../../tools/strategy-bench/src/flags";

interface Flags {
  stack?: string;
  work?: string;
  config?: string[];
  configFile?: string;
  result?: string;
  out?: string;
}

async function main(argv: string[]): Promise<number> {
  const program = new Command("engine.ts")
    .description("Pulumi's engine on a stack: up, preview, destroy, outputs, or render to YAML.")
    .argument("<op>", "up, preview, destroy, outputs or render")
    .argument("[stack]", "render: the stack (or --stack)")
    .option("--stack <name>", "the stack")
    .option("--work <dir>", "the operation's work folder (its Pulumi state)")
    .option("--config <key=value>", "a config value (repeatable)", collect)
    .option("--config-file <file>", "a config file")
    .option("--result <file>", "where the operation's result JSON goes")
    .option("--out <dir>", "render: the YAML's folder (default render/<stack>)")
    .exitOverride();
  try {
    program.parse(argv, { from: "user" });
  } catch (err) {
    // commander printed the message (or the help); a usage error exits 2.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  const values = program.opts<Flags>();
  const [op, positionalStack] = program.args;
  const usage =
    "usage: engine.ts <up|preview|destroy|outputs> --stack S --work DIR [--config k=v]... [--config-file F] [--result F]\n       engine.ts render <stack> [--out DIR] [--config k=v]...";
  try {
    const config: Record<string, string> = {};
    for (const kv of values.config ?? []) {
      const i = kv.indexOf("=");
      if (i <= 0) {
        process.stderr.write(`bad --config ${kv} (want key=value)\n`);
        return 2;
      }
      config[kv.slice(0, i)] = kv.slice(i + 1);
    }
    if (op === "render") {
      const stack = positionalStack ?? values.stack;
      if (!stack) {
        process.stderr.write(`${usage}\n`);
        return 2;
      }
      const outDir = values.out ?? join(ROOT, "render", stack);
      const { files, result } = await render(stack, outDir, config);
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
    const result = await operate(op, {
      stack: values.stack,
      work: resolve(values.work),
      config,
      configFile: values.configFile ? resolve(values.configFile) : undefined,
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
