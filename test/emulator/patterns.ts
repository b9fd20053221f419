/**
 * The eight AdEx reference parameter sets of Naud et al. 2008 (../shared/reference/adex-firing-patterns.md)
 * and a helper that simulates them in ideal model space with the Naud spike rule (v_spike = 0 mV,
 * instantaneous reset).
 */
import { createEmulator, type KernelChoice } from '../../main/emulator/index.ts';

export interface PatternParams {
  c: number;
  gL: number;
  eL: number;
  vT: number;
  deltaT: number;
  a: number;
  tauW: number;
  b: number;
  vR: number;
  i: number;
}

const row = (
  c: number,
  gL: number,
  eL: number,
  vT: number,
  deltaT: number,
  a: number,
  tauW: number,
  b: number,
  vR: number,
  i: number,
): PatternParams => ({ c, gL, eL, vT, deltaT, a, tauW, b, vR, i });

export const PATTERNS = {
  tonic: row(200, 10, -70, -50, 2, 2, 30, 0, -58, 500),
  adaptation: row(200, 12, -70, -50, 2, 2, 300, 60, -58, 500),
  initialBurst: row(130, 18, -58, -50, 2, 4, 150, 120, -50, 400),
  regularBursting: row(200, 10, -58, -50, 2, 2, 120, 100, -46, 210),
  delayedAccelerating: row(200, 12, -70, -50, 2, -10, 300, 0, -58, 300),
  delayedRegularBursting: row(100, 10, -65, -50, 2, -10, 90, 30, -47, 110),
  transient: row(100, 10, -65, -50, 2, 10, 90, 100, -47, 180),
  irregular: row(100, 12, -60, -50, 2, -11, 130, 30, -48, 160),
} satisfies Record<string, PatternParams>;

export const PATTERN_COLUMNS = [
  'c_mem',
  'tau_mem',
  'e_l',
  'v_t',
  'delta_t',
  'a',
  'tau_w',
  'b',
  'v_reset',
] as const;

/** Simulate one pattern for `duration` us (= ms biological) with step `dt`; returns spike times. */
export async function simulatePattern(
  p: PatternParams,
  { duration = 600, dt = 0.01, kernel = 'typescript' as KernelChoice } = {},
): Promise<{ times: number[]; codes: Int16Array }> {
  const emu = createEmulator({ kernel });
  const theta = new Float32Array([p.c, p.c / p.gL, p.eL, p.vT, p.deltaT, p.a, p.tauW, p.b, p.vR]);
  const res = await emu.simulate({
    theta,
    paramNames: PATTERN_COLUMNS,
    space: 'model',
    mode: 'ideal',
    fixed: { v_spike: 0, t_ref: 0 },
    stimulus: { kind: 'step', onset: 0, duration, amplitude: p.i },
    duration,
    dt,
    seed: 0,
  });
  return { times: Array.from(res.spikeTimes), codes: res.codes };
}

/** Inter-spike intervals. */
export function isis(times: number[]): number[] {
  return times.slice(1).map((t, k) => t - times[k]);
}
