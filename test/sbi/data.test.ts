import { describe, expect, it } from 'vitest';
import { arrayPairSource, DataError, scanPairs, splitTrainValidation } from '../../main/sbi/data.ts';
import { Rng } from '../../main/sbi/rng.ts';

describe('arrayPairSource', () => {
  it('returns rows in the requested order', () => {
    const src = arrayPairSource(new Float32Array([1, 2, 3, 4, 5, 6]), new Float32Array([10, 20, 30]), 2, 1);
    const { theta, x } = src.read(new Uint32Array([2, 0]));
    expect(Array.from(theta)).toEqual([5, 6, 1, 2]);
    expect(Array.from(x)).toEqual([30, 10]);
  });

  it('rejects mismatched row counts, naming both', () => {
    expect(() => arrayPairSource(new Float32Array(6), new Float32Array(4), 2, 1)).toThrow(
      /3 rows but x has 4 rows/,
    );
  });

  it('rejects a length that is not a multiple of the dimension', () => {
    expect(() => arrayPairSource(new Float32Array(5), new Float32Array(5), 2, 1)).toThrow(
      /not a multiple of thetaDim 2/,
    );
  });
});

describe('scanPairs', () => {
  it('excludes and counts rows with NaN or inf and computes statistics from the rest', () => {
    const theta = new Float32Array([1, NaN, 3, 5, 7]);
    const x = new Float32Array([2, 2, Infinity, 4, 6]);
    const scan = scanPairs(arrayPairSource(theta, x, 1, 1), 2);
    expect(scan.excluded).toBe(2);
    expect(scan.excludedExamples).toEqual([1, 2]);
    expect(Array.from(scan.valid)).toEqual([0, 3, 4]);
    expect(scan.theta.mean[0]).toBeCloseTo((1 + 5 + 7) / 3, 10);
    expect(scan.theta.std[0]).toBeCloseTo(
      Math.sqrt(((1 - 13 / 3) ** 2 + (5 - 13 / 3) ** 2 + (7 - 13 / 3) ** 2) / 2),
      6,
    );
    expect(scan.x.mean[0]).toBeCloseTo(4, 10);
  });

  it('gives std 1 to a constant dimension', () => {
    const scan = scanPairs(arrayPairSource(new Float32Array([3, 3, 3]), new Float32Array([1, 2, 3]), 1, 1));
    expect(scan.theta.std[0]).toBe(1);
  });

  it('hashes the data so that any change is visible', () => {
    const a = scanPairs(arrayPairSource(new Float32Array([1, 2]), new Float32Array([3, 4]), 1, 1)).hash;
    const b = scanPairs(arrayPairSource(new Float32Array([1, 2]), new Float32Array([3, 4.5]), 1, 1)).hash;
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(a).not.toBe(b);
  });

  it('refuses an empty or all-NaN data set', () => {
    expect(() => scanPairs(arrayPairSource(new Float32Array(0), new Float32Array(0), 1, 1))).toThrow(/empty/);
    expect(() =>
      scanPairs(arrayPairSource(new Float32Array([NaN, 1]), new Float32Array([1, NaN]), 1, 1)),
    ).toThrow(DataError);
  });
});

describe('splitTrainValidation', () => {
  it('partitions the rows reproducibly for a seed', () => {
    const valid = Uint32Array.from({ length: 100 }, (_, i) => i);
    const a = splitTrainValidation(valid, 0.1, new Rng(7));
    const b = splitTrainValidation(valid, 0.1, new Rng(7));
    expect(a.validation.length).toBe(10);
    expect(a.train.length).toBe(90);
    expect(Array.from(a.train)).toEqual(Array.from(b.train));
    expect(new Set([...a.train, ...a.validation]).size).toBe(100);
  });
});

describe('Rng', () => {
  it('resumes exactly from a saved state, also through JSON', () => {
    const r = new Rng(3);
    r.normal();
    const saved = JSON.parse(JSON.stringify(r.state()));
    const seq = [r.normal(), r.normal(), r.uniform()];
    const r2 = Rng.fromState(saved);
    expect([r2.normal(), r2.normal(), r2.uniform()]).toEqual(seq);
  });

  it('draws normals with mean 0 and variance 1', () => {
    const r = new Rng(1);
    const z = r.fillNormal(new Float32Array(200_000));
    let m = 0;
    let v = 0;
    for (const a of z) m += a / z.length;
    for (const a of z) v += (a - m) ** 2 / z.length;
    expect(Math.abs(m)).toBeLessThan(0.01);
    expect(Math.abs(v - 1)).toBeLessThan(0.01);
  });
});
