/**
 * Chip instances: a seeded set of 512 neuron circuits, each with its own fixed-pattern deviations
 * (a gain and an offset per CapMem-set parameter), so the same CapMem configuration gives
 * different model values on different circuits, as on silicon.
 *
 * A circuit realizes `model = nominal(gain * code + offset)`, where `nominal` is the transfer
 * function of parameters.ts. Spreads (assumed, see docs/emulator.md) are smaller for the
 * parameters calibration acts on (leak, reset, threshold, tau_mem) than for the exponential and
 * adaptation terms, following bss2-facts.md.
 */
import { ALL_PARAMETERS, capmemToModel, modelToCapmem, parameterDef } from './parameters.ts';
import { philox4x32, seedKey, STREAM } from './philox.ts';

/** Number of neuron circuits on a chip. */
export const CIRCUITS = 512;

/** Name used for the stimulus current cell in mismatch tables. */
export const STIMULUS_PARAM = 'i_offset';

/** Relative gain and absolute offset (LSB) standard deviations of the fixed-pattern mismatch. */
export interface MismatchSpread {
  gain: number;
  offset: number;
}

/** Spread for parameters calibration acts on (assumed: 0.2-0.45 of uncalibrated, bss2-facts.md). */
export const CALIBRATED_SPREAD: MismatchSpread = { gain: 0.015, offset: 3 };
/** Spread for uncalibrated analog parameters (exponential, adaptation, stimulus current). */
export const UNCALIBRATED_SPREAD: MismatchSpread = { gain: 0.06, offset: 10 };
/** Spread of the membrane capacitor array (a 6-bit switched capacitor: gain only). */
export const CAPACITANCE_SPREAD: MismatchSpread = { gain: 0.02, offset: 0 };

/** The spread applied to a parameter (digital settings have none). */
export function mismatchSpread(name: string): MismatchSpread {
  if (name === STIMULUS_PARAM) return UNCALIBRATED_SPREAD;
  const p = parameterDef(name);
  if (p.transfer === 'identity') return { gain: 0, offset: 0 };
  if (name === 'c_mem') return CAPACITANCE_SPREAD;
  return p.calibrated ? CALIBRATED_SPREAD : UNCALIBRATED_SPREAD;
}

/** Names that carry mismatch, in a fixed order (the order seeds the Philox counters). */
export const MISMATCH_PARAMS: readonly string[] = [...ALL_PARAMETERS.map((p) => p.name), STIMULUS_PARAM];

/** One seeded chip instance. */
export interface Chip {
  readonly seed: number;
  readonly circuits: number;
  /** Relative gain of `name` on `circuit` (1 = nominal). */
  gain(name: string, circuit: number): number;
  /** Offset in CapMem LSB of `name` on `circuit`. */
  offset(name: string, circuit: number): number;
  /** Gains of `name` for all circuits (read-only view; do not modify). */
  gainTable(name: string): Float64Array;
  /** Offsets (LSB) of `name` for all circuits (read-only view; do not modify). */
  offsetTable(name: string): Float64Array;
  /** Model value that `circuit` realizes for CapMem `code` of parameter `name`. */
  capmemToModel(name: string, circuit: number, code: number): number;
  /** Model value `circuit` realizes when asked for model value `value` through the nominal transfer. */
  realize(name: string, circuit: number, value: number): number;
  /** Stimulus current (pA) `circuit` delivers for an `i_offset` request of `pA` nominal picoamps. */
  realizeCurrent(circuit: number, pA: number): number;
}

function boxMuller(u32a: number, u32b: number): number {
  const u1 = (u32a + 1) / 4294967297;
  const u2 = u32b / 4294967296;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/**
 * Create chip instance `seed` (integer 0..2^53-1). Deterministic: the same seed always gives the
 * same deviations.
 *
 * @example const chip = createChip(7); chip.capmemToModel('v_t', 3, 650) // ≈ -51.5 mV, circuit 3 of chip 7
 */
export function createChip(seed: number): Chip {
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new RangeError(`chipSeed must be an integer in 0..2^53-1, got ${seed}`);
  }
  const [k0, k1] = seedKey(seed);
  const gains = new Map<string, Float64Array>();
  const offsets = new Map<string, Float64Array>();
  const words = new Uint32Array(4);
  MISMATCH_PARAMS.forEach((name, pi) => {
    const spread = mismatchSpread(name);
    const g = new Float64Array(CIRCUITS);
    const o = new Float64Array(CIRCUITS);
    for (let c = 0; c < CIRCUITS; c++) {
      philox4x32(words, pi, c, STREAM.mismatch, 0, k0, k1);
      g[c] = 1 + spread.gain * boxMuller(words[0], words[1]);
      o[c] = spread.offset * boxMuller(words[2], words[3]);
    }
    gains.set(name, g);
    offsets.set(name, o);
  });
  const check = (name: string, circuit: number): void => {
    if (!gains.has(name)) throw new RangeError(`unknown parameter '${name}'`);
    if (!Number.isInteger(circuit) || circuit < 0 || circuit >= CIRCUITS) {
      throw new RangeError(`circuit must be an integer in 0..${CIRCUITS - 1}, got ${circuit}`);
    }
  };
  const effective = (name: string, circuit: number, code: number): number => {
    check(name, circuit);
    const eff = gains.get(name)![circuit] * code + offsets.get(name)![circuit];
    // A bias-current code cannot go below one LSB on a real cell; keeps reciprocal transfers finite.
    return name !== STIMULUS_PARAM && parameterDef(name).transfer === 'reciprocal' ? Math.max(eff, 1) : eff;
  };
  return {
    seed,
    circuits: CIRCUITS,
    gain: (name, circuit) => (check(name, circuit), gains.get(name)![circuit]),
    offset: (name, circuit) => (check(name, circuit), offsets.get(name)![circuit]),
    gainTable: (name) => (check(name, 0), gains.get(name)!),
    offsetTable: (name) => (check(name, 0), offsets.get(name)!),
    capmemToModel: (name, circuit, code) => capmemToModel(name, effective(name, circuit, code)),
    realize: (name, circuit, value) =>
      capmemToModel(name, effective(name, circuit, modelToCapmem(name, value))),
    realizeCurrent: (circuit, pA) => effective(STIMULUS_PARAM, circuit, pA),
  };
}

const chipCache = new Map<number, Chip>();

/** `createChip(seed)`, memoized for the few chips a session uses (chips are immutable). */
export function cachedChip(seed: number): Chip {
  let chip = chipCache.get(seed);
  if (!chip) {
    chip = createChip(seed);
    if (chipCache.size >= 8) chipCache.delete(chipCache.keys().next().value!);
    chipCache.set(seed, chip);
  }
  return chip;
}
