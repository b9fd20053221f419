import { describe, expect, it } from 'vitest';
import {
  chiSquareSurvival,
  ksSurvival,
  ksUniformStatistic,
  logGamma,
  sortedQuantile,
} from '../../main/diagnostics/stats.ts';

describe('statistics toolkit', () => {
  it('matches tabulated chi-square critical values', () => {
    expect(chiSquareSurvival(3.841459, 1)).toBeCloseTo(0.05, 5);
    expect(chiSquareSurvival(18.307038, 10)).toBeCloseTo(0.05, 5);
    expect(chiSquareSurvival(30.143527, 19)).toBeCloseTo(0.05, 5);
    expect(chiSquareSurvival(0, 5)).toBe(1);
    expect(chiSquareSurvival(200, 5)).toBeLessThan(1e-30);
  });

  it('computes log-gamma of integers as log factorials', () => {
    expect(logGamma(1)).toBeCloseTo(0, 12);
    expect(logGamma(6)).toBeCloseTo(Math.log(120), 12);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
  });

  it('gives the Kolmogorov-Smirnov 5% point near 1.358 / sqrt(n)', () => {
    const n = 10_000;
    expect(ksSurvival(1.3581 / Math.sqrt(n), n)).toBeCloseTo(0.05, 2);
    expect(ksSurvival(0, n)).toBe(1);
  });

  it('measures the KS distance of an evenly spread sample as 1 / (2n)', () => {
    const u = Array.from({ length: 100 }, (_, i) => (i + 0.5) / 100);
    expect(ksUniformStatistic(u)).toBeCloseTo(0.005, 10);
    expect(ksUniformStatistic([0.1, 0.1, 0.1])).toBeCloseTo(0.9, 10);
  });

  it('interpolates quantiles between order statistics', () => {
    expect(sortedQuantile([1, 2, 3, 4, 5], 0.5)).toBe(3);
    expect(sortedQuantile([0, 10], 0.25)).toBe(2.5);
  });
});
