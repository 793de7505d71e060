import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";

/** A seeded source of floats in [0, 1): the same seed gives the same sequence. */
export type Random = () => number;

export function seededRandom(seed: number): Random {
  // Scramble the seed (murmur3's finaliser) so small seeds do not start on extreme values.
  let h = seed | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  const rng = xoroshiro128plus(h | 0);
  return () => uniformFloat64(rng);
}

/** Derive an independent stream for (seed, a, b), e.g. one per phase and user. */
export function childRandom(seed: number, ...path: number[]): Random {
  let s = seed | 0;
  for (const p of path) {
    // Mix like a 32-bit FNV step so nearby paths give unrelated seeds.
    s = Math.imul(s ^ (p + 0x9e3779b9), 0x01000193) | 0;
  }
  return seededRandom(s);
}
