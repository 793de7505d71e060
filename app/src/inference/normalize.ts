/**
 * Stage 3, normalise: RGB bytes to the model's float32 NHWC input. `unit` = x / 255 (the
 * original recipe, default), `mobilenet` = x / 127.5 - 1 (Keras' mobilenet_v2.preprocess_input,
 * [-1, 1]) or `raw` = x (0..255, for a model that rescales inside itself, e.g. a leading Keras
 * `Rescaling` layer). A model directory's manifest says which (manifest.ts).
 */
export const PREPROCESS_MODES = ["raw", "unit", "mobilenet"] as const;
export type PreprocessMode = (typeof PREPROCESS_MODES)[number];

/** x, x / 255 and x / 127.5 - 1 for every byte value, computed once (exactly the same floats). */
const LUT: Record<PreprocessMode, Float32Array> = {
  raw: Float32Array.from({ length: 256 }, (_, v) => v),
  unit: Float32Array.from({ length: 256 }, (_, v) => v / 255),
  mobilenet: Float32Array.from({ length: 256 }, (_, v) => v / 127.5 - 1),
};

/** RGB bytes → float32 NHWC values per the preprocessing mode, written into `out` at `offset`. */
export function normalize(
  rgb: Uint8Array,
  mode: PreprocessMode,
  out: Float32Array = new Float32Array(rgb.length),
  offset = 0,
): Float32Array {
  const lut = LUT[mode];
  const n = rgb.length;
  for (let i = 0; i < n; i++) out[offset + i] = lut[rgb[i] as number] as number;
  return out;
}
