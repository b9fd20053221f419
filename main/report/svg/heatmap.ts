/**
 * Grid heatmaps with a colour bar, for whole-chip maps (one cell per neuron circuit). Colours
 * come from a viridis approximation (perceptually ordered, readable in greyscale); non-finite
 * values are drawn as hatched grey.
 */
import { esc, niceTicks, px, svgOpen, tickLabel } from './core.ts';

const VIRIDIS = [
  '#440154',
  '#482878',
  '#3e4989',
  '#31688e',
  '#26828e',
  '#1f9e89',
  '#35b779',
  '#6ece58',
  '#b5de2b',
  '#fde725',
];

/** Viridis colour for t in [0, 1] (linear interpolation between 10 anchor colours). */
export function viridis(t: number): string {
  const u = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(u));
  const f = u - i;
  const a = hexRgb(VIRIDIS[i]);
  const b = hexRgb(VIRIDIS[i + 1]);
  const c = a.map((v, k) => Math.round(v + (b[k] - v) * f));
  return `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

function hexRgb(h: string): number[] {
  return [1, 3, 5].map((k) => parseInt(h.slice(k, k + 2), 16));
}

export interface HeatmapOptions {
  title: string;
  /** Values in cell order; cell k is drawn at row floor(k / cols), column k % cols. */
  values: ArrayLike<number>;
  rows: number;
  cols: number;
  /** Colour range; default the finite min and max of the values. */
  domain?: [number, number];
  /** Colour-bar label (with unit). */
  label?: string;
  width?: number;
}

/** A heatmap of values on a rows x cols grid with a colour bar. */
export function heatmap(o: HeatmapOptions): string {
  const width = o.width ?? 340;
  const left = 6;
  const barW = 10;
  const barGap = 46;
  const cell = (width - left - barGap - barW - 6) / o.cols;
  const top = 18;
  const height = top + o.rows * cell + 8;
  let [lo, hi] = o.domain ?? [Infinity, -Infinity];
  if (!o.domain) {
    for (let i = 0; i < o.values.length; i++) {
      const v = o.values[i];
      if (Number.isFinite(v)) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    }
    if (!(lo <= hi)) [lo, hi] = [0, 1];
  }
  const span = hi - lo || 1;
  const parts = [svgOpen(width, height, o.title)];
  parts.push(`<text x="${left}" y="12" class="tt">${esc(o.title)}</text>`);
  // One path per colour bucket keeps the SVG small: 512 cells become at most 64 paths.
  const buckets = new Map<string, string[]>();
  const missing: string[] = [];
  for (let k = 0; k < o.rows * o.cols; k++) {
    const x = left + (k % o.cols) * cell;
    const y = top + Math.floor(k / o.cols) * cell;
    const rect = `M${px(x)} ${px(y)}h${px(cell)}v${px(cell)}h${px(-cell)}Z`;
    if (k >= o.values.length) continue;
    const v = o.values[k];
    if (!Number.isFinite(v)) {
      missing.push(rect);
      continue;
    }
    const color = viridis(Math.round(((v - lo) / span) * 63) / 63);
    const list = buckets.get(color) ?? [];
    list.push(rect);
    buckets.set(color, list);
  }
  for (const [color, rects] of buckets) parts.push(`<path d="${rects.join('')}" fill="${color}"/>`);
  if (missing.length)
    parts.push(`<path d="${missing.join('')}" fill="#bbb" stroke="#fff" stroke-width="0.3"/>`);
  // Colour bar with nice ticks.
  const bx = left + o.cols * cell + 8;
  const bh = o.rows * cell;
  const stops = Array.from({ length: 11 }, (_, i) => i / 10);
  const gid = `vir${Math.round(bx * 7 + bh)}`;
  parts.push(
    `<defs><linearGradient id="${gid}" x1="0" y1="1" x2="0" y2="0">${stops.map((s) => `<stop offset="${s}" stop-color="${viridis(s)}"/>`).join('')}</linearGradient></defs>`,
    `<rect x="${px(bx)}" y="${top}" width="${barW}" height="${px(bh)}" fill="url(#${gid})"/>`,
  );
  const t = niceTicks(lo, hi, 4);
  for (const v of t.ticks) {
    if (v < lo - 1e-9 * span || v > hi + 1e-9 * span) continue;
    const yy = top + bh - ((v - lo) / span) * bh;
    parts.push(
      `<path d="M${px(bx + barW)} ${px(yy)}h3" stroke="#333"/><text x="${px(bx + barW + 5)}" y="${px(yy + 3)}" class="tk">${tickLabel(v, t.step)}</text>`,
    );
  }
  if (o.label)
    parts.push(`<text x="${px(width - 2)}" y="12" text-anchor="end" class="tk">${esc(o.label)}</text>`);
  parts.push('</svg>');
  return parts.join('');
}
