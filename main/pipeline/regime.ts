/**
 * The regime of interest: simulations whose spike count during the stimulus lies in a moderate
 * range, with a clean trace. Prior restriction trains a classifier on these labels, and the
 * estimators are trained only on simulations inside the regime.
 */
import { SUMMARY_INDEX, SUMMARY_NAMES, TRACE_FLAGS, type SummaryResult } from './summaries.ts';

/** Inclusive spike-count range of the regime of interest. */
export interface RegimeOptions {
  minSpikes: number;
  maxSpikes: number;
  /** Count saturated traces as outside the regime. Default true. */
  rejectSaturated?: boolean;
}

/**
 * Default regime for the default step protocol (160 us step; see docs/summary-statistics.md): 3 to
 * 30 spikes in the stimulus window. At least 3 spikes give two intervals, so the interval
 * statistics and the adaptation index are defined; at most 30 keeps the mean interval above about
 * 5 us, where the 2 us refractory reset no longer dominates the trace.
 */
export const DEFAULT_REGIME: Readonly<Required<RegimeOptions>> = {
  minSpikes: 3,
  maxSpikes: 30,
  rejectSaturated: true,
};

/** Check a regime range; throws a RangeError naming the bad bound. */
export function checkRegime(opts: RegimeOptions): void {
  if (!Number.isInteger(opts.minSpikes) || opts.minSpikes < 0) {
    throw new RangeError(`regime: minSpikes must be a non-negative integer, got ${opts.minSpikes}`);
  }
  if (!Number.isInteger(opts.maxSpikes) || opts.maxSpikes < opts.minSpikes) {
    throw new RangeError(
      `regime: maxSpikes must be an integer >= minSpikes (${opts.minSpikes}), got ${opts.maxSpikes}`,
    );
  }
}

/** 1 for each trace inside the regime of interest, 0 outside (non-finite traces are always outside). */
export function labelRegime(summaries: SummaryResult, opts: RegimeOptions = DEFAULT_REGIME): Uint8Array {
  checkRegime(opts);
  const rejectSat = opts.rejectSaturated ?? true;
  const bad = TRACE_FLAGS.nonFinite | (rejectSat ? TRACE_FLAGS.saturated : 0);
  const ns = SUMMARY_NAMES.length;
  const col = SUMMARY_INDEX.spike_count;
  const out = new Uint8Array(summaries.n);
  for (let i = 0; i < summaries.n; i++) {
    if (summaries.flags[i] & bad) continue;
    const c = summaries.values[i * ns + col];
    out[i] = c >= opts.minSpikes && c <= opts.maxSpikes ? 1 : 0;
  }
  return out;
}

/** Fraction of ones in a label array (0 for an empty array). */
export function regimeFraction(labels: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < labels.length; i++) s += labels[i];
  return labels.length ? s / labels.length : 0;
}

/** Histogram of spike counts (last bin collects `maxBin` and above) and the number of invalid traces. */
export function spikeCountHistogram(
  summaries: SummaryResult,
  maxBin = 100,
): { counts: Int32Array; invalid: number } {
  const ns = SUMMARY_NAMES.length;
  const counts = new Int32Array(maxBin + 1);
  let invalid = 0;
  for (let i = 0; i < summaries.n; i++) {
    if (summaries.flags[i] & TRACE_FLAGS.nonFinite) {
      invalid++;
      continue;
    }
    counts[Math.min(maxBin, summaries.values[i * ns + SUMMARY_INDEX.spike_count])]++;
  }
  return { counts, invalid };
}
