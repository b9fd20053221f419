import { describe, expect, it } from 'vitest';
import {
  computeSummaries,
  SUMMARY_INDEX,
  SUMMARY_NAMES,
  TRACE_FLAGS,
  assertUsableSummaries,
} from '../../main/pipeline/summaries.ts';
import { detectSpikes, type TraceBatch } from '../../main/pipeline/traces.ts';

const RATE = 10e6; // 10 samples per us
const STIM = { onset: 10, duration: 80 };
const NS = SUMMARY_NAMES.length;

/** Trace of 100 us: rest 300 before onset, 400 during the stimulus, 300 after; each spike: peak 600 at t, reset 250 for 1 us, 350 for 1 us more. */
function synth(spikeTimes: number[]): Int16Array {
  const out = new Int16Array(1000);
  for (let k = 0; k < 1000; k++) out[k] = k >= 100 && k < 900 ? 400 : 300;
  for (const t of spikeTimes) {
    const k = Math.round(t * 10);
    out[k] = 600;
    for (let j = 1; j <= 10; j++) out[k + j] = 250;
    for (let j = 11; j <= 20; j++) out[k + j] = 350;
  }
  return out;
}

function batchOf(rows: Int16Array[]): TraceBatch {
  const data = new Int16Array(rows.length * 1000);
  rows.forEach((r, i) => data.set(r, i * 1000));
  return { data, n: rows.length, samples: 1000, sampleRate: RATE };
}

function spikesOf(rows: number[][]) {
  const offsets = new Int32Array(rows.length + 1);
  rows.forEach((r, i) => (offsets[i + 1] = offsets[i] + r.length));
  return { times: Float32Array.from(rows.flat()), offsets };
}

const get = (v: Float32Array, row: number, name: keyof typeof SUMMARY_INDEX) =>
  v[row * NS + SUMMARY_INDEX[name]];

