import { describe, expect, it } from 'vitest';
import { labelRegime, regimeFraction, spikeCountHistogram } from '../../main/pipeline/regime.ts';
import {
  SUMMARY_INDEX,
  SUMMARY_NAMES,
  TRACE_FLAGS,
  type SummaryResult,
} from '../../main/pipeline/summaries.ts';

function fake(counts: number[], flags: number[]): SummaryResult {
  const ns = SUMMARY_NAMES.length;
  const values = new Float32Array(counts.length * ns);
  counts.forEach((c, i) => (values[i * ns + SUMMARY_INDEX.spike_count] = c));
  return { names: SUMMARY_NAMES, n: counts.length, values, flags: Uint8Array.from(flags) };
}

describe('labelRegime', () => {
  it('keeps moderate spike counts inclusive of the bounds and drops invalid traces', () => {
    const s = fake([0, 3, 10, 40, 41, 5, 5], [0, 0, 0, 0, 0, TRACE_FLAGS.saturated, TRACE_FLAGS.nonFinite]);
    expect(Array.from(labelRegime(s, { minSpikes: 3, maxSpikes: 40 }))).toEqual([0, 1, 1, 1, 0, 0, 0]);
    expect(Array.from(labelRegime(s))).toEqual([0, 1, 1, 0, 0, 0, 0]);
    expect(Array.from(labelRegime(s, { minSpikes: 0, maxSpikes: 5, rejectSaturated: false }))).toEqual([
      1, 1, 0, 0, 0, 1, 0,
    ]);
    expect(regimeFraction(labelRegime(s))).toBeCloseTo(2 / 7, 9);
  });

  it('rejects an inverted range', () => {
    expect(() => labelRegime(fake([1], [0]), { minSpikes: 5, maxSpikes: 2 })).toThrow(/maxSpikes/);
  });

  it('histograms spike counts with an overflow bin', () => {
    const h = spikeCountHistogram(fake([0, 0, 2, 500], [0, 0, 0, 0]), 10);
    expect(h.counts[0]).toBe(2);
    expect(h.counts[2]).toBe(1);
    expect(h.counts[10]).toBe(1);
  });
});
