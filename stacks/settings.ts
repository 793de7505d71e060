/**
 * Raw stack config (`food11:*` keys) to the typed {@link StackSettings} that stacks/schema.ts
 * outputs, or a {@link StackConfigError} that names the stack, each bad key, its value and the
 * fix. Pure: no Pulumi runtime.
 */
import { fill, keyName, PROJECT, rm, set } from "./keys";
import { CONFIG_KEYS, type ConfigKey, type StackSettings, stackSchema } from "./schema";

export type { StackSettings } from "./schema";

/** The image InferenceImage takes: a prebuilt `ref`, or a `build` (and `skipBuild` when rendering). */
export type ImageSettings = StackSettings["image"];

/** One rejected key. */
export interface ConfigProblem {
  /** `food11:<key>`. */
  key: string;
  /** The value as given (undefined when the key is unset). */
  value: unknown;
  /** What is wrong and the fix. */
  message: string;
}

/** The problem of key `name` (bare) of `stack`: its schema message with the key and stack filled in. */
function problemOf(stack: string, name: string, value: unknown, message: string): ConfigProblem {
  return { key: keyName(name), value, message: fill(message, name, stack) };
}

/** A stack whose config is rejected; the message lists every problem. */
export class StackConfigError extends Error {
  override readonly name = "StackConfigError";
  constructor(
    readonly stackName: string,
    readonly problems: ConfigProblem[],
  ) {
    super(
      `Invalid configuration for stack "${stackName}" (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems
        .map((p) => `  - ${p.key} = ${formatValue(p.key, p.value)}: ${p.message}`)
        .join("\n")}`,
    );
  }
}

/**
 * How a secret value shows: a credential in a rejection's message, and an encrypted (`secure:`)
 * value read from a stack file without its key (stacks/index.ts readStackConfig).
 */
export const SECRET_PLACEHOLDER = "[secret]";

function formatValue(key: string, value: unknown): string {
  if (value === undefined) return "(unset)";
  // Never echo a credential into a log.
  if (key === keyName("registryPassword") && value !== "") return SECRET_PLACEHOLDER;
  return JSON.stringify(value);
}

/** Levenshtein distance, for "did you mean" on unknown keys. */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let prev = Array.from({ length: y.length + 1 }, (_, i) => i);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[y.length] ?? 0;
}

function closestKey(key: string): ConfigKey | undefined {
  let best: ConfigKey | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of CONFIG_KEYS) {
    const d = distance(key, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/**
 * Strip the `food11:` namespace from raw config and drop other namespaces (`kubernetes:*`,
 * `pulumi:*`, ...). Bare keys are taken as `food11:` keys.
 */
export function ownKeys(raw: Record<string, unknown>): Record<string, unknown> {
  const own: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const colon = key.indexOf(":");
    if (colon === -1) own[key] = value;
    else if (key.slice(0, colon) === PROJECT) own[key.slice(colon + 1)] = value;
  }
  return own;
}

/**
 * Validate the raw config of `stack` (keys `food11:<key>` or bare `<key>`; values strings as the
 * engine gives them, or YAML scalars) and return its typed settings. Throws a
 * {@link StackConfigError} listing every problem, each with stack, key, value and fix: unknown
 * keys first, then what the schema rejects.
 */
export function parseStackConfig(stack: string, raw: Record<string, unknown>): StackSettings {
  const own = ownKeys(raw);
  const known: Record<string, unknown> = {};
  const problems: ConfigProblem[] = [];
  const problem = (key: string, message: string) =>
    problems.push(problemOf(stack, key, own[key], message));

  for (const [key, value] of Object.entries(own)) {
    if ((CONFIG_KEYS as string[]).includes(key)) {
      known[key] = value;
      continue;
    }
    const guess = closestKey(key);
    const hint = guess ? ` && ${set("<value>", guess)}` : "";
    problem(
      key,
      `unknown key${guess ? `; did you mean ${keyName(guess)}?` : "."} Fix: ${rm()}${hint}`,
    );
  }
  const parsed = stackSchema(stack).safeParse(known);
  for (const issue of parsed.error?.issues ?? [])
    problem(String(issue.path[0] ?? ""), issue.message);
  if (problems.length > 0 || !parsed.success) throw new StackConfigError(stack, problems);
  return parsed.data;
}

/** A PEM certificate block. */
const PEM_CERTIFICATE =
  /-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----/g;

/**
 * Reads the stack's imageExtraCaCertificates file (when set and the image is built) with `read`
 * (a path relative to the project root, or absolute) and returns the settings with its
 * certificates as the EXTRA_CA_CERTS build arg. Only certificate blocks are passed on. Throws a
 * {@link StackConfigError} naming the key when the file cannot be read, holds no certificate, or
 * holds a private key.
 */
export function withExtraCaCertificates(
  settings: StackSettings,
  read: (file: string) => string,
): StackSettings {
  const image = settings.image;
  if (!("build" in image) || image.extraCaCertificatesFile === undefined) return settings;
  const file = image.extraCaCertificatesFile;
  const name = "imageExtraCaCertificates";
  const fail = (why: string): never => {
    const message = `${why}. Fix: ${set("<a PEM file of CA certificates>")} (or ${rm()})`;
    throw new StackConfigError(settings.stack, [problemOf(settings.stack, name, file, message)]);
  };
  let text = "";
  try {
    text = read(file);
  } catch (error) {
    fail(`cannot be read (${(error as Error).message})`);
  }
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    fail("holds a private key: give the CA certificates only, never a key");
  }
  const certificates = text.match(PEM_CERTIFICATE) ?? [];
  if (certificates.length === 0) fail("holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
  const args = { ...image.build.args, EXTRA_CA_CERTS: `${certificates.join("\n")}\n` };
  return { ...settings, image: { ...image, build: { ...image.build, args } } };
}
