/**
 * Kubernetes resource quantities (`resource.Quantity`), parsed exactly and without a cluster: the
 * one parser of the program, the policy pack and the measurement tools.
 *
 * Why not `@kubernetes/client-node`'s `quantityToScalar`: it returns number | bigint depending on
 * the suffix and throws on valid decimal quantities with a suffix such as the report's `4.5Gi`,
 * and binary suffixes must never be compared through floating point. Here a quantity is an exact
 * fraction of two bigints, following the grammar of k8s.io/apimachinery/pkg/api/resource:
 *
 *   <quantity>        ::= <signedNumber><suffix>
 *   <signedNumber>    ::= <number> | "+" <number> | "-" <number>
 *   <number>          ::= <digits> | <digits> "." <digits> | <digits> "." | "." <digits>
 *   <suffix>          ::= <binarySI> | <decimalExponent> | <decimalSI>
 *   <binarySI>        ::= Ki | Mi | Gi | Ti | Pi | Ei
 *   <decimalSI>       ::= n | u | m | "" | k | M | G | T | P | E
 *   <decimalExponent> ::= "e" <signedNumber> | "E" <signedNumber>   (an integer exponent)
 */

/** An exact quantity: numerator / denominator, denominator > 0. */
export interface Quantity {
  readonly numerator: bigint;
  readonly denominator: bigint;
  /** The text it was parsed from (numbers are turned into their decimal text). */
  readonly text: string;
}

export class QuantityParseError extends Error {
  constructor(readonly input: unknown) {
    super(`${JSON.stringify(input)} is not a Kubernetes quantity`);
    this.name = "QuantityParseError";
  }
}

const QUANTITY_RE =
  /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|[eE]([+-]?\d+)|(n|u|m|k|M|G|T|P|E))?$/;

const BINARY_POWER: Record<string, bigint> = {
  Ki: 10n,
  Mi: 20n,
  Gi: 30n,
  Ti: 40n,
  Pi: 50n,
  Ei: 60n,
};
const DECIMAL_POWER: Record<string, number> = {
  n: -9,
  u: -6,
  m: -3,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
/** Kubernetes itself refuses exponents this large; it also keeps BigInt sizes bounded. */
const MAX_EXPONENT = 1000;

/** Parses a quantity (a string, or a plain number as a JS program may pass one). Throws QuantityParseError. */
export function parseQuantity(input: string | number): Quantity {
  if (typeof input === "number") {
    if (!Number.isFinite(input)) throw new QuantityParseError(input);
    // String(1e21) is "1e+21", which the grammar accepts.
    return parseQuantity(String(input));
  }
  if (typeof input !== "string") throw new QuantityParseError(input);
  const m = QUANTITY_RE.exec(input.trim());
  if (!m) throw new QuantityParseError(input);
  const [, sign = "", number = "", binary, exponent, decimal] = m;
  const [intPart = "", fracPart = ""] = number.split(".");
  let numerator = BigInt(`${intPart}${fracPart}` || "0");
  if (sign === "-") numerator = -numerator;
  let denominator = 10n ** BigInt(fracPart.length);
  let power10 = 0;
  if (binary !== undefined) {
    numerator *= 2n ** (BINARY_POWER[binary] ?? 0n);
  } else if (exponent !== undefined) {
    power10 = Number(exponent);
    if (!Number.isSafeInteger(power10) || Math.abs(power10) > MAX_EXPONENT) {
      throw new QuantityParseError(input);
    }
  } else if (decimal !== undefined) {
    power10 = DECIMAL_POWER[decimal] ?? 0;
  }
  if (power10 > 0) numerator *= 10n ** BigInt(power10);
  else if (power10 < 0) denominator *= 10n ** BigInt(-power10);
  return { numerator, denominator, text: input.trim() };
}

/** Like parseQuantity, but undefined instead of an error. */
export function tryParseQuantity(input: unknown): Quantity | undefined {
  if (typeof input !== "string" && typeof input !== "number") return undefined;
  try {
    return parseQuantity(input);
  } catch {
    return undefined;
  }
}

/** -1, 0 or 1 as a is less than, equal to or greater than b (exact). */
export function compareQuantities(a: Quantity, b: Quantity): -1 | 0 | 1 {
  const left = a.numerator * b.denominator;
  const right = b.numerator * a.denominator;
  return left < right ? -1 : left > right ? 1 : 0;
}

/** The quantity as a JS number (rounded; for display and arithmetic that tolerates rounding). */
export function quantityToNumber(q: Quantity): number {
  // Divide in bigint first to keep precision for huge integers, then add the remainder part.
  const whole = q.numerator / q.denominator;
  const rest = q.numerator - whole * q.denominator;
  return Number(whole) + Number(rest) / Number(q.denominator);
}

/** Whether `text` is a valid Kubernetes quantity (e.g. `2`, `500m`, `4Gi`, `4.5Gi`, `1e3`). */
export function isQuantity(text: string): boolean {
  return text === text.trim() && tryParseQuantity(text) !== undefined;
}

/**
 * The value of a Kubernetes quantity in base units (cores for CPU, bytes for memory).
 * Throws on text that is not a quantity.
 */
export function quantityValue(text: string): number {
  return quantityToNumber(parseQuantity(text));
}

/** The quantity times `scale`, rounded up to a whole number, exactly. */
function ceilScaled(q: Quantity, scale: bigint): number {
  const n = q.numerator * scale;
  const whole = n / q.denominator;
  const up = n > whole * q.denominator ? whole + 1n : whole;
  return Number(up);
}

/** A CPU quantity in millicores, rounded up as the apiserver does (`0.0001` becomes `1m`). */
export function cpuMillicores(text: string): number {
  return ceilScaled(parseQuantity(text), 1000n);
}

/** A memory quantity in bytes, rounded up to a whole byte. */
export function memoryBytes(text: string): number {
  return ceilScaled(parseQuantity(text), 1n);
}
