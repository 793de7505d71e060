import { readFileSync } from "node:fs";

/**
 * The settings of a sourced shell file of `NAME="${NAME:-default}"` lines (scripts/e2e/versions.sh,
 * scripts/cluster/versions.sh): each default, or the environment's value where it is set, as the
 * scripts themselves see them.
 */
export function shellDefaults(file: string): Record<string, string> {
  const text = readFileSync(file, "utf8");
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^([A-Z0-9_]+)="\$\{\1:-([^}]*)\}"$/gm)) {
    const [, key, def] = m;
    if (key && def !== undefined) out[key] = process.env[key] ?? def;
  }
  return out;
}
