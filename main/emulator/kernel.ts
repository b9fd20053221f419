/**
 * The TypeScript simulation kernel: the reference the native kernel is tested against and the
 * fallback when the addon is not built. Every operation is rounded to float32 (Math.fround) in the
 * same order as native/kernel.cc, so both kernels produce bit-identical traces and spikes.
 *
 * Per integration step of length dt (exponential Euler on the leak, see docs/emulator.md):
 *   I     = igain * I_stim(t) + ioff * on(t)
 *   V_inf = EL + (gL DeltaT 2^((V - VT) log2(e)/DeltaT) - w + I) / gL,  dm = exp(-dt/tau_mem)
 *   V'    = dm V + (1 - dm) V_inf + sigma * kick                      (free; kick uniform, see philox.ts)
 *   V'    = V_reset + (V - V_reset) exp(-dt/tau_reset)               (refractory)
 *   w'    = a (V - EL) + (w - a (V - EL)) exp(-dt/tau_w)             (held while refractory if paused)
 *   spike when V' >= v_spike (comparator): w' += b, V' = v_spike if t_ref > 0 else V_reset.
 */
import { LANE, LANE_FIELDS, READOUT, type ResolvedRequest } from './prepare.ts';
import { membraneKick, philox4x32, readoutNormal, STREAM } from './philox.ts';
import { MADC_MAX_CODE } from './madc.ts';

const f32 = Math.fround;

// 2^f on [-0.5, 0.5]: degree-5 polynomial evaluated in Estrin form (short dependency chain),
// max relative error 9e-8; same constants and operation order in native/kernel_impl.h.
const P1 = f32(0.6931469775881572);
const P2 = f32(0.24022242078175388);
const P3 = f32(0.055507337590391254);
const P4 = f32(0.009671512969906863);
const P5 = f32(0.001326472245223382);
/** Adding and subtracting 1.5 * 2^23 rounds a float32 to the nearest integer (ties to even). */
const ROUND_MAGIC = 12582912;
/** Exponent arguments are clamped to ±EXP_CLAMP (exp(80) ≈ 5.5e34 still triggers any comparator at once). */
export const EXP_CLAMP = 80;
const Y_CLAMP = f32(EXP_CLAMP * Math.LOG2E);
const POW2 = new Float64Array(256).map((_, k) => 2 ** (k - 127));

/**
 * The kernel's float32 2^y approximation (y = x * log2(e) gives exp(x); the kernel folds log2(e)
 * into the per-lane coefficient 1/DeltaT). Arguments are clamped to ±EXP_CLAMP * log2(e).
 */
export function fastExp2(yIn: number): number {
  return fastExp2Scaled(yIn, 1);
}

/**
 * gain * 2^y as the kernels compute it: p(f) * (2^n * gain), the gain folded into the exact power
 * of two (same operations as vexp2_parts and its caller in native/kernel_impl.h).
 */
export function fastExp2Scaled(yIn: number, gain: number): number {
  const y = yIn > Y_CLAMP ? Y_CLAMP : yIn < -Y_CLAMP ? -Y_CLAMP : yIn;
  const n = f32(y + ROUND_MAGIC) - ROUND_MAGIC;
  const f = f32(y - n);
  const f2 = f32(f * f);
  const f4 = f32(f2 * f2);
  const pa = f32(f32(P1 * f) + 1);
  const pb = f32(f32(P3 * f) + P2);
  const pc = f32(f32(P5 * f) + P4);
  const p = f32(f32(f4 * pc) + f32(f32(f2 * pb) + pa));
  return f32(p * f32(POW2[n + 127] * gain));
}

/** Spikes found in one chunk: count per lane and times (us), lane-major. */
export interface ChunkSpikes {
  counts: Int32Array;
  times: Float32Array;
}

/**
 * Simulate `m` lanes (rows start..start+m-1 of the request) with coefficients `lanes` prepared for
 * exactly those rows (prepareLanes(r, start, start + m)), writing MADC codes into `codes` (m * samples, row-major).
 */
