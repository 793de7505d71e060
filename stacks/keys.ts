/**
 * How a `food11:<key>` is declared (stacks/schema.ts declares them all): a {@link Key} is its zod
 * type (coercion, validation, description), its default, its topic, and where its value lands in
 * the typed settings (`.to("resources.limits.cpu")`). {@link placed} puts every key's value there;
 * the settings' type {@link Placed} is computed from the same paths. Pure: no Pulumi runtime.
 */
import { z } from "zod";
import { cpuMillicores, isQuantity, memoryBytes } from "../components/quantity";
import { show } from "../components/rules";

/** The Pulumi project name, hence the config namespace (`food11:<key>`). */
export const PROJECT = "food11";

/** Stands for the key a schema message is about; parseStackConfig writes `food11:<key>` there. */
export const THIS_KEY = "<this key>";
/** Stands for the stack in a schema message; parseStackConfig writes the stack's name there. */
export const THIS_STACK = "<this stack>";

/** `food11:<name>`, or the key the message is about. */
export function keyName(name?: string): string {
  return name === undefined ? THIS_KEY : `${PROJECT}:${name}`;
}

/** The fix a message names: `pulumi config set <key> <example> --stack <stack>`. */
export function set(example: string, name?: string): string {
  return `pulumi config set ${keyName(name)} ${example} --stack ${THIS_STACK}`;
}

/** `pulumi config rm <key> --stack <stack>`. */
export function rm(name?: string): string {
  return `pulumi config rm ${keyName(name)} --stack ${THIS_STACK}`;
}

/** A message with its placeholders filled in: the key (a bare name) and the stack. */
export function fill(message: string, name: string, stack: string): string {
  return message.replaceAll(THIS_KEY, keyName(name)).replaceAll(THIS_STACK, stack);
}

/**
 * A schema message as a component's contract words it (its caller sets no key): the bad value,
 * then what is wrong, the message up to its `. Fix: ...`. A message that starts with neither
 * "is" nor "must" names the value itself (the rules between settings).
 */
export function reasonFor(value: unknown, message: string): string {
  const what = message.split(". Fix: ")[0] as string;
  if (what.startsWith("is ")) return `${show(value)} ${what}`;
  if (what.startsWith("must ")) return `${show(value)} is not allowed: ${what}`;
  return what;
}

/** A default as `Pulumi.yaml` declares it. */
export type Scalar = string | number | boolean;

/** How a key's value arrives: a string from the engine, a YAML scalar from a stack file. */
type Coerce = (value: unknown) => unknown;

/** One `food11:<key>`: everything about it, on itself. */
export class Key<V extends z.ZodType = z.ZodType, At extends string = string> {
  /**
   * Its type, derived from the rest: `coerce`, then `value`'s validation and fix hints, the
   * default when unset, and the description. The default is a prefault (parsed as if the stack
   * had set it), not a default: a default would also replace the undefined that an optional
   * text's empty value becomes.
   */
  readonly schema: z.ZodPrefault<z.ZodPreprocess<V>>;

  constructor(
    /**
     * Its value's validation alone, as in the settings: the checks and messages of `schema`,
     * without coercion or default (what a component's contract applies to the value it is given).
     */
    readonly value: V,
    /** What turns the engine's strings (and YAML's scalars) into what `value` checks. */
    readonly coerce: Coerce,
    /** Its default as `Pulumi.yaml` declares it (`""` for an unset text). */
    readonly defaultValue: Scalar,
    /** What `Pulumi.yaml` and docs/configuration.md say it is. */
    readonly doc: string,
    /** Where its value lands in the settings (dotted); `""`: only derived settings read it. */
    readonly at: At,
    /** Its topic: the heading of its table in docs/configuration.md. */
    readonly group = "",
  ) {
    this.schema = z
      .preprocess(coerce, value)
      .prefault(defaultValue as z.input<V>)
      .describe(doc);
  }

  /** The same key, its value landing at `path` in the settings. */
  to<const P extends string>(path: P): Key<V, P> {
    return new Key(this.value, this.coerce, this.defaultValue, this.doc, path, this.group);
  }
}

/** Keys filed under the topic `title`, in the order given. */
export function group<const T extends Record<string, Key>>(title: string, keys: T): T {
  return Object.fromEntries(
    Object.entries(keys).map(([name, k]) => [
      name,
      new Key(k.value, k.coerce, k.defaultValue, k.doc, k.at, title),
    ]),
  ) as T;
}

/** Config values arrive as strings from the engine and as YAML scalars from stack files. */
function toNumber(value: unknown): unknown {
  if (typeof value === "string" && /^\s*[+-]?\d+\s*$/.test(value)) return Number(value);
  return value;
}

function toBoolean(value: unknown): unknown {
  if (value === "true") return true;
  if (value === "false") return false;
  return value;
}

function toText(value: unknown): unknown {
  // YAML turns `cpuLimit: 3` into a number; a quantity or a tag is still text.
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return value;
}

/** An optional text's: the empty value means unset (undefined). */
function toOptionalText(value: unknown): unknown {
  return value === "" ? undefined : toText(value);
}

/**
 * A text's format: `valid` (a pattern it matches, or a test), else what is wrong (`what`, or what
 * is wrong with the value) and the fix: setting the key's example (or `fix.example`), or `fix.or`.
 */
export interface Format {
  valid: RegExp | ((value: string) => boolean);
  what: string | ((value: string) => string);
  fix: { example?: string; or?: string };
}

