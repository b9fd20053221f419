import { describe, expect, it } from 'vitest';
import {
  boxVariance,
  checkTruth,
  contraction,
  summarizeSamples,
} from '../../main/diagnostics/posterior-metrics.ts';
import { spikeCountError, summaryAgreement, traceError } from '../../main/diagnostics/predictive.ts';

describe('posterior metrics', () => {
  it('summarizes samples and measures contraction against a box prior', () => {
    // parameter 0 uniform on 0..99, parameter 1 constant 5
    const n = 100;
    const s = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      s[2 * i] = i;
      s[2 * i + 1] = 5;
    }
    const sum = summarizeSamples(s, n, 2);
    expect(sum.mean[0]).toBeCloseTo(49.5, 6);
    expect(sum.q50[0]).toBeCloseTo(49.5, 6);
    expect(sum.q05[0]).toBeCloseTo(4.95, 6);
    expect(sum.std[1]).toBe(0);
    const prior = boxVariance({ low: [0, 0], high: [100, 10] });
    const c = contraction(sum.std, prior);
    expect(c[0]).toBeCloseTo(1 - 833.25 / (10000 / 12), 4);
    expect(c[1]).toBe(1);
    const t = checkTruth(sum, [50, 7], prior);
    expect(t.inside90).toEqual([true, false]);
    expect(t.error[1]).toBe(-2);
    expect(t.zScore[1]).toBe(-Infinity);
  });
});

describe('posterior-predictive metrics', () => {
  it('measures spike-count error and bias', () => {
    const e = spikeCountError([4, 6, 5, 9], 5);
    expect(e.meanAbsolute).toBe(1.5);
    expect(e.bias).toBe(1);
  });

  it('measures trace RMS error and skips non-finite predictive traces', () => {
    const obs = Float32Array.from([0, 0, 0, 0]);
    const pred = Float32Array.from([1, 1, 1, 1, -3, 3, -3, 3, NaN, 0, 0, 0]);
    const e = traceError(pred, 3, obs);
    expect(e.used).toBe(2);
    expect(e.meanRmse).toBe(2);
    expect(e.meanTraceRmse).toBeCloseTo(Math.sqrt((1 + 4 + 1 + 4) / 4), 6);
    expect(() => traceError(pred, 2, obs)).toThrow(/2 x 4/);
  });

  it('tabulates agreement per statistic', () => {
    const pred = new Float32Array(200);
    for (let i = 0; i < 100; i++) {
      pred[2 * i] = i;
      pred[2 * i + 1] = 10;
    }
    const rows = summaryAgreement(pred, [50, 12], ['a', 'b']);
    expect(rows[0].inside90).toBe(true);
    expect(rows[0].z).toBeCloseTo(0.5 / 28.866, 3);
    expect(rows[1].inside90).toBe(false);
    expect(rows[1].z).toBe(Infinity);
  });
});
