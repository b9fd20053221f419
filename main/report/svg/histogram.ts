/**
 * Histograms: overlaid posterior marginals (one solid, one hatched, so they stay distinguishable
 * in greyscale print) and SBC rank histograms with the band a uniform rank distribution stays in.
 */
import { binomialInterval } from '../stats.ts';
import {
  axes,
  esc,
  frame,
  hatchPattern,
  legend,
  linear,
  niceDomain,
  px,
  svgOpen,
  type Scale,
} from './core.ts';

/** Counts of finite `values` in `bins` equal bins over [lo, hi]; values outside are dropped. */
export function binCounts(values: ArrayLike<number>, lo: number, hi: number, bins: number): Float64Array {
  const counts = new Float64Array(bins);
  const k = bins / (hi - lo);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= lo && v <= hi)) continue;
    counts[Math.min(bins - 1, Math.floor((v - lo) * k))]++;
  }
  return counts;
}

/** Style of one histogram series. */
export interface HistStyle {
  color: string;
  /** Fill with this pattern id (hatched) instead of a translucent solid fill. */
  patternId?: string;
  dash?: string;
}

/** Path of a step histogram (closed to the baseline) for counts over [lo, lo + bins * step]. */
export function stepPath(heights: ArrayLike<number>, lo: number, step: number, x: Scale, y: Scale): string {
  const base = y(0);
  const d = [`M${px(x(lo))} ${px(base)}`];
  for (let i = 0; i < heights.length; i++) {
    const yy = px(y(heights[i]));
    d.push(`V${yy}H${px(x(lo + (i + 1) * step))}`);
  }
  d.push(`V${px(base)}`);
  return d.join('');
}

/** A filled step histogram in the given style. */
export function histShape(
  heights: ArrayLike<number>,
  lo: number,
  step: number,
  x: Scale,
  y: Scale,
  s: HistStyle,
): string {
  const d = stepPath(heights, lo, step, x, y);
  const fill = s.patternId ? `url(#${s.patternId})` : s.color;
  const fo = s.patternId ? '1' : '0.28';
  const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
  return `<path d="${d}" fill="${fill}" fill-opacity="${fo}" stroke="${s.color}" stroke-width="1.3"${dash}/>`;
}

export interface HistogramSeries {
  label: string;
  values: ArrayLike<number>;
  color: string;
  hatch?: boolean;
  dash?: string;
}

export interface HistogramOptions {
  title: string;
  /** Unique prefix for pattern ids inside an HTML document. */
  id: string;
  series: HistogramSeries[];
  domain: [number, number];
  bins?: number;
  xLabel?: string;
  /** Normalise to a probability density (default) or show raw counts. */
  density?: boolean;
  /** A vertical line at the true value. */
  trueValue?: number;
  width?: number;
  height?: number;
}

/** Overlaid histograms of several series on one axis. */
export function histogramChart(o: HistogramOptions): string {
  const width = o.width ?? 300;
  const height = o.height ?? 200;
  const bins = o.bins ?? 30;
  const [lo, hi] = o.domain;
  const step = (hi - lo) / bins;
  const density = o.density !== false;
  const heights = o.series.map((s) => {
    const c = binCounts(s.values, lo, hi, bins);
    const n = s.values.length || 1;
    return density ? c.map((v) => v / (n * step)) : c;
  });
  const ymax = Math.max(1e-12, ...heights.map((h) => Math.max(...h)));
  const f = frame(width, height, { left: 50 });
  const x = linear([lo, hi], [f.left, width - f.right]);
  const y = linear(niceDomain(0, ymax * 1.05, 4), [height - f.bottom, f.top]);
  const parts = [svgOpen(width, height, o.title), '<defs>'];
  o.series.forEach((s, i) => s.hatch && parts.push(hatchPattern(`${o.id}-h${i}`, s.color)));
  parts.push('</defs>', axes(f, x, y, { label: o.xLabel }, { label: density ? 'density' : 'count' }));
  o.series.forEach((s, i) =>
    parts.push(
      histShape(heights[i], lo, step, x, y, {
        color: s.color,
        dash: s.dash,
        patternId: s.hatch ? `${o.id}-h${i}` : undefined,
      }),
    ),
  );
  if (o.trueValue !== undefined && Number.isFinite(o.trueValue)) {
    parts.push(
      `<path d="M${px(x(o.trueValue))} ${f.top}V${height - f.bottom}" stroke="#111" stroke-width="1.6"/>`,
    );
  }
  parts.push(
    legend(
      f.left + 8,
      f.top + 8,
      o.series.map((s, i) => ({
        label: s.label,
        color: s.color,
        kind: s.hatch ? 'hatch' : 'box',
        patternId: `${o.id}-h${i}`,
      })),
    ),
    '</svg>',
  );
  return parts.join('');
}

