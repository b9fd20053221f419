/**
 * Turns a `SimulationRequest` into the plain arrays both kernels consume: it validates every input
 * (exact RangeError/TypeError messages naming the parameter and the row), resolves each row to
 * model values (nominal transfer, plus the circuit's mismatch in hardware mode) and precomputes
 * per-lane float32 coefficients. The kernels trust what comes out of here.
 */
import type { SimulationRequest, StimulusProtocol } from './backend.ts';
import { cachedChip, CIRCUITS, type Chip } from './chip.ts';
import { MADC_LSB_PER_MV, MADC_MV_AT_ZERO, MADC_READOUT_NOISE_LSB } from './madc.ts';
import {
  ALL_PARAMETERS,
  DEFAULT_EXPERIMENT,
  madcSampleRate,
  parameterDef,
  STIMULUS_TRANSFER,
} from './parameters.ts';
import { KICK_VARIANCE, seedKey } from './philox.ts';

/** Stationary std of the temporal membrane noise in hardware mode, model mV (assumed, ≈2.4 LSB). */
export const MEMBRANE_NOISE_MV = 0.25;

/** Per-lane coefficient rows of `PreparedChunk.lanes` (SoA: field f of lane i at f * n + i). Same order in native/. */
export const LANE = {
  EL: 0,
  VT: 1,
  EXP_SCALE: 2,
  E_GAIN: 3,
  K_LEAK: 4,
  DM: 5,
  DW: 6,
  A: 7,
  B: 8,
  V_RESET: 9,
  V_SPIKE: 10,
  DRST: 11,
  REF_STEPS: 12,
  PAUSE: 13,
  SIGMA: 14,
  IGAIN: 15,
  IOFF: 16,
  C_EL: 17,
  V_AFTER: 18,
} as const;
export const LANE_FIELDS = 19;

/** Largest trace buffer a single request may ask for (bytes of Int16 codes). */
export const MAX_TRACE_BYTES = 2 ** 32;

/** Validated, resolved request-wide settings. */
export interface ResolvedRequest {
  n: number;
  samples: number;
  sampleRate: number;
  dt: number;
  steps: number;
  stepsPerSample: number;
  /** Stimulus current (model pA, nominal) per integration step, and whether the source is on. */
  current: Float32Array;
  currentOn: Float32Array;
  hardware: boolean;
  seedKey: [number, number];
  rowOffset: number;
  /** Resolve row i into model values (order of ALL_PARAMETERS) after mismatch; throws naming the row. */
  resolveRow(i: number, out: Float64Array): void;
  circuitOf(i: number): number;
  chip?: Chip;
}

const NAMES = ALL_PARAMETERS.map((p) => p.name);
const INDEX = new Map(NAMES.map((name, i) => [name, i]));
const idx = (name: string): number => INDEX.get(name)!;

function finite(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new RangeError(`${what} must be a finite number, got ${String(v)}`);
  return v;
}

function seedOf(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new RangeError(`${what} must be an integer in 0..2^53-1, got ${String(v)}`);
  }
  return v;
}

/** Plausible model-space bounds (inclusive unless noted); values outside are rejected as absurd. */
const MODEL_BOUNDS: Record<string, [number, number, boolean?]> = {
  tau_mem: [0, 1e4, true],
  v_reset: [-200, 100],
  v_t: [-200, 100],
  delta_t: [0, 50, true],
  a: [-1e3, 1e3],
  b: [-1e4, 1e4],
  tau_w: [0, 1e5, true],
  e_l: [-200, 100],
  v_spike: [-200, 100],
  c_mem: [0, 1e5, true],
  t_ref: [0, 1e4],
  tau_reset: [0, 1e3],
  pause: [0, 1],
};