describe('computeSummaries', () => {
  it('computes spike-train statistics from known spike times', () => {
    const times = [20, 30, 45, 65];
    const r = computeSummaries(batchOf([synth(times)]), spikesOf([times]), { stimulus: STIM });
    const v = r.values;
    expect(get(v, 0, 'spike_count')).toBe(4);
    expect(get(v, 0, 'first_spike_latency')).toBeCloseTo(10, 5);
    const isis = [10, 15, 20];
    const mean = 15;
    const sd = Math.sqrt(isis.reduce((a, x) => a + (x - mean) ** 2, 0) / 3);
    expect(get(v, 0, 'isi_mean')).toBeCloseTo(mean, 4);
    expect(get(v, 0, 'isi_cv')).toBeCloseTo(sd / mean, 4);
    expect(get(v, 0, 'adaptation_index')).toBeCloseTo((5 / 25 + 5 / 35) / 2, 5);
    // early half: [10, 50) holds 20, 30, 45; late half holds 65
    expect(get(v, 0, 'late_early_ratio')).toBeCloseTo(2 / 4, 6);
    expect(r.flags[0]).toBe(0);
  });

  it('measures troughs, peaks and potentials relative to the pre-stimulus mean', () => {
    const times = [20, 50];
    const r = computeSummaries(batchOf([synth(times)]), spikesOf([times]), {
      stimulus: STIM,
      fastWindow: 1.5,
    });
    const v = r.values;
    expect(get(v, 0, 'v_mean_rest')).toBe(300);
    expect(get(v, 0, 'v_std_rest')).toBe(0);
    expect(get(v, 0, 'ahp_fast')).toBe(50); // 300 - 250
    expect(get(v, 0, 'ahp_slow')).toBe(-50); // 300 - 350: the late trough sits above rest
    expect(get(v, 0, 'spike_amplitude')).toBe(300); // 600 - 300
    // stimulus mean: 800 samples, two spikes each replacing 400 by 600 once, 250 ten times, 350 ten times
    const expected = (800 * 400 + 2 * (200 - 1500 - 500)) / 800;
    expect(get(v, 0, 'v_mean_stim')).toBeCloseTo(expected, 3);
    expect(get(v, 0, 'v_std_stim')).toBeGreaterThan(0);
  });

  it('gives the documented values for traces with no spike and with one spike', () => {
    const r = computeSummaries(batchOf([synth([]), synth([40])]), spikesOf([[], [40]]), { stimulus: STIM });
    const v = r.values;
    expect(get(v, 0, 'spike_count')).toBe(0);
    expect(get(v, 0, 'isi_mean')).toBe(80);
    expect(get(v, 0, 'isi_cv')).toBe(0);
    expect(get(v, 0, 'first_spike_latency')).toBe(80);
    expect(get(v, 0, 'adaptation_index')).toBe(0);
    expect(get(v, 0, 'late_early_ratio')).toBe(1);
    expect(get(v, 0, 'ahp_fast')).toBe(0);
    expect(get(v, 0, 'ahp_slow')).toBe(0);
    expect(get(v, 0, 'spike_amplitude')).toBe(0);
    expect(get(v, 0, 'v_mean_stim')).toBe(400);
    expect(get(v, 1, 'spike_count')).toBe(1);
    expect(get(v, 1, 'isi_mean')).toBe(80);
    expect(get(v, 1, 'first_spike_latency')).toBeCloseTo(30, 5);
    expect(get(v, 1, 'late_early_ratio')).toBe(0.5);
    expect(Array.from(r.values).every(Number.isFinite)).toBe(true);
  });

  it('ignores spikes outside the stimulus window for the spike-train statistics', () => {
    const times = [5, 20, 95];
    const r = computeSummaries(batchOf([synth(times)]), spikesOf([times]), { stimulus: STIM });
    expect(get(r.values, 0, 'spike_count')).toBe(1);
    expect(get(r.values, 0, 'first_spike_latency')).toBeCloseTo(10, 5);
  });

  it('flags saturated readout but still computes, and makes non-finite traces NaN', () => {
    const sat = synth([30]);
    sat[500] = 1023;
    const floatRows = new Float32Array(2000);
    floatRows.set(synth([]));
    floatRows.set(synth([]), 1000);
    floatRows[1500] = NaN;
    const r = computeSummaries(batchOf([sat]), spikesOf([[30]]), { stimulus: STIM });
    expect(r.flags[0] & TRACE_FLAGS.saturated).toBeTruthy();
    expect(get(r.values, 0, 'spike_count')).toBe(1);
    expect(() => assertUsableSummaries(r, 'observation')).toThrow(/saturates/);
    const f = computeSummaries(
      { data: floatRows, n: 2, samples: 1000, sampleRate: RATE },
      spikesOf([[], []]),
      { stimulus: STIM },
    );
    expect(f.flags[0]).toBe(0);
    expect(f.flags[1] & TRACE_FLAGS.nonFinite).toBeTruthy();
    expect(Number.isNaN(get(f.values, 1, 'v_mean_rest'))).toBe(true);
    expect(() => assertUsableSummaries(f, 'recording.npy')).toThrow(/recording.npy \(row 1\): .*NaN/);
  });

  it('refuses shapes that do not match and stimulus windows without a baseline', () => {
    const b = batchOf([synth([])]);
    expect(() => computeSummaries({ ...b, n: 2 }, spikesOf([[], []]), { stimulus: STIM })).toThrow(
      /expected 2 x 1000/,
    );
    expect(() => computeSummaries(b, spikesOf([[], []]), { stimulus: STIM })).toThrow(/offsets/);
    expect(() => computeSummaries(b, spikesOf([[]]), { stimulus: { onset: 0, duration: 10 } })).toThrow(
      /onset/,
    );
    expect(() => computeSummaries(b, spikesOf([[]]), { stimulus: { onset: 200, duration: 10 } })).toThrow(
      /ends before/,
    );
  });

  it('handles 100k traces in one call', () => {
    const n = 100_000;
    const row = synth([20, 40, 60]);
    const data = new Int16Array(n * 1000);
    for (let i = 0; i < n; i++) data.set(row, i * 1000);
    const offsets = new Int32Array(n + 1);
    const times = new Float32Array(3 * n);
    for (let i = 0; i < n; i++) {
      times.set([20, 40, 60], 3 * i);
      offsets[i + 1] = 3 * (i + 1);
    }
    const r = computeSummaries(
      { data, n, samples: 1000, sampleRate: RATE },
      { times, offsets },
      { stimulus: STIM },
    );
    expect(get(r.values, n - 1, 'spike_count')).toBe(3);
    expect(get(r.values, n - 1, 'isi_mean')).toBeCloseTo(20, 4);
  });
});

describe('detectSpikes', () => {
  it('finds upward crossings with interpolated times and respects hysteresis', () => {
    const tr = synth([20, 45]);
    const s = detectSpikes(batchOf([tr]), { threshold: 500, hysteresis: 50 });
    expect(Array.from(s.offsets)).toEqual([0, 2]);
    // crossing between sample 199 (400) and 200 (600): frac 0.5 -> 19.95 us
    expect(s.times[0]).toBeCloseTo(19.95, 4);
    expect(s.times[1]).toBeCloseTo(44.95, 4);
    const flat = new Float32Array(1000).fill(700);
    const none = detectSpikes({ data: flat, n: 1, samples: 1000, sampleRate: RATE }, { threshold: 500 });
    expect(none.times.length).toBe(0);
  });
});
