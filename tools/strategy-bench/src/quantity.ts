import { quantityValue } from "../../../components/quantity.js";

/**
 * Kubernetes quantities in the monitor's units. The grammar (binary Ki..Ei, decimal n/u/m/k/M/G/…,
 * exponents) is the Pulumi program's parser in components/quantity.ts, shared so that the stack
 * files and the monitor read quantities the same way.
 */

/** CPU quantity in cores: "250m" → 0.25, "2" → 2, "1234567n" (metrics API) → 0.001234567. */
export function cpuCores(q: string): number {
  return quantityValue(q.trim());
}

/** Memory quantity in KB as the original recipe logged it (1 KB = 1024 bytes): "2Gi" → 2097152. */
export function memoryKB(q: string): number {
  return quantityValue(q.trim()) / 1024;
}

/** Sum over items of an optional quantity; a missing quantity counts as 0. */
export function sumQuantities(values: (string | undefined)[], unit: (q: string) => number): number {
  let total = 0;
  for (const v of values) if (v !== undefined && v !== "") total += unit(v);
  return total;
}