export interface RankHistogramOptions {
  title: string;
  /** Ranks in 0..maxRank. */
  ranks: ArrayLike<number>;
  maxRank: number;
  bins?: number;
  color: string;
  /** Probability mass of the grey band under uniform ranks (default 0.99); 0 hides it. */
  bandMass?: number;
  xLabel?: string;
  width?: number;
  height?: number;
}

/**
 * Ranks 0..maxRank grouped into `bins` bins: for each bin the observed count and the probability
 * a uniform rank falls into it (bins hold whole ranks, so they may differ by one rank).
 */
export function rankBins(
  ranks: ArrayLike<number>,
  maxRank: number,
  bins: number,
): { counts: Float64Array; probs: Float64Array } {
  const L1 = maxRank + 1;
  const binOf = (r: number) => Math.min(bins - 1, Math.floor((r * bins) / L1));
  const probs = new Float64Array(bins);
  for (let r = 0; r < L1; r++) probs[binOf(r)] += 1 / L1;
  const counts = new Float64Array(bins);
  for (let i = 0; i < ranks.length; i++) counts[binOf(ranks[i])]++;
  return { counts, probs };
}

/** SBC rank histogram with the uniform expectation (dashed) and its binomial band (grey). */
export function rankHistogram(o: RankHistogramOptions): string {
  const width = o.width ?? 240;
  const height = o.height ?? 170;
  const bins = Math.min(o.bins ?? 20, o.maxRank + 1);
  const n = o.ranks.length;
  const { counts, probs } = rankBins(o.ranks, o.maxRank, bins);
  const mass = o.bandMass ?? 0.99;
  const bands = Array.from(probs, (p) => (mass > 0 ? binomialInterval(n, p, mass) : [n * p, n * p]));
  const ymax = Math.max(...counts, ...bands.map((b) => b[1]), 1) * 1.08;
  const f = frame(width, height, { left: 44, bottom: 36, top: 20 });
  const x = linear([0, bins], [f.left, width - f.right]);
  const y = linear(niceDomain(0, ymax, 4), [height - f.bottom, f.top]);
  const parts = [svgOpen(width, height, o.title)];
  const band: string[] = [];
  const exp: string[] = [];
  const bars: string[] = [];
  for (let i = 0; i < bins; i++) {
    const [x0, x1] = [x(i), x(i + 1)];
    if (mass > 0) band.push(`M${px(x0)} ${px(y(bands[i][1]))}H${px(x1)}V${px(y(bands[i][0]))}H${px(x0)}Z`);
    exp.push(`M${px(x0)} ${px(y(n * probs[i]))}H${px(x1)}`);
    bars.push(`M${px(x0 + 0.6)} ${px(y(0))}V${px(y(counts[i]))}H${px(x1 - 0.6)}V${px(y(0))}Z`);
  }
  if (band.length) parts.push(`<path d="${band.join('')}" fill="#dcdcdc"/>`);
  const xr = linear([-0.5, o.maxRank + 0.5], [f.left, width - f.right]);
  parts.push(axes(f, xr, y, { label: o.xLabel ?? 'rank' }, { label: 'count' }));
  parts.push(`<path d="${bars.join('')}" fill="${o.color}" fill-opacity="0.75"/>`);
  parts.push(`<path d="${exp.join('')}" stroke="#444" stroke-dasharray="3 2" fill="none"/>`);
  parts.push(`<text x="${f.left}" y="13" class="tt">${esc(o.title)}</text>`, '</svg>');
  return parts.join('');
}
