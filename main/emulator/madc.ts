/**
 * The MADC-like readout: 10-bit codes, the model-voltage <-> code mapping, the code <-> volt
 * calibration and the readout noise level. Values marked assumed in docs/emulator.md.
 */

/** Largest MADC code (10 bit). */
export const MADC_MAX_CODE = 1023;

/** MADC codes per model millivolt (assumed: -80 mV -> 200 LSB, -30 mV -> 680 LSB, the usable range). */
export const MADC_LSB_PER_MV = 9.6;

/** Model voltage (mV) that reads as code 0. */
export const MADC_MV_AT_ZERO = -80 - 200 / MADC_LSB_PER_MV;

/** Chip volts per MADC LSB (assumed full scale 1.2 V over 1024 codes). */
export const MADC_VOLTS_PER_LSB = 1.2 / 1024;

/** Temporal readout noise, LSB standard deviation (bss2-facts.md: about 3 LSB). */
export const MADC_READOUT_NOISE_LSB = 3;

/** Usable membrane range in MADC LSB (bss2-facts.md: roughly 200-680 LSB). */
export const MADC_USABLE_RANGE: readonly [number, number] = [200, 680];

/** Convert MADC codes to chip volts (calibrated readout). */
export function codesToVolts(codes: ArrayLike<number>): Float32Array {
  const out = new Float32Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = codes[i] * MADC_VOLTS_PER_LSB;
  return out;
}

/** Convert MADC codes to model-equivalent millivolts (inverse of the readout mapping, no clipping undone). */
export function codesToMillivolts(codes: ArrayLike<number>): Float32Array {
  const out = new Float32Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = MADC_MV_AT_ZERO + codes[i] / MADC_LSB_PER_MV;
  return out;
}

/** Model voltage (mV) to a real-valued, unclipped MADC position in LSB. */
export function millivoltsToLsb(mv: number): number {
  return (mv - MADC_MV_AT_ZERO) * MADC_LSB_PER_MV;
}
