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

  it('pools x over all dimensions for structured z-scoring, from the finite rows only', () => {
    const x = new Float32Array([1, 2, NaN, 0, 5, 8]);
    const scan = scanPairs(arrayPairSource(new Float32Array([0, 1, 2]), x, 1, 2), 2);
    const values = [1, 2, 5, 8];
    const mean = values.reduce((s, v) => s + v, 0) / 4;
    const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / 3);
    expect(scan.xPooled.mean).toHaveLength(2);
    for (let d = 0; d < 2; d++) {
      expect(scan.xPooled.mean[d]).toBeCloseTo(mean, 10);
      expect(scan.xPooled.std[d]).toBeCloseTo(std, 10);
    }
    expect(scan.x.mean).toEqual([3, 5]);
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

  it('refuses a saved state that is not four 32-bit words or is all zero', () => {
    expect(() => Rng.fromState([1, 2, 3, -1, null])).toThrow(/32-bit unsigned integers/);
    expect(() => Rng.fromState([1, 2, 'x' as unknown as number, 4, null])).toThrow(/32-bit unsigned/);
    expect(() => Rng.fromState([0, 0, 0, 0, null])).toThrow(/all four words are zero/);
    expect(() => Rng.fromState([1, 2, 3])).toThrow(/5 numbers/);
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

  it('fills arrays with the same draws as repeated normal(), and leaves the same state', () => {
    const a = new Rng(11);
    const b = new Rng(11);
    const filled = a.fillNormal(new Float32Array(50_000));
    const one = Float32Array.from({ length: 50_000 }, () => b.normal());
    expect(Array.from(filled)).toEqual(Array.from(one));
    expect(a.state()).toEqual(b.state());
  });

  it('follows the normal distribution, tails included (Kolmogorov-Smirnov and tail counts)', () => {
    const n = 1_000_000;
    const z = new Rng(5).fillNormal(new Float32Array(n));
    const sorted = Float64Array.from(z).sort();
    // Normal CDF through erfc (Abramowitz-Stegun 7.1.26 is too coarse; use a continued series).
    const cdf = (x: number) => 0.5 * erfc(-x / Math.SQRT2);
    let d = 0;
    for (let i = 0; i < n; i += 97) d = Math.max(d, Math.abs(cdf(sorted[i]) - (i + 0.5) / n));
    expect(d).toBeLessThan(1.95 / Math.sqrt(n)); // 0.1 % critical value of the KS statistic
    // Draws beyond the ziggurat's tail start (3.4426) come from its exact tail method.
    const expectTail = (t: number) => n * erfc(t / Math.SQRT2);
    for (const t of [2, 3, 3.4426, 4]) {
      const count = z.filter((v) => Math.abs(v) > t).length;
      expect(Math.abs(count - expectTail(t))).toBeLessThan(5 * Math.sqrt(expectTail(t)) + 2);
    }
    const fourth = z.reduce((s, v) => s + v ** 4, 0) / n;
    expect(Math.abs(fourth - 3)).toBeLessThan(0.05);
  });

  it('draws the far tail with the normal shape: mean excess beyond 3.4426 as the Mills ratio gives', () => {
    const r = 3.4426;
    const z = new Rng(9).fillNormal(new Float32Array(4_000_000));
    let count = 0;
    let excess = 0;
    for (const v of z) {
      if (Math.abs(v) > r) {
        count++;
        excess += Math.abs(v) - r;
      }
    }
    // E[z - r | z > r] = phi(r) / Q(r) - r = 0.2555 for the normal (an exponential tail: 1 / r = 0.2905).
    const phi = Math.exp(-0.5 * r * r) / Math.sqrt(2 * Math.PI);
    const expected = phi / (0.5 * erfc(r / Math.SQRT2)) - r;
    expect(count).toBeGreaterThan(2000);
    expect(Math.abs(excess / count - expected)).toBeLessThan(0.02);
  });
});

/** Complementary error function to about 1e-12 (series below 3, continued fraction above). */
function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  if (x < 3) {
    // erf(x) = 2/sqrt(pi) * sum (-1)^k x^(2k+1) / (k! (2k+1))
    let term = x;
    let sum = x;
    for (let k = 1; k < 200; k++) {
      term *= (-x * x) / k;
      sum += term / (2 * k + 1);
      if (Math.abs(term / (2 * k + 1)) < 1e-17) break;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  // Lentz's continued fraction for erfc.
  let f = x;
  let c = x;
  let dd = 0;
  for (let k = 1; k < 300; k++) {
    const a = k / 2;
    dd = x + a * dd;
    c = x + a / c;
    dd = 1 / dd;
    f *= c * dd;
  }
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
}
