/**
 * npm run gen:config: writes Pulumi.yaml's `config:` block and docs/configuration.md's "Every key"
 * tables from stacks/schema.ts (the generators: stacks/generated.ts). `--check` writes nothing and
 * exits 1 when a committed file differs (npm test checks the same).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { Command } from "commander";
import { CONFIG_MD_PATH, configurationMd, PULUMI_YAML_PATH, pulumiYaml } from "../stacks/generated";

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
