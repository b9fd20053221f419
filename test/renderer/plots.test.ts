import { describe, expect, it } from 'vitest';
import { decimateMinMax } from '../../renderer/src/lib/decimate.ts';
import { hist1d, hist2d, jointRanges } from '../../renderer/src/lib/corner.ts';

describe('min-max decimation', () => {
  it('keeps a one-sample spike that plain striding would drop', () => {
    const v = new Float64Array(100_000).fill(300);
    v[54_321] = 650;
    const { x, y } = decimateMinMax(v, 0, v.length, 500, (i) => i);
    expect(y.length).toBe(1000);
    expect(Math.max(...y)).toBe(650);
    expect(x[y.indexOf(650)]).toBe(54_321);
    for (let i = 1; i < x.length; i++) expect(x[i]).toBeGreaterThanOrEqual(x[i - 1]);
  });

  it('returns the raw points when the range is small', () => {
    const v = [1, 2, 3, 4, 5];
    const { x, y } = decimateMinMax(v, 1, 4, 100, (i) => i * 10);
    expect([...x]).toEqual([10, 20, 30]);
    expect([...y]).toEqual([2, 3, 4]);
  });
});

describe('corner-plot binning', () => {
  it('ranges cover every set and the true value', () => {
    const a = new Float32Array([0, 10, 1, 11]);
    const b = new Float32Array([2, 9, 3, 12]);
    const r = jointRanges([a, b], 2, [5, 8]);
    expect(r[0].lo).toBeLessThan(0);
    expect(r[0].hi).toBeGreaterThan(5);
    expect(r[1].lo).toBeLessThan(8);
    expect(r[1].hi).toBeGreaterThan(12);
  });

  it('bins samples into the right cells', () => {
    const s = new Float32Array([0.1, 0.1, 0.1, 0.1, 0.9, 0.6]);
    const h = hist1d(s, 2, 0, { lo: 0, hi: 1 }, 2);
    expect([...h]).toEqual([1, 0.5]);
    const h2 = hist2d(s, 2, 0, 1, { lo: 0, hi: 1 }, { lo: 0, hi: 1 }, 2);
    expect([...h2]).toEqual([1, 0, 0, 0.5]);
  });
});
