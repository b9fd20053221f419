import { describe, expect, it } from 'vitest';
import { codesToMillivolts, createEmulator, MADC_LSB_PER_MV } from '../../main/emulator/index.ts';
import { isis, PATTERNS, simulatePattern } from './patterns.ts';

const mean = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length;
const cv = (x: number[]) => {
  const m = mean(x);
  return Math.sqrt(mean(x.map((v) => (v - m) ** 2))) / m;
};

describe('subthreshold dynamics', () => {
  it('matches the closed-form relaxation EL + (I/gL)(1 - exp(-t gL/C)) to half an MADC LSB', async () => {
    const emu = createEmulator({ kernel: 'typescript' });
    const [c, tau, eL, i, onset] = [200, 20, -65, 200, 20];
    const res = await emu.simulate({
      theta: new Float32Array([c, tau, eL, 100, 2, 0, 0]),
      paramNames: ['c_mem', 'tau_mem', 'e_l', 'v_t', 'delta_t', 'a', 'b'],
      space: 'model',
      mode: 'ideal',
      fixed: { v_spike: 0 },
      stimulus: { kind: 'step', onset, duration: 1000, amplitude: i },
      duration: 200,
      seed: 0,
    });
    expect(res.spikeCounts[0]).toBe(0);
    const mv = codesToMillivolts(res.codes);
    const ts = 1e6 / res.sampleRate;
    let worst = 0;
    for (let k = 0; k < res.samples; k++) {
      const t = k * ts - onset;
      const exact = t <= 0 ? eL : eL + ((i * tau) / c) * (1 - Math.exp(-t / tau));
      worst = Math.max(worst, Math.abs(mv[k] - exact));
    }
    // Quantization (0.5 LSB) plus float32 rounding of the exponential-Euler update (exact for this ODE).
    expect(worst).toBeLessThan(0.5 / MADC_LSB_PER_MV + 1e-3);
    expect(mv[res.samples - 1]).toBeGreaterThan(-45.6); // relaxed to within 0.6 mV of V_inf = -45 mV
  });
});

describe('firing patterns of Naud et al. 2008 in ideal mode', () => {
  it('tonic spiking: regular spikes from the start with constant intervals', async () => {
    const { times } = await simulatePattern(PATTERNS.tonic);
    const d = isis(times);
    expect(times[0]).toBeLessThan(20);
    expect(times.length).toBeGreaterThan(40);
    expect(cv(d.slice(5))).toBeLessThan(0.01);
    expect(Math.max(...d) / Math.min(...d)).toBeLessThan(1.1);
  });

  it('adaptation: intervals lengthen monotonically and settle', async () => {
    const d = isis((await simulatePattern(PATTERNS.adaptation)).times);
    for (let k = 1; k < d.length; k++) expect(d[k]).toBeGreaterThanOrEqual(d[k - 1] - 1e-3);
    expect(d[d.length - 1] / d[0]).toBeGreaterThan(3);
    expect(cv(d.slice(-3))).toBeLessThan(0.02);
  });

  it('initial burst: closely spaced first spikes, then regular slower spiking', async () => {
    const d = isis((await simulatePattern(PATTERNS.initialBurst)).times);
    const steady = d.slice(4);
    expect(cv(steady)).toBeLessThan(0.02);
    expect(Math.max(d[0], d[1])).toBeLessThan(0.2 * mean(steady));
    expect(d[2]).toBeGreaterThan(0.5 * mean(steady));
  });

  it('regular bursting: repeating bursts separated by long pauses', async () => {
    const d = isis((await simulatePattern(PATTERNS.regularBursting)).times);
    const long = d.filter((x) => x > 50);
    const short = d.filter((x) => x <= 50);
    expect(long.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...short)).toBeLessThan(0.1 * Math.min(...long));
    expect(cv(long)).toBeLessThan(0.05); // the pauses repeat
    // No two consecutive long intervals: every pause is followed by a burst of >= 2 spikes.
    for (let k = 1; k < d.length; k++) expect(d[k] > 50 && d[k - 1] > 50).toBe(false);
  });

  it('delayed accelerating: a delay before the first spike, then shortening intervals', async () => {
    const { times } = await simulatePattern(PATTERNS.delayedAccelerating);
    const d = isis(times);
    expect(times[0]).toBeGreaterThan(d[0]);
    for (let k = 1; k < d.length; k++) expect(d[k]).toBeLessThanOrEqual(d[k - 1] + 1e-3);
    expect(d[d.length - 1]).toBeLessThan(0.7 * d[0]);
  });

  it('delayed regular bursting: a delay, then bursts', async () => {
    const { times } = await simulatePattern(PATTERNS.delayedRegularBursting);
    const d = isis(times);
    const long = d.filter((x) => x > 30);
    const short = d.filter((x) => x <= 30);
    expect(times[0]).toBeGreaterThan(40);
    expect(times[0]).toBeGreaterThan(3 * Math.max(...short));
    expect(long.length).toBeGreaterThanOrEqual(4);
    expect(short.length).toBeGreaterThanOrEqual(2 * long.length);
    expect(Math.max(...short)).toBeLessThan(0.25 * Math.min(...long));
  });

  it('transient spiking: a few spikes, then silence', async () => {
    const { times } = await simulatePattern(PATTERNS.transient);
    expect(times.length).toBeGreaterThanOrEqual(1);
    expect(times.length).toBeLessThanOrEqual(5);
    expect(times[times.length - 1]).toBeLessThan(100);
  });

  it('irregular spiking: intervals without a fixed order', async () => {
    const d = isis((await simulatePattern(PATTERNS.irregular)).times).slice(3);
    expect(d.length).toBeGreaterThan(15);
    expect(cv(d)).toBeGreaterThan(0.3);
    // No period of 1..8 intervals repeats: compare each interval with the one p later.
    for (let p = 1; p <= 8; p++) {
      const diff = mean(d.slice(p).map((x, k) => Math.abs(x - d[k])));
      expect(diff / mean(d)).toBeGreaterThan(0.05);
    }
    // The same test rejects the regular burster.
    const rb = isis((await simulatePattern(PATTERNS.regularBursting)).times).slice(2);
    const diff2 = mean(rb.slice(2).map((x, k) => Math.abs(x - rb[k])));
    expect(diff2 / mean(rb)).toBeLessThan(0.05);
  });
});

describe('integration step', () => {
  it('spike times converge (first order) as dt shrinks', async () => {
    for (const p of [PATTERNS.tonic, PATTERNS.adaptation]) {
      const ref = (await simulatePattern(p, { dt: 0.00125, duration: 200 })).times;
      const errs: number[] = [];
      for (const dt of [0.04, 0.02, 0.01, 0.005]) {
        const t = (await simulatePattern(p, { dt, duration: 200 })).times;
        expect(t.length).toBe(ref.length);
        errs.push(Math.max(...ref.slice(0, 6).map((r, k) => Math.abs(t[k] - r))));
      }
      for (let k = 1; k < errs.length; k++) expect(errs[k]).toBeLessThan(0.75 * errs[k - 1]);
      expect(errs[errs.length - 1]).toBeLessThan(0.2);
    }
  });
});