// Per-parameter tables (index j of ALL_PARAMETERS), so resolving a row is a few array reads.
const NP = NAMES.length;
const KIND = new Int8Array(NP); // 0 identity, 1 linear, 2 reciprocal
const C0 = new Float64Array(NP);
const C1 = new Float64Array(NP);
const M0 = new Float64Array(NP);
const M1 = new Float64Array(NP);
const CAP_LO = new Float64Array(NP);
const CAP_HI = new Float64Array(NP);
const LO = new Float64Array(NP);
const HI = new Float64Array(NP);
const OPEN_LO = new Uint8Array(NP);
ALL_PARAMETERS.forEach((p, j) => {
  KIND[j] = p.transfer === 'identity' ? 0 : p.transfer === 'linear' ? 1 : 2;
  [C0[j], C1[j]] = p.capmemRange;
  [M0[j], M1[j]] = p.modelRange;
  CAP_LO[j] = p.transfer === 'reciprocal' || p.name === 'c_mem' ? 1 : 0;
  CAP_HI[j] = p.name === 'c_mem' ? 63 : 1022;
  [LO[j], HI[j]] = MODEL_BOUNDS[p.name];
  OPEN_LO[j] = MODEL_BOUNDS[p.name][2] ? 1 : 0;
});
const J_PAUSE = idx('pause');
const J_RESET = idx('v_reset');
const J_SPIKE = idx('v_spike');

/** Nominal transfer of parameter j (same math as parameters.ts table-driven). */
function nominal(j: number, code: number): number {
  const k = KIND[j];
  if (k === 1) return M0[j] + ((code - C0[j]) * (M1[j] - M0[j])) / (C1[j] - C0[j]);
  if (k === 2) return (M1[j] * C0[j]) / code;
  return code;
}

function inverse(j: number, value: number): number {
  const k = KIND[j];
  if (k === 1) return C0[j] + ((value - M0[j]) * (C1[j] - C0[j])) / (M1[j] - M0[j]);
  if (k === 2) return (M1[j] * C0[j]) / value;
  return value;
}

function unit(name: string): string {
  const u = parameterDef(name).unit;
  return u ? ` ${u}` : '';
}

function checkModel(vals: Float64Array, row: number, where = ''): void {
  for (let j = 0; j < NP; j++) {
    const v = vals[j];
    if (v >= LO[j] && v <= HI[j] && !(OPEN_LO[j] && v === LO[j])) continue;
    const name = NAMES[j];
    if (!Number.isFinite(v)) throw new RangeError(`row ${row}: parameter '${name}' is not finite (${v})`);
    throw new RangeError(
      `row ${row}: parameter '${name}' = ${v}${unit(name)}${where} is outside ${OPEN_LO[j] ? '(' : '['}${LO[j]}, ${HI[j]}]`,
    );
  }
  if (vals[J_PAUSE] !== 0 && vals[J_PAUSE] !== 1)
    throw new RangeError(`row ${row}: parameter 'pause' must be 0 or 1`);
  if (!(vals[J_RESET] < vals[J_SPIKE])) {
    throw new RangeError(
      `row ${row}: parameter 'v_reset' (${vals[J_RESET]} mV) must be below 'v_spike' (${vals[J_SPIKE]} mV)${where}`,
    );
  }
}

function checkCapmem(j: number, v: number, row: number): void {
  if (KIND[j] === 0) return; // digital settings keep model units in both spaces
  if (!(v >= CAP_LO[j] && v <= CAP_HI[j])) {
    throw new RangeError(
      `row ${row}: parameter '${NAMES[j]}' = ${v} LSB is outside the CapMem range [${CAP_LO[j]}, ${CAP_HI[j]}]`,
    );
  }
}

