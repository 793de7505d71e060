/**
 * npm run gen:config: writes what stacks/schema.ts declares into the two files that repeat it for
 * their readers: Pulumi.yaml's `config:` block (type, description, default of every key, what
 * `pulumi config` shows) and docs/configuration.md's "Every key" tables. `--check` writes nothing
 * and exits 1 when a committed file differs (npm test checks the same).
 *
 * Each key carries what these files say about it (stacks/keys.ts: its type, default, description
 * and topic), so a new key costs its declaration in the schema and this command.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Command } from "commander";
import { CONFIG_KEYS, configShape } from "../stacks/schema";

export const ROOT = join(__dirname, "..");
export const PULUMI_YAML_PATH = join(ROOT, "Pulumi.yaml");
export const CONFIG_MD_PATH = join(ROOT, "docs", "configuration.md");

function typeOf(value: unknown): "string" | "integer" | "boolean" {
  return typeof value === "number" ? "integer" : typeof value === "boolean" ? "boolean" : "string";
}

/** Pulumi.yaml with its `config:` block (the file's last block) generated. */
export function pulumiYaml(current: string): string {
  const at = current.indexOf("\nconfig:\n");
  if (at < 0) throw new Error("Pulumi.yaml has no top-level config: block");
  const lines = CONFIG_KEYS.flatMap((key) => {
    const { defaultValue: value, doc } = configShape[key];
    const type = typeOf(value);
    return [
      `  food11:${key}:`,
      `    type: ${type}`,
      `    description: ${JSON.stringify(doc)}`,
      `    default: ${type === "string" ? JSON.stringify(value) : String(value)}`,
    ];
  });
  return `${current.slice(0, at)}\nconfig:\n${lines.join("\n")}\n`;
}

const EVERY_KEY = "## Every key";

/** docs/configuration.md with its "Every key" section (the file's last) generated. */
export function configurationMd(current: string): string {
  const at = current.indexOf(`${EVERY_KEY}\n`);
  if (at < 0) throw new Error(`docs/configuration.md has no "${EVERY_KEY}" section`);
  const cell = (text: string) => text.replaceAll("|", "\\|");
  // The topics in the order their first key is declared, each key under its own.
  const titles = [...new Set(CONFIG_KEYS.map((key) => configShape[key].group))];
  const sections = titles.map((title) => {
    const keys = CONFIG_KEYS.filter((key) => configShape[key].group === title);
    const rows = keys.map((key) => {
      const { defaultValue: value, doc } = configShape[key];
      const shown = value === "" ? "_(empty)_" : `\`${String(value)}\``;
      return `| \`food11:${key}\` | ${typeOf(value)} | ${shown} | ${cell(doc)} |`;
    });
    return [
      `### ${title}`,
      "",
      "| key | type | default | meaning |",
      "| --- | --- | --- | --- |",
      ...rows,
    ].join("\n");
  });
  return `${current.slice(0, at)}${EVERY_KEY}\n\nGenerated from \`stacks/schema.ts\` by \`npm run gen:config\` (as is \`Pulumi.yaml\`'s \`config:\` block): edit the schema, then run it.\n\n${sections.join("\n\n")}\n`;
}

if (require.main === module) {
  const { check } = new Command("gen:config")
    .description(
      "Write Pulumi.yaml's config block and docs/configuration.md from stacks/schema.ts.",
    )
    .option("--check", "write nothing; fail when a file is not what the schema generates", false)
    .parse()
    .opts<{ check: boolean }>();
  let stale = 0;
  for (const [file, generate] of [
    [PULUMI_YAML_PATH, pulumiYaml],
    [CONFIG_MD_PATH, configurationMd],
  ] as const) {
    const current = readFileSync(file, "utf8");
    const next = generate(current);
    if (next === current) continue;
    stale++;
    if (check) process.stderr.write(`gen:config: ${file} is not what stacks/schema.ts generates\n`);
    else {
      writeFileSync(file, next);
      process.stdout.write(`gen:config: wrote ${file}\n`);
    }
  }
  if (check && stale > 0) {
    process.stderr.write("gen:config: run npm run gen:config and commit the result\n");
    process.exit(1);
  }
}
