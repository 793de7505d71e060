/**
 * The one mocks module of the program's unit tests (after pulumi/examples' testing-unit-ts):
 * `pulumi.runtime.setMocks` records every resource registration, the stack's config is the very
 * stack file (plus the defaults Pulumi.yaml declares, as the engine merges them), and the program
 * is imported only after the mocks are set, fresh for each run.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { expect, vi } from "vitest";
import { parse, stringify } from "yaml";

/** The repository root (Pulumi.yaml, index.ts). */
export const ROOT = path.resolve(__dirname, "../../..");

/** One registration the program made, as the engine would have received it. */
export interface Registered {
  type: string;
  name: string;
  // biome-ignore lint/suspicious/noExplicitAny: resource inputs are untyped JSON, asserted field by field.
  inputs: any;
  provider?: string;
  custom?: boolean;
  /** URN of the parent resource ("" for none). */
  parent: string;
  /** URNs this registration waits for (dependsOn and input dependencies), sorted. */
  dependencies: string[];
}

/** The program's exports (stack outputs). */
export type Program = Record<string, unknown>;

/** Resolve an Output (or a plain value) to a Promise, for assertions. */
export function promiseOf<T>(output: pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => {
    pulumi.output(output).apply((value) => {
      resolve(value as T);
      return value;
    });
  });
}

function toEngineString(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (value !== null && typeof value === "object" && "secure" in value) {
    throw new Error("the committed stack files must not carry secrets");
  }
  return JSON.stringify(value);
}

/**
 * The config map the Pulumi engine hands the program for `stack`: every `food11:*` default that
 * Pulumi.yaml declares, overridden by `Pulumi.<stack>.yaml`'s `config:`, every value a string.
 * `overrides` replace keys (`food11:<key>`); an `undefined` override removes the key.
 */
export function engineConfig(
  stack: string,
  overrides: Record<string, unknown> = {},
): Record<string, string> {
  const project = parse(readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as {
    name: string;
    config: Record<string, { default?: unknown }>;
  };
  const stackFile = parse(readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as {
    config: Record<string, unknown>;
  };
  const config: Record<string, string> = {};
  for (const [key, declaration] of Object.entries(project.config)) {
    if (declaration.default !== undefined) config[key] = toEngineString(declaration.default);
  }
  for (const [key, value] of Object.entries(stackFile.config)) {
    config[key] = toEngineString(value);
  }
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete config[key];
    else config[key] = toEngineString(value);
  }
  return config;
}

/** The digest the mocked registry returns for a pushed image name. */
export function mockDigest(imageName: string): string {
  return `sha256:${createHash("sha256").update(imageName).digest("hex")}`;
}

// biome-ignore lint/suspicious/noExplicitAny: mocked provider state is untyped JSON.
function mockState(args: pulumi.runtime.MockResourceArgs): Record<string, any> {
  if (args.type === "docker:index/image:Image") {
    const imageName: string = args.inputs.imageName;
    const repository = imageName.replace(/:[\w][\w.-]*$/, "");
    return {
      ...args.inputs,
      baseImageName: imageName,
      repoDigest: `${repository}@${mockDigest(imageName)}`,
    };
  }
  return args.inputs;
}

/** The outcome of one program run under mocks. */
export interface Run {
  /** Every registration, in order (providers and components included). */
  resources: Registered[];
  /** The stack outputs, resolved; undefined when the program threw. */
  outputs?: Record<string, unknown>;
  /** What the program threw, if anything. */
  error?: unknown;
}

/**
 * Run the whole program for `stack` under mocks with `config` (default: the stack file as the
 * engine would merge it) and wait for every stack output.
 */
export async function runProgram(stack: string, config = engineConfig(stack)): Promise<Run> {
  const resources: Registered[] = [];
  // What MockResourceArgs leaves out: the parent and the dependencies of each registration.
  const wiring = new Map<string, { parent: string; dependencies: string[] }>();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const wired = wiring.get(`${args.type}::${args.name}`);
        resources.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs,
          parent: wired?.parent ?? "",
          dependencies: wired?.dependencies ?? [],
          ...(args.provider !== undefined ? { provider: args.provider } : {}),
          ...(args.custom !== undefined ? { custom: args.custom } : {}),
        });
        return { id: `${args.name}-id`, state: mockState(args) };
      },
      call(args) {
        return args.inputs;
      },
    },
    "food11",
    stack,
    false,
  );
  // biome-ignore lint/suspicious/noExplicitAny: the mock monitor's gRPC-shaped request.
  const monitor = pulumi.runtime.getMonitor() as any;
  const register = monitor.registerResource.bind(monitor);
  // biome-ignore lint/suspicious/noExplicitAny: the mock monitor's gRPC-shaped request.
  monitor.registerResource = (req: any, callback: unknown) => {
    wiring.set(`${req.getType()}::${req.getName()}`, {
      parent: req.getParent(),
      dependencies: [...req.getDependenciesList()].sort(),
    });
    return register(req, callback);
  };
  pulumi.runtime.setAllConfig(config);
  vi.resetModules();
  let program: Program;
  try {
    program = await import("../../../index.js");
  } catch (error) {
    return { resources, error };
  }
  // index.ts is CommonJS with `export = outputs` (only the outputs the stack has); Pulumi require()s
  // it and takes module.exports, which import() gives as `default`.
  const exported = (program.default ?? program) as Program;
  const outputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(exported)) {
    outputs[key] = await promiseOf(value as pulumi.Input<unknown>);
  }
  return { resources, outputs };
}

/** Run the program for `stack` with some keys of its config changed (see {@link engineConfig}). */
export function runStack(stack: string, overrides: Record<string, unknown> = {}): Promise<Run> {
  return runProgram(stack, engineConfig(stack, overrides));
}

/** {@link runStack} for a config the program must accept: the test fails if the program threw. */
export async function runAccepted(
  stack: string,
  overrides: Record<string, unknown> = {},
): Promise<Run> {
  const run = await runStack(stack, overrides);
  expect(run.error).toBeUndefined();
  return run;
}

/** The one registration of `type`, named `name` when given (throws if there are none or several). */
export function only(run: Run, type: string, name?: string): Registered {
  const found = run.resources.filter((r) => r.type === type);
  if (found.length !== 1) {
    throw new Error(`expected one ${type}, found ${found.length}`);
  }
  const one = found[0] as Registered;
  if (name !== undefined && one.name !== name) {
    throw new Error(`expected the ${type} to be named ${name}, found ${one.name}`);
  }
  return one;
}

/** A run as a YAML stream: the outputs, then one document per resource. */
export function manifestsYaml(run: Run): string {
  const key = (r: { type: string; name: string }) => `${r.type} ${r.name}`;
  const resources = [...run.resources].sort((a, b) => key(a).localeCompare(key(b)));
  return [{ outputs: run.outputs }, ...resources]
    .map((doc) => stringify(doc, { lineWidth: 0 }))
    .join("---\n");
}