function stimulusSchedule(stim: StimulusProtocol, dt: number, steps: number, capmem: boolean) {
  const current = new Float32Array(steps);
  const on = new Float32Array(steps);
  const scale = capmem ? STIMULUS_TRANSFER.pAPerLsb : 1;
  const put = (from: number, to: number, amp: number) => {
    const a = Math.max(0, Math.round(from / dt));
    const b = Math.min(steps, Math.round(to / dt));
    for (let s = a; s < b; s++) {
      current[s] = amp * scale;
      on[s] = amp !== 0 ? 1 : 0;
    }
  };
  const checkAmp = (amp: number, what: string) => {
    finite(amp, what);
    if (capmem && (amp < 0 || amp > 1022))
      throw new RangeError(`${what} = ${amp} LSB is outside the CapMem range [0, 1022]`);
    if (!capmem && Math.abs(amp) > 1e6) throw new RangeError(`${what} = ${amp} pA is absurd (|I| > 1e6 pA)`);
  };
  if (!stim || typeof stim !== 'object')
    throw new TypeError('stimulus must be a step or piecewise protocol object');
  if (stim.kind === 'step') {
    const onset = finite(stim.onset, 'stimulus.onset');
    const dur = finite(stim.duration, 'stimulus.duration');
    checkAmp(stim.amplitude, 'stimulus.amplitude');
    if (onset < 0) throw new RangeError(`stimulus.onset must be >= 0 us, got ${onset}`);
    if (dur < 0) throw new RangeError(`stimulus.duration must be >= 0 us, got ${dur}`);
    put(onset, onset + dur, stim.amplitude);
  } else if (stim.kind === 'piecewise') {
    if (!Array.isArray(stim.segments)) throw new TypeError('stimulus.segments must be an array');
    let prev = -Infinity;
    stim.segments.forEach((seg, k) => {
      const start = finite(seg?.start, `stimulus.segments[${k}].start`);
      checkAmp(seg.amplitude, `stimulus.segments[${k}].amplitude`);
      if (start < 0 || start <= prev)
        throw new RangeError(`stimulus.segments[${k}].start must be >= 0 and increasing, got ${start}`);
      prev = start;
      const end = k + 1 < stim.segments.length ? stim.segments[k + 1].start : Infinity;
      put(start, Math.min(end, steps * dt), seg.amplitude);
    });
  } else {
    throw new TypeError(
      `stimulus.kind must be 'step' or 'piecewise', got '${String((stim as { kind?: unknown }).kind)}'`,
    );
  }
  return { current, on };
}

/**
 * Validate a request and resolve its shared settings. Throws TypeError for wrong types and
 * RangeError for bad values, naming the field, parameter and row.
 */
