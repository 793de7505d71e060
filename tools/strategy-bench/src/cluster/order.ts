/** The order of a cluster run's runs and their names (`strategy1 #2` with --repeat). */

/** The order of the runs: interleaved (A B C A B C) or grouped (A A B B C C). */
export function runOrder(
  stacks: string[],
  repeat: number,
  interleave: boolean,
): { stack: string; repetition: number }[] {
  const out: { stack: string; repetition: number }[] = [];
  if (interleave) {
    for (let k = 1; k <= repeat; k++)
      for (const stack of stacks) out.push({ stack, repetition: k });
  } else {
    for (const stack of stacks)
      for (let k = 1; k <= repeat; k++) out.push({ stack, repetition: k });
  }
  return out;
}

export function runName(stack: string, repetition: number, repeat: number): string {
  return repeat > 1 ? `${stack} #${repetition}` : stack;
}
