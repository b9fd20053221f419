/**
 * Parameters of the emulated BrainScaleS-2 AdEx neuron circuit: the seven inferred parameters,
 * the fixed (per-experiment) parameters, their CapMem cells, ranges and nominal CapMem -> model
 * transfer functions, and the default experiment.
 *
 * Units of the model space are biological-equivalent: mV, nS, pF, pA and time in ms, which is
 * numerically equal to hardware microseconds because the chip runs 1000x faster than biology.
 * All times in requests and results are therefore written in hardware microseconds (`us`).
 *
 * Sources: ../../../shared/reference/bss2-facts.md (CapMem cells and the ranges of a public BSS-2
 * AdEx demo), Naud et al. 2008 (the model). The affine/reciprocal transfer functions and the
 * model ranges are this workbench's nominal choices; see docs/emulator.md.
 */

/** How a CapMem code maps to a model value. */
export type TransferKind =
  /** model = m0 + (code - c0) * (m1 - m0) / (c1 - c0): reference voltages and current amplitudes. */
  | 'linear'
  /** model = k / code: time constants set by a bias current (tau ∝ 1/I_bias). */
  | 'reciprocal'
  /** model = code: digital settings (refractory counter, switches) that are not stored in CapMem. */
  | 'identity';

/** One emulator parameter, as seen in both parameter spaces. */
export interface ParameterDef {
  /** Column name used in requests, `theta.npy` headers and the UI. */
  name: string;
  /** Human label. */
  label: string;
  /** Unit in model space (biological-equivalent; times in hardware us = biological ms). */
  unit: string;
  /** The neuron-circuit cell this parameter is set by on the chip. */
  capmemCell: string;
  /** Documented CapMem range (LSB) of the prior; `linear` and `reciprocal` transfers map its ends to `modelRange`. */
  capmemRange: readonly [number, number];
  /** Model-space range corresponding to `capmemRange` (ordered low, high). */
  modelRange: readonly [number, number];
  transfer: TransferKind;
  /** Whether fixed-pattern mismatch follows calibration (leak, reset, threshold: smaller spread). */
  calibrated: boolean;
}

function def(
  name: string,
  label: string,
  unit: string,
  capmemCell: string,
  capmemRange: [number, number],
  modelRange: [number, number],
  transfer: TransferKind,
  calibrated: boolean,
): ParameterDef {
  return { name, label, unit, capmemCell, capmemRange, modelRange, transfer, calibrated };
}

/**
 * The seven inferred parameters of the default experiment, in the column order of `theta`.
 * Time constants use a reciprocal transfer (the bias current sets a conductance), voltages and
 * amplitudes an affine one.
 */
export const INFERRED_PARAMETERS: readonly ParameterDef[] = [
  def('tau_mem', 'membrane time constant C/gL', 'us', 'leak_i_bias', [50, 500], [5, 50], 'reciprocal', true),
  def('v_reset', 'reset potential', 'mV', 'reset_v_reset', [400, 1000], [-70, -50], 'linear', true),
  def('v_t', 'exponential threshold VT', 'mV', 'exponential_v_exp', [300, 1000], [-58, -45], 'linear', false),
  def('delta_t', 'slope factor DeltaT', 'mV', 'exponential_i_bias', [100, 1000], [0.5, 4], 'linear', false),
  def('a', 'subthreshold adaptation a', 'nS', 'adaptation_i_bias_a', [0, 300], [0, 8], 'linear', false),
  def('b', 'spike-triggered adaptation b', 'pA', 'adaptation_i_bias_b', [0, 500], [0, 100], 'linear', false),
  def(
    'tau_w',
    'adaptation time constant',
    'us',
    'adaptation_i_bias_tau',
    [20, 600],
    [10, 300],
    'reciprocal',
    false,
  ),
];

/**
 * Parameters that are fixed per experiment (editable through `SimulationRequest.fixed`, or listed
 * as columns of `theta` to vary them per row).
 */
export const FIXED_PARAMETERS: readonly ParameterDef[] = [
  def('e_l', 'leak reversal potential EL', 'mV', 'leak_v_leak', [400, 1000], [-75, -55], 'linear', true),
  def(
    'v_spike',
    'spike comparator threshold',
    'mV',
    'threshold_v_threshold',
    [400, 1000],
    [-50, 0],
    'linear',
    true,
  ),
  def(
    'c_mem',
    'membrane capacitance',
    'pF',
    'membrane_capacitance',
    [1, 63],
    [200 / 63, 200],
    'linear',
    false,
  ),
  def('t_ref', 'refractory time (counter)', 'us', 'refractory_counter', [0, 32], [0, 32], 'identity', false),
  def(
    'tau_reset',
    'reset time constant C/g_reset',
    'us',
    'reset_i_bias',
    [100, 1022],
    [0.1, 0.1 * (1022 / 100)],
    'reciprocal',
    true,
  ),
  def(
    'pause',
    'pause exp. and adaptation during reset (0/1)',
    '',
    'switch',
    [0, 1],
    [0, 1],
    'identity',
    false,
  ),
];