/** The format `valid`, else `what` is wrong; its fix sets the key's example unless `fix` says. */
export function must(
  valid: Format["valid"],
  what: Format["what"],
  fix: Format["fix"] = {},
): Format {
  return { valid, what, fix };
}

function textSchema(example: string, format?: Format) {
  const s = z.string({ error: `must be text. Fix: ${set(example)}` });
  if (format === undefined) return s;
  const { valid, what, fix } = format;
  const other = fix.or === undefined ? "" : ` (or ${fix.or})`;
  return s.refine(typeof valid === "function" ? valid : (v) => valid.test(v), {
    error: (issue) => {
      const wrong = typeof what === "string" ? what : what(String(issue.input));
      return `${wrong}. Fix: ${set(fix.example ?? example)}${other}`;
    },
  });
}

/** A text, checked against `format` when given. */
export function text(def: string, doc: string, example = "<text>", format?: Format) {
  return new Key(textSchema(example, format), toText, def, doc, "");
}

/**
 * A text whose empty value means "unset": the settings leave it out (undefined). `format` applies
 * to a value that is set.
 */
export function optional(def: string, doc: string, example = "<text>", format?: Format) {
  return new Key(textSchema(example, format).optional(), toOptionalText, def, doc, "");
}

/** A whole number from `min` to `max`. */
export function integer(def: number, min: number, max: number, doc: string) {
  const range = `must be a whole number from ${min} to ${max}`;
  const schema = z.int({ error: `${range}. Fix: ${set(String(def))}` });
  const bounded = schema
    .min(min, { error: `${range}. Fix: ${set(String(Math.max(min, def)))}` })
    .max(max, { error: `${range}. Fix: ${set(String(Math.min(max, def)))}` });
  return new Key(bounded, toNumber, def, doc, "");
}

/** true or false. */
export function flag(def: boolean, doc: string) {
  const schema = z.boolean({ error: `must be true or false. Fix: ${set(String(def))}` });
  return new Key(schema, toBoolean, def, doc, "");
}

/** One of `values`. */
export function choice<const T extends readonly [string, ...string[]]>(
  values: T,
  def: T[number],
  doc: string,
) {
  const schema = z.enum(values, { error: `must be one of ${values.join(", ")}. Fix: ${set(def)}` });
  return new Key(schema, toText, def, doc, "");
}

function quantity(def: string, kind: "cpu" | "memory", doc: string) {
  const example = kind === "cpu" ? `"2" or "500m"` : `"4Gi" or "512Mi"`;
  const fix = `Fix: ${set(def)}`;
  const schema = z
    .string({ error: `must be a Kubernetes quantity such as ${example}. ${fix}` })
    .superRefine((v, ctx) => {
      if (!isQuantity(v)) {
        const message = `is not a Kubernetes quantity (${kind}: e.g. ${example}). ${fix}`;
        ctx.addIssue({ code: "custom", message });
      } else if ((kind === "cpu" ? cpuMillicores(v) : memoryBytes(v)) <= 0) {
        ctx.addIssue({ code: "custom", message: `must be above zero. ${fix}` });
      }
    });
  return new Key(schema, toText, def, doc, "");
}

/** A CPU quantity (`"2"`, `"500m"`). */
export const cpu = (def: string, doc: string) => quantity(def, "cpu", doc);
/** A memory or storage quantity (`"4Gi"`, `"512Mi"`). */
export const bytes = (def: string, doc: string) => quantity(def, "memory", doc);

/** The settings one key puts at `Path`; an unset value (undefined) leaves an optional field. */
type Leaf<Path extends string, V> = Path extends `${infer Head}.${infer Rest}`
  ? { [K in Head]: Leaf<Rest, V> }
  : undefined extends V
    ? { [K in Path]?: Exclude<V, undefined> }
    : { [K in Path]: V };

type Intersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void
  ? I
  : never;

/** `T` with its intersections merged into plain object types (for readable types). */
export type Expand<T> = T extends Scalar | undefined | readonly unknown[]
  ? T
  : { [K in keyof T]: Expand<T[K]> };

/** The settings the keys of `Shape` put in place: each value at its key's path. */
export type Placed<Shape extends Record<string, Key>> = Intersection<
  {
    [N in keyof Shape]: Shape[N] extends Key<infer V, infer P>
      ? P extends ""
        ? never
        : Leaf<P, z.output<V>>
      : never;
  }[keyof Shape]
>;

type Tree = { [key: string]: unknown };

function isTree(value: unknown): value is Tree {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Every value of `values` at its key's path in `shape` (unset values left out). */
export function placed<Shape extends Record<string, Key>>(
  shape: Shape,
  values: Partial<Record<keyof Shape, unknown>>,
): Placed<Shape> {
  const out: Tree = {};
  for (const [name, k] of Object.entries(shape)) {
    const value = values[name as keyof Shape];
    if (k.at === "" || value === undefined) continue;
    const path = k.at.split(".");
    const leaf = path.pop() as string;
    let node = out;
    for (const part of path) {
      if (!isTree(node[part])) node[part] = {};
      node = node[part] as Tree;
    }
    node[leaf] = value;
  }
  return out as Placed<Shape>;
}

/** `a` with `b`'s fields merged in, objects merged field by field. */
export function merge<A extends Tree, B extends Tree>(a: A, b: B): Expand<A & B> {
  const out: Tree = { ...a };
  for (const [field, value] of Object.entries(b)) {
    const mine = out[field];
    out[field] = isTree(mine) && isTree(value) ? merge(mine, value) : value;
  }
  return out as Expand<A & B>;
}
