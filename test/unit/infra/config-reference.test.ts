/**
 * Pulumi.yaml declares every key the schema reads, with the schema's type, description and
 * default; the committed stack files use only declared keys; readStackFile (what the tools use)
 * sees the stack files as the engine hands them to the program.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CONFIG_KEYS, configShape, flatConfigSchema, readStackFile, STACKS } from "../../../stacks";
import {
  CONFIG_MD_PATH,
  configurationMd,
  PULUMI_YAML_PATH,
  pulumiYaml,
} from "../../../stacks/generated";
import { loadSettings } from "../../../stacks/load";
import { engineConfig, ROOT } from "./mocks";

interface Declaration {
  type: string;
  description: string;
  default: unknown;
}
const project = parse(readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as {
  name: string;
  config: Record<string, Declaration>;
};

describe("npm run gen:config", () => {
  it("generated the committed Pulumi.yaml config block and docs/configuration.md key tables", () => {
    for (const [file, generate] of [
      [PULUMI_YAML_PATH, pulumiYaml],
      [CONFIG_MD_PATH, configurationMd],
    ] as const) {
      const committed = readFileSync(file, "utf8");
      expect(generate(committed), `${file}: run npm run gen:config`).toBe(committed);
    }
  });

  it("files every key under a topic, each topic's keys declared together", () => {
    const topics = CONFIG_KEYS.map((key) => configShape[key].group);
    expect(topics.filter((topic) => topic === "")).toEqual([]);
    const runs = topics.filter((topic, i) => topic !== topics[i - 1]);
    expect(new Set(runs).size).toBe(runs.length);
  });
});

describe("Pulumi.yaml", () => {
  it("is the food11 project on the nodejs runtime", () => {
    expect(project.name).toBe("food11");
    expect(project).toMatchObject({ runtime: { name: "nodejs" } });
  });

  it("declares each key with the schema's type, description and default", () => {
    const defaults = flatConfigSchema.parse({}) as Record<string, unknown>;
    for (const key of CONFIG_KEYS) {
      // An unset text is undefined in the schema's output, "" in Pulumi.yaml.
      const value = defaults[key] ?? "";
      expect(configShape[key].defaultValue, key).toBe(value);
      const type =
        typeof value === "number" ? "integer" : typeof value === "boolean" ? "boolean" : "string";
      expect(project.config[`food11:${key}`], key).toEqual({
        type,
        description: configShape[key].doc,
        default: value,
      });
    }
  });
});

describe.each(STACKS)("Pulumi.%s.yaml", (stack) => {
  const file = parse(readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as {
    config: Record<string, unknown>;
  };

  it("sets only declared keys, each of its declared type, and no secrets", () => {
    for (const [key, value] of Object.entries(file.config)) {
      expect(Object.keys(project.config)).toContain(key);
      const type = project.config[key]?.type;
      // What the engine's check accepts (pulumi/pulumi ValidateConfigValue).
      if (type === "integer") expect(Number.isInteger(value), key).toBe(true);
      else if (type === "boolean") expect(typeof value, key).toBe("boolean");
      else expect(typeof value, key).toBe("string");
    }
  });

  it("reads the same through readStackFile as through the engine's config", async () => {
    await pulumi.runtime.setMocks(
      { newResource: (a) => ({ id: a.name, state: a.inputs }), call: (a) => a.inputs },
      "food11",
      stack,
    );
    pulumi.runtime.setAllConfig(engineConfig(stack));
    expect(readStackFile(stack)).toEqual(loadSettings());
  });
});
