/**
 * The default prior of the inferred parameters: independent uniforms over the documented box
 * (`modelRange` in model space, `capmemRange` in CapMem space), drawn with Philox so a seed gives
 * the same rows on every machine.
 */
import type { ParamSpace } from './backend.ts';
import { INFERRED_PARAMETERS } from './parameters.ts';
import { philox4x32, seedKey } from './philox.ts';

/** Philox stream used for prior draws (membrane 0, readout 1, mismatch 2). */
const PRIOR_STREAM = 3;

/**
 * Draw `n` rows (row-major, INFERRED_PARAMETERS order) from the uniform box prior; row i is the
 * same whatever `n` or `rowOffset` split is used.
 *
 * @example const theta = samplePrior(1000, 'model', 1); // Float32Array of 7000 values
 */
export function samplePrior(n: number, space: ParamSpace, seed: number, rowOffset = 0): Float32Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, got ${n}`);
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new RangeError(`seed must be an integer in 0..2^53-1, got ${seed}`);
  const P = INFERRED_PARAMETERS.length;
  const out = new Float32Array(n * P);
  const words = new Uint32Array(4);
  const [k0, k1] = seedKey(seed);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < P; j++) {
      const [lo, hi] =
        space === 'model' ? INFERRED_PARAMETERS[j].modelRange : INFERRED_PARAMETERS[j].capmemRange;
      philox4x32(words, rowOffset + i, j, PRIOR_STREAM, 0, k0, k1);
      // 53-bit uniform in [0, 1) from two words.
      const u = ((words[0] >>> 5) * 67108864 + (words[1] >>> 6)) / 9007199254740992;
      out[i * P + j] = Math.min(hi, lo + (hi - lo) * u);
    }
  }
  return out;
}