export function resolveRequest(req: SimulationRequest): ResolvedRequest {
  if (!req || typeof req !== 'object') throw new TypeError('request must be an object');
  if (!(req.theta instanceof Float32Array)) throw new TypeError('theta must be a Float32Array');
  if (!Array.isArray(req.paramNames)) throw new TypeError('paramNames must be an array of parameter names');
  if (req.space !== 'model' && req.space !== 'capmem')
    throw new RangeError(`space must be 'model' or 'capmem', got '${String(req.space)}'`);
  if (req.mode !== 'ideal' && req.mode !== 'hardware')
    throw new RangeError(`mode must be 'ideal' or 'hardware', got '${String(req.mode)}'`);
  const capmem = req.space === 'capmem';
  const hardware = req.mode === 'hardware';
  const nParams = req.paramNames.length;
  const seen = new Set<string>();
  const cols = req.paramNames.map((name) => {
    if (seen.has(name)) throw new RangeError(`paramNames lists '${name}' twice`);
    seen.add(name);
    parameterDef(name);
    return idx(name);
  });
  if (nParams === 0 && req.theta.length !== 0)
    throw new RangeError('theta has values but paramNames is empty');
  if (nParams > 0 && req.theta.length % nParams !== 0) {
    throw new RangeError(
      `theta has ${req.theta.length} values, not a multiple of ${nParams} parameters (${req.paramNames.join(', ')})`,
    );
  }
  const n = nParams > 0 ? req.theta.length / nParams : 0;

  const adjust = DEFAULT_EXPERIMENT.madcAdjust;
  const sampleRate = madcSampleRate(adjust);
  const ts = 1e6 / sampleRate;
  const duration = finite(req.duration, 'duration');
  if (duration <= 0) throw new RangeError(`duration must be > 0 us, got ${duration}`);
  const samples = Math.round(duration / ts);
  if (samples < 1 || Math.abs(samples * ts - duration) > 1e-6 * ts) {
    throw new RangeError(`duration ${duration} us is not a whole number of MADC samples (${ts} us each)`);
  }
  if (samples > 65535)
    throw new RangeError(
      `duration ${duration} us exceeds the MADC limit of 65535 samples (${65535 * ts} us)`,
    );
  const dt = finite(req.dt ?? DEFAULT_EXPERIMENT.dt, 'dt');
  if (!(dt >= 1e-4 && dt <= ts))
    throw new RangeError(`dt must be in [0.0001, ${ts}] us (one MADC sample), got ${dt}`);
  const stepsPerSample = Math.round(ts / dt);
  if (Math.abs(stepsPerSample * dt - ts) > 1e-6 * ts)
    throw new RangeError(`dt ${dt} us must divide the MADC sample period ${ts} us`);
  const steps = samples * stepsPerSample;
  if (n * samples * 2 > MAX_TRACE_BYTES) {
    throw new RangeError(
      `n = ${n} rows of ${samples} samples need ${((n * samples * 2) / 2 ** 30).toFixed(1)} GiB of traces; split the batch (limit ${MAX_TRACE_BYTES / 2 ** 30} GiB)`,
    );
  }

  const seed = seedOf(req.seed, 'seed');
  const rowOffset = seedOf(req.rowOffset ?? 0, 'rowOffset');
  if (rowOffset + n > 2 ** 32)
    throw new RangeError(`rowOffset + n must not exceed 2^32, got ${rowOffset + n}`);
  const chip = hardware ? cachedChip(seedOf(req.chipSeed ?? 0, 'chipSeed')) : undefined;
  const circuits = req.circuits;
  if (circuits !== undefined) {
    if (!(circuits instanceof Int32Array)) throw new TypeError('circuits must be an Int32Array');
    if (circuits.length !== n)
      throw new RangeError(`circuits has ${circuits.length} entries, expected one per row (${n})`);
    for (let i = 0; i < n; i++) {
      if (circuits[i] < 0 || circuits[i] >= CIRCUITS)
        throw new RangeError(`circuits[${i}] = ${circuits[i]} is outside 0..${CIRCUITS - 1}`);
    }
  }

  // Base values (request space) of every parameter before per-row columns override them.
  const base = new Float64Array(NAMES.length);
  const defaults = capmem ? DEFAULT_EXPERIMENT.fixedCapmem : DEFAULT_EXPERIMENT.fixed;
  ALL_PARAMETERS.forEach((p, j) => {
    const inferredMid = capmem
      ? (p.capmemRange[0] + p.capmemRange[1]) / 2
      : (p.modelRange[0] + p.modelRange[1]) / 2;
    base[j] = defaults[p.name] ?? inferredMid;
  });
  for (const [name, v] of Object.entries(req.fixed ?? {})) {
    parameterDef(name);
    base[idx(name)] = finite(v, `fixed.${name}`);
  }
  const { current, on } = stimulusSchedule(req.stimulus, dt, steps, capmem);

  const gainT = chip ? NAMES.map((name) => chip.gainTable(name)) : [];
  const offT = chip ? NAMES.map((name) => chip.offsetTable(name)) : [];
  // A circuit realizes nominal(gain * code + offset); bias codes cannot drop below 1 LSB.
  const mismatch = (j: number, circuit: number, code: number): number => {
    const eff = gainT[j][circuit] * code + offT[j][circuit];
    return nominal(j, KIND[j] === 2 ? Math.max(eff, 1) : eff);
  };
  const theta = req.theta;
  const resolveRow = (i: number, out: Float64Array): void => {
    const row = rowOffset + i;
    out.set(base);
    for (let k = 0; k < nParams; k++) {
      const v = theta[i * nParams + k];
      if (!Number.isFinite(v))
        throw new RangeError(`row ${row}: parameter '${req.paramNames[k]}' is not finite (${v})`);
      out[cols[k]] = v;
    }
    const circuit = circuits ? circuits[i] : 0;
    if (capmem) {
      for (let j = 0; j < NP; j++) {
        checkCapmem(j, out[j], row);
        out[j] = chip ? mismatch(j, circuit, out[j]) : nominal(j, out[j]);
      }
    } else if (chip) {
      checkModel(out, row); // the requested values, before the circuit distorts them
      for (let j = 0; j < NP; j++) out[j] = mismatch(j, circuit, inverse(j, out[j]));
    }
    checkModel(out, row, chip ? ` on circuit ${circuit}` : '');
  };
  return {
    n,
    samples,
    sampleRate,
    dt,
    steps,
    stepsPerSample,
    current,
    currentOn: on,
    hardware,
    seedKey: seedKey(seed),
    rowOffset,
    resolveRow,
    chip,
    circuitOf: (i) => (circuits ? circuits[i] : 0),
  };
}

