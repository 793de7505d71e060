/**
 * The two files that repeat what stacks/schema.ts declares for their readers, generated from it:
 * Pulumi.yaml's `config:` block (type, description, default of every key, what `pulumi config`
 * shows) and docs/configuration.md's "Every key" tables. Written by `npm run gen:config`
 * (scripts/gen-config.ts); npm test checks the committed files against them.
 *
 * Each key carries what these files say about it (stacks/keys.ts: its type, default, description
 * and topic), so a new key costs its declaration in the schema and that command.
 */
import { join } from "node:path";
import { keyName } from "./keys";
import { CONFIG_KEYS, configShape } from "./schema";

const ROOT = join(__dirname, "..");
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
      `  ${keyName(key)}:`,
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
      return `| \`${keyName(key)}\` | ${typeOf(value)} | ${shown} | ${cell(doc)} |`;
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
