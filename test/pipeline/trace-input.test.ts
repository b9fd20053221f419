import { describe, expect, it } from 'vitest';
import {
  binAverage,
  conformObservation,
  fitTraceNormalization,
  prepareLearnedInput,
} from '../../main/pipeline/trace-input.ts';

describe('binAverage', () => {
  it('averages whole blocks when the length divides the samples', () => {
    const data = Int16Array.from([1, 3, 5, 7, 10, 20, 30, 40]);
    const out = binAverage({ data, n: 2, samples: 4, sampleRate: 1e6 }, 2);
    expect(Array.from(out)).toEqual([2, 6, 15, 35]);
  });

  it('weights fractional samples at bin edges by their overlap', () => {
    const data = Float32Array.from([0, 3, 6]);
    const out = binAverage({ data, n: 1, samples: 3, sampleRate: 1e6 }, 2);
    // bins of 1.5 samples: (0 + 0.5*3)/1.5 = 1, (0.5*3 + 6)/1.5 = 5
    expect(out[0]).toBeCloseTo(1, 6);
    expect(out[1]).toBeCloseTo(5, 6);
  });

  it('refuses a length longer than the trace', () => {
    expect(() => binAverage({ data: new Int16Array(4), n: 1, samples: 4, sampleRate: 1 }, 5)).toThrow(
      /1\.\.4/,
    );
  });
});

describe('learned input', () => {
  it('normalizes with the batch mean and std so the training input has zero mean and unit variance', () => {
    const data = new Float32Array(4000);
    for (let k = 0; k < data.length; k++) data[k] = 300 + 50 * Math.sin(k * 0.37);
    const batch = { data, n: 4, samples: 1000, sampleRate: 10e6 };
    const norm = fitTraceNormalization(batch);
    expect(norm.center).toBeCloseTo(300, 0);
    const x = prepareLearnedInput(batch, { length: 1000, ...norm });
    let s = 0;
    let s2 = 0;
    for (const v of x) {
      s += v;
      s2 += v * v;
    }
    expect(s / x.length).toBeCloseTo(0, 4);
    expect(s2 / x.length).toBeCloseTo(1, 3);
    expect(prepareLearnedInput(batch, { length: 250, ...norm }).length).toBe(1000);
  });
});

describe('conformObservation', () => {
  const grid = { samples: 100, sampleRate: 10e6, onset: 2 }; // 10 us, onset at 2 us
  const ramp = (n: number, rate: number) => Float32Array.from({ length: n }, (_, k) => (k * 1e6) / rate); // value = time in us

  it('passes a recording on the same grid through unchanged', () => {
    const tr = ramp(100, 10e6);
    const c = conformObservation(tr, { sampleRate: 10e6, onset: 2 }, grid);
    expect(c.resampled).toBe(false);
    expect(Array.from(c.trace)).toEqual(Array.from(tr));
  });

  it('aligns the stimulus onset of a longer recording by shifting', () => {
    const tr = ramp(300, 10e6);
    const c = conformObservation(tr, { sampleRate: 10e6, onset: 7 }, grid);
    expect(c.shift).toBeCloseTo(5, 9);
    expect(c.trace[0]).toBeCloseTo(5, 5);
    expect(c.trace[99]).toBeCloseTo(14.9, 4);
  });

  it('resamples a recording at another rate by interpolation', () => {
    const tr = ramp(400, 30e6);
    const c = conformObservation(tr, { sampleRate: 30e6, onset: 2 }, grid);
    expect(c.resampled).toBe(true);
    for (let j = 0; j < 100; j++) expect(c.trace[j]).toBeCloseTo(j * 0.1, 4);
  });

  it('rejects recordings that are too short, too coarse or hold NaN, saying why', () => {
    expect(() =>
      conformObservation(ramp(50, 10e6), { sampleRate: 10e6, onset: 2 }, grid, { what: 'cell7.npy' }),
    ).toThrow(/cell7.npy: the recording spans 0..4.900 us/);
    expect(() => conformObservation(ramp(100, 10e6), { sampleRate: 10e6, onset: 1 }, grid)).toThrow(
      /needs 2 us before onset/,
    );
    expect(() => conformObservation(ramp(100, 2e6), { sampleRate: 2e6, onset: 2 }, grid)).toThrow(
      /2.000 MSa\/s, below the 5.000 MSa\/s/,
    );
    const bad = ramp(100, 10e6);
    bad[42] = NaN;
    expect(() => conformObservation(bad, { sampleRate: 10e6, onset: 2 }, grid)).toThrow(/sample 42/);
  });
});