export function simulateLanesTs(
  r: ResolvedRequest,
  lanes: Float32Array,
  start: number,
  m: number,
  codes: Int16Array,
): ChunkSpikes {
  const stride = lanes.length / LANE_FIELDS;
  const { steps, stepsPerSample: sps, samples, current, currentOn, hardware } = r;
  const [k0, k1] = r.seedKey;
  const dt = f32(r.dt);
  const mv0 = f32(READOUT.mvAtZero);
  const lpm = f32(READOUT.lsbPerMv);
  const rsig = f32(hardware ? READOUT.noiseLsb : 0);
  const counts = new Int32Array(m);
  let times = new Float32Array(1024);
  let nt = 0;
  const words = new Uint32Array(4);
  const rwords = new Uint32Array(4);
  const g = (f: number, i: number) => lanes[f * stride + i];
  for (let i = 0; i < m; i++) {
    const row = (r.rowOffset + start + i) >>> 0;
    const el = g(LANE.EL, i),
      vt = g(LANE.VT, i),
      expScale = g(LANE.EXP_SCALE, i),
      eGain = g(LANE.E_GAIN, i);
    const kLeak = g(LANE.K_LEAK, i),
      cEl = g(LANE.C_EL, i),
      dm = g(LANE.DM, i),
      dw = g(LANE.DW, i),
      a = g(LANE.A, i),
      b = g(LANE.B, i);
    const vReset = g(LANE.V_RESET, i),
      vSpike = g(LANE.V_SPIKE, i),
      drst = g(LANE.DRST, i);
    const refSteps = g(LANE.REF_STEPS, i),
      pause = g(LANE.PAUSE, i) !== 0,
      sigma = g(LANE.SIGMA, i);
    const igain = g(LANE.IGAIN, i),
      ioff = g(LANE.IOFF, i);
    let v = el;
    let w = 0;
    let ref = 0;
    let nz = 0;
    const out = i * samples;
    for (let s = 0, k = 0, next = 0; s < steps; s++) {
      if (s === next) {
        // MADC sample of the membrane at t = k * Ts (before this step's update).
        let x = f32(f32(v - mv0) * lpm);
        if (hardware) {
          // One Philox block: the readout noise of 8 samples (16 bits each).
          if ((k & 7) === 0) philox4x32(rwords, k >>> 3, row, STREAM.readout, 0, k0, k1);
          x = f32(x + f32(readoutNormal(rwords[(k >>> 1) & 3], 16 * (k & 1)) * rsig));
        }
        const c = Math.floor(f32(x + 0.5));
        codes[out + k] = c < 0 ? 0 : c > MADC_MAX_CODE ? MADC_MAX_CODE : c;
        k++;
        next += sps;
      }
      if (hardware) {
        // One Philox block: the membrane-noise kicks of 64 steps (2 bits each).
        if ((s & 63) === 0) philox4x32(words, s >>> 6, row, STREAM.membrane, 0, k0, k1);
        // The kick code n; the kick's offset sigma / 2 is part of cEl.
        nz = membraneKick(words[(s >>> 4) & 3], 30 - 2 * (s & 15));
      }
      const cur = f32(f32(igain * current[s]) + f32(ioff * currentOn[s]));
      const eScaled = fastExp2Scaled(f32(f32(v - vt) * expScale), eGain); // eGain * exp((V - VT) / DeltaT)
      // dm*V + (1-dm)*V_inf, split so the exponential's result passes through few operations.
      const vLin = f32(f32(f32(v * dm) + cEl) + f32(nz * sigma));
      const wt = f32(a * f32(v - el));
      const wFree = f32(wt + f32(f32(w - wt) * dw));
      let vn: number;
      let wn: number;
      if (ref > 0) {
        vn = f32(vReset + f32(f32(v - vReset) * drst));
        wn = pause ? w : wFree;
        ref--;
      } else {
        // The exponential's result passes through one sum (short dependency chain in the native kernel).
        vn = f32(eScaled + f32(f32(kLeak * f32(cur - w)) + vLin));
        wn = wFree;
        if (vn >= vSpike) {
          const den = f32(vn - v);
          let frac = den > 0 ? f32(f32(vSpike - v) / den) : 0;
          frac = frac < 0 ? 0 : frac > 1 ? 1 : frac;
          if (nt === times.length) {
            const grown = new Float32Array(times.length * 2);
            grown.set(times);
            times = grown;
          }
          times[nt++] = f32(f32(f32(s) + frac) * dt);
          counts[i]++;
          vn = refSteps > 0 ? vSpike : vReset;
          wn = f32(wn + b);
          ref = refSteps;
        }
      }
      v = vn;
      w = wn;
    }
  }
  return { counts, times: times.slice(0, nt) };
}