/** Per-lane coefficients for rows [start, end) of a resolved request (SoA float32, LANE_FIELDS rows). */
export function prepareLanes(r: ResolvedRequest, start: number, end: number): Float32Array {
  const m = end - start;
  const lanes = new Float32Array(LANE_FIELDS * m);
  const v = new Float64Array(NP);
  const dt = r.dt;
  const [jC, jTau, jDT, jTauReset, jEl, jVt, jTauW, jA, jB, jRef] = [
    'c_mem',
    'tau_mem',
    'delta_t',
    'tau_reset',
    'e_l',
    'v_t',
    'tau_w',
    'a',
    'b',
    't_ref',
  ].map(idx);
  const igain = r.chip?.gainTable('i_offset');
  const ioff = r.chip?.offsetTable('i_offset');
  for (let i = 0; i < m; i++) {
    r.resolveRow(start + i, v);
    const gL = v[jC] / v[jTau];
    const dT = v[jDT];
    const dm = Math.exp(-dt / v[jTau]);
    const oneMinusDm = -Math.expm1(-dt / v[jTau]); // 1 - dm without cancellation
    const refSteps = Math.round(v[jRef] / dt);
    const tauReset = v[jTauReset];
    const circuit = r.circuitOf(start + i);
    lanes[LANE.EL * m + i] = v[jEl];
    lanes[LANE.VT * m + i] = v[jVt];
    lanes[LANE.EXP_SCALE * m + i] = Math.LOG2E / dT;
    // (1 - dm) gL DeltaT / gL: the exponential current's weight in the leak update.
    lanes[LANE.E_GAIN * m + i] = oneMinusDm * dT;
    lanes[LANE.K_LEAK * m + i] = oneMinusDm / gL;
    // Exact Ornstein-Uhlenbeck discretization (stationary std MEMBRANE_NOISE_MV with decay dm), per
    // unit of the uniform kick the kernel draws (variance KICK_VARIANCE).
    const sigma = r.hardware ? MEMBRANE_NOISE_MV * Math.sqrt((1 - dm * dm) / KICK_VARIANCE) : 0;
    // (1 - dm) EL, plus the kicks' offset: the kernels add sigma * n for the kick code n in -2..1,
    // and the kick is sigma * (n + 0.5) (membraneKick), one addition fewer per step.
    lanes[LANE.C_EL * m + i] = oneMinusDm * v[jEl] + 0.5 * sigma;
    lanes[LANE.DM * m + i] = dm;
    lanes[LANE.DW * m + i] = Math.exp(-dt / v[jTauW]);
    lanes[LANE.A * m + i] = v[jA];
    lanes[LANE.B * m + i] = v[jB];
    lanes[LANE.V_RESET * m + i] = v[J_RESET];
    lanes[LANE.V_SPIKE * m + i] = v[J_SPIKE];
    lanes[LANE.DRST * m + i] = tauReset > 0 ? Math.exp(-dt / tauReset) : 0;
    lanes[LANE.REF_STEPS * m + i] = refSteps;
    // Where V goes at a spike: held at the comparator level while the reset conductance acts, or V_reset at once.
    lanes[LANE.V_AFTER * m + i] = refSteps > 0 ? v[J_SPIKE] : v[J_RESET];
    lanes[LANE.PAUSE * m + i] = v[J_PAUSE];
    lanes[LANE.SIGMA * m + i] = sigma;
    lanes[LANE.IGAIN * m + i] = igain ? igain[circuit] : 1;
    lanes[LANE.IOFF * m + i] = ioff ? ioff[circuit] * STIMULUS_TRANSFER.pAPerLsb : 0;
  }
  return lanes;
}

/** Readout constants shared by both kernels. */
export const READOUT = {
  mvAtZero: MADC_MV_AT_ZERO,
  lsbPerMv: MADC_LSB_PER_MV,
  noiseLsb: MADC_READOUT_NOISE_LSB,
} as const;
