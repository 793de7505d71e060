/**
 * Kubernetes resource quantities (`resource.Quantity`), parsed without a cluster.
 *
 * The grammar is the apiserver's: a signed decimal number, then an optional binary suffix
 * (Ki, Mi, Gi, Ti, Pi, Ei), decimal suffix (n, u, m, k, M, G, T, P, E) or decimal exponent
 * (e3, E-2). `@kubernetes/client-node`'s `quantityToScalar` rejects fractional binary quantities
 * such as the report's `4.5Gi`, hence this small parser.
 */

const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

const BINARY: Readonly<Record<string, number>> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const DECIMAL: Readonly<Record<string, number>> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** Whether `text` is a valid Kubernetes quantity (e.g. `2`, `500m`, `4Gi`, `4.5Gi`, `1e3`). */
export function isQuantity(text: string): boolean {
  return QUANTITY.test(text);
}

/**
 * The value of a Kubernetes quantity in base units (cores for CPU, bytes for memory).
 * Throws on text that is not a quantity.
 */
export function quantityValue(text: string): number {
  const match = QUANTITY.exec(text);
  if (!match) {
    throw new Error(`"${text}" is not a Kubernetes quantity`);
  }
  const number = Number(match[1]);
  const suffix = match[2] ?? "";
  if (suffix === "") return number;
  const binary = BINARY[suffix];
  if (binary !== undefined) return number * binary;
  const decimal = DECIMAL[suffix];
  if (decimal !== undefined) return number * decimal;
  // Decimal exponent (e3, E-2).
  return number * 10 ** Number(suffix.slice(1));
}

/**
 * A CPU quantity in millicores, rounded up as the apiserver does (`0.0001` becomes `1m`).
 */
export function cpuMillicores(text: string): number {
  // Subtract a hair before ceil so that float noise (0.1 * 1000 = 100.00000000000001) does not
  // round a whole millicore up.
  return Math.ceil(quantityValue(text) * 1000 - 1e-6);
}

/** A memory quantity in bytes, rounded up to a whole byte. */
export function memoryBytes(text: string): number {
  return Math.ceil(quantityValue(text) - 1e-6);
}
