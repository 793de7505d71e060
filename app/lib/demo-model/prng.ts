/** mulberry32: small, fast, deterministic 32-bit PRNG (uniform in [0, 1)). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A smooth synthetic picture in [0, 1], NHWC at `offset` of `out`: per channel a colour gradient
 * and a wave, a + bx x / w + by y / h + amp sin(f (x + ySlope y) / w), with a in [0, 1), bx and by
 * in [-0.5, 0.5), amp in [0, maxAmp) and f in [1, 1 + maxFreq) drawn from `rnd`.
 */
export function smoothImage(
  rnd: () => number,
  out: Float32Array,
  offset: number,
  [h, w]: [number, number],
  { maxAmp, maxFreq, ySlope }: { maxAmp: number; maxFreq: number; ySlope: number },
): void {
  const p = Array.from({ length: 3 }, () => [
    rnd(),
    rnd() - 0.5,
    rnd() - 0.5,
    rnd() * maxAmp,
    1 + rnd() * maxFreq,
  ]);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        const [a = 0, bx = 0, by = 0, amp = 0, f = 1] = p[c] as number[];
        const v = a + (bx * x) / w + (by * y) / h + amp * Math.sin((f * (x + ySlope * y)) / w);
        out[offset + (y * w + x) * 3 + c] = Math.min(1, Math.max(0, v));
      }
    }
  }
}
