/**
 * npm run gen:config: writes what stacks/schema.ts declares into the two files that repeat it for
 * their readers: Pulumi.yaml's `config:` block (type, description, default of every key, what
 * `pulumi config` shows) and docs/configuration.md's "Every key" tables. `--check` writes nothing
 * and exits 1 when a committed file differs (npm test checks the same).
 *
 * A new key costs its entry in `configShape` (type, default, range, description), its place in
 * `CONFIG_GROUPS`, its line in stacks/settings.ts's toSettings (StackSettings is inferred from it),
 * and this command.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  CONFIG_GROUPS,
  CONFIG_KEYS,
  type ConfigKey,
  configShape,
  flatConfigSchema,
} from "../stacks/schema";

export const ROOT = join(__dirname, "..");
export const PULUMI_YAML_PATH = join(ROOT, "Pulumi.yaml");
export const CONFIG_MD_PATH = join(ROOT, "docs", "configuration.md");

const DEFAULTS = flatConfigSchema.parse({}) as Record<ConfigKey, string | number | boolean>;

function typeOf(value: unknown): "string" | "integer" | "boolean" {
  return typeof value === "number" ? "integer" : typeof value === "boolean" ? "boolean" : "string";
}

/** Pulumi.yaml with its `config:` block (the file's last block) generated. */
export function pulumiYaml(current: string): string {
  const at = current.indexOf("\nconfig:\n");
  if (at < 0) throw new Error("Pulumi.yaml has no top-level config: block");
  const lines = CONFIG_KEYS.flatMap((key) => {
    const value = DEFAULTS[key];
    const type = typeOf(value);
    return [
      `  food11:${key}:`,
      `    type: ${type}`,
      `    description: ${JSON.stringify(configShape[key].description)}`,
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
  const sections = CONFIG_GROUPS.map(({ title, keys }) => {
    const rows = keys.map((key) => {
      const value = DEFAULTS[key];
      const shown = value === "" ? "_(empty)_" : `\`${String(value)}\``;
      return `| \`food11:${key}\` | ${typeOf(value)} | ${shown} | ${cell(String(configShape[key].description))} |`;
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
  const check = process.argv.includes("--check");
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