/** Every parameter by name (inferred first). */
export const ALL_PARAMETERS: readonly ParameterDef[] = [...INFERRED_PARAMETERS, ...FIXED_PARAMETERS];

const BY_NAME = new Map(ALL_PARAMETERS.map((p) => [p.name, p]));

/** Look up a parameter definition; throws a RangeError naming the unknown parameter. */
export function parameterDef(name: string): ParameterDef {
  const p = BY_NAME.get(name);
  if (!p) throw new RangeError(`unknown parameter '${name}' (known: ${[...BY_NAME.keys()].join(', ')})`);
  return p;
}

/**
 * The stimulus current cell (`constant_current_i_offset`): CapMem LSB -> pA, 1 pA per LSB over
 * 0..1000 LSB (nominal, assumed). Used for stimulus amplitudes in the `capmem` space.
 */
export const STIMULUS_TRANSFER = { capmemCell: 'constant_current_i_offset', pAPerLsb: 1 } as const;

/** Nominal CapMem -> model transfer for one parameter (no mismatch). Extrapolates outside `capmemRange`. */
export function capmemToModel(name: string, code: number): number {
  const p = parameterDef(name);
  const [c0, c1] = p.capmemRange;
  const [m0, m1] = p.modelRange;
  switch (p.transfer) {
    case 'identity':
      return code;
    case 'linear':
      return m0 + ((code - c0) * (m1 - m0)) / (c1 - c0);
    case 'reciprocal':
      // tau = k / code with k chosen so that c0 -> m1 (largest tau) and c1 -> m0.
      return (m1 * c0) / code;
  }
}

/** Inverse of `capmemToModel` (nominal transfer), returning a real-valued code. */
export function modelToCapmem(name: string, value: number): number {
  const p = parameterDef(name);
  const [c0, c1] = p.capmemRange;
  const [m0, m1] = p.modelRange;
  switch (p.transfer) {
    case 'identity':
      return value;
    case 'linear':
      return c0 + ((value - m0) * (c1 - c0)) / (m1 - m0);
    case 'reciprocal':
      return (m1 * c0) / value;
  }
}

/** MADC sampling rate for a clock adjust setting: 500 MHz / (adjust + 12) samples per second. */
export function madcSampleRate(adjust: number): number {
  return 500e6 / (adjust + 12);
}

/** Everything the default experiment fixes. Times in hardware microseconds. */
export interface ExperimentDefaults {
  /** Recording length, us (hardware). 1000 samples at 5 MSa/s. */
  duration: number;
  /** MADC clock adjust; the sampling rate is 500 MHz / (adjust + 12). */
  madcAdjust: number;
  /** MADC samples per second (hardware time). */
  sampleRate: number;
  /** Samples per trace. */
  samples: number;
  /** Integration step, us (hardware). Must divide the sampling period. */
  dt: number;
  /** Step-current protocol; amplitude in pA (model space). */
  stimulus: { kind: 'step'; onset: number; duration: number; amplitude: number };
  /** Values of the fixed parameters in model space. */
  fixed: Readonly<Record<string, number>>;
  /** The same fixed parameters as CapMem codes (nominal transfer). */
  fixedCapmem: Readonly<Record<string, number>>;
  /** Stimulus amplitude as an `i_offset` CapMem code. */
  stimulusCapmem: number;
}

const ADJUST = 88;
const RATE = madcSampleRate(ADJUST);

/**
 * The default experiment: 200 us of recording (1000 MADC samples at 5 MSa/s), a 500 pA step from
 * 20 us to 180 us (20 us pre-stimulus baseline, 20 us after offset), EL = -65 mV, comparator at
 * -35 mV, C = 200 pF, 2 us refractory time with a strong reset conductance, exponential and
 * adaptation currents paused during reset, integration step 0.05 us.
 */
export const DEFAULT_EXPERIMENT: ExperimentDefaults = {
  duration: 200,
  madcAdjust: ADJUST,
  sampleRate: RATE,
  samples: 1000,
  dt: 0.05,
  stimulus: { kind: 'step', onset: 20, duration: 160, amplitude: 500 },
  fixed: { e_l: -65, v_spike: -35, c_mem: 200, t_ref: 2, tau_reset: 0.1, pause: 1 },
  fixedCapmem: {
    e_l: modelToCapmem('e_l', -65),
    v_spike: modelToCapmem('v_spike', -35),
    c_mem: 63,
    t_ref: 2,
    tau_reset: 1022,
    pause: 1,
  },
  stimulusCapmem: 500 / STIMULUS_TRANSFER.pAPerLsb,
};
