/**
 * Line charts: training curves, membrane traces with spike markers, coverage curves with the
 * diagonal. Long series are reduced to a min/max envelope per horizontal pixel so a 65,535-sample
 * trace costs about as much SVG as a 600-sample one while keeping every spike peak visible.
 */
import {
  axes,
  esc,
  finiteDomain,
  frame,
  legend,
  legendRow,
  linear,
  niceDomain,
  px,
  svgOpen,
} from './core.ts';

/** One line of a line chart. */
export interface LineSeries {
  label?: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  color: string;
  width?: number;
  dash?: string;
  opacity?: number;
  /** x positions drawn as short vertical ticks above the plot area (e.g. spike times). */
  markers?: ArrayLike<number>;
}

export interface LineChartOptions {
  title: string;
  series: LineSeries[];
  width?: number;
  height?: number;
  xLabel?: string;
  yLabel?: string;
  /** Fixed axis domains; default from the data, padded to nice ticks. */
  xDomain?: [number, number];
  yDomain?: [number, number];
  /** Draw the y = x diagonal (coverage plots). */
  diagonal?: boolean;
  /** Vertical marker lines with labels (e.g. the best epoch). */
  vlines?: { x: number; label: string; color?: string }[];
  /** Legend position inside the plot: top-left (default) or bottom-right. */
  legendAt?: 'top-left' | 'top-right' | 'bottom-right' | 'above' | 'none';
}

/** Path data for one series, reduced to at most ~2 points per pixel column (min/max envelope). */
export function linePath(
  s: LineSeries,
  xs: (v: number) => number,
  ys: (v: number) => number,
  maxCols: number,
): string {
  const n = Math.min(s.x.length, s.y.length);
  if (n === 0) return '';
  const out: string[] = [];
  let pen = false;
  const move = (x: number, y: number) => {
    out.push(`${pen ? 'L' : 'M'}${px(x)} ${px(y)}`);
    pen = true;
  };
  if (n <= maxCols * 2) {
    for (let i = 0; i < n; i++) {
      const y = s.y[i];
      if (Number.isFinite(y) && Number.isFinite(s.x[i])) move(xs(s.x[i]), ys(y));
      else pen = false;
    }
    return out.join('');
  }
  // Envelope: for each pixel column keep the first, min, max and last sample in order.
  const x0 = xs(s.x[0]);
  let col = -1;
  let lo = 0;
  let hi = 0;
  let loI = 0;
  let hiI = 0;
  const flush = () => {
    if (col < 0) return;
    const [a, b] = loI < hiI ? [lo, hi] : [hi, lo];
    move(xs(s.x[Math.min(loI, hiI)]), ys(a));
    if (a !== b) move(xs(s.x[Math.max(loI, hiI)]), ys(b));
  };
  for (let i = 0; i < n; i++) {
    const y = s.y[i];
    if (!Number.isFinite(y)) {
      flush();
      col = -1;
      pen = false;
      continue;
    }
    const c = Math.floor(xs(s.x[i]) - x0);
    if (c !== col) {
      flush();
      col = c;
      lo = hi = y;
      loI = hiI = i;
    } else {
      if (y < lo) [lo, loI] = [y, i];
      if (y > hi) [hi, hiI] = [y, i];
    }
  }
  flush();
  return out.join('');
}

/** A line chart as a standalone SVG string. */
export function lineChart(o: LineChartOptions): string {
  const width = o.width ?? 560;
  const height = o.height ?? 260;
  const hasMarkers = o.series.some((s) => s.markers && s.markers.length > 0);
  const above = o.legendAt === 'above' && o.series.some((s) => s.label);
  const f = frame(width, height, { top: (hasMarkers ? 22 : 12) + (above ? 16 : 0) });
  const xd = o.xDomain ?? niceDomain(...finiteDomain(o.series.map((s) => s.x)), Math.round(width / 90));
  const yd = o.yDomain ?? niceDomain(...finiteDomain(o.series.map((s) => s.y)), Math.round(height / 55));
  const x = linear(xd, [f.left, width - f.right]);
  const y = linear(yd, [height - f.bottom, f.top]);
  const parts = [svgOpen(width, height, o.title)];
  const clipId = `clip${Math.abs(hashString(o.title + width + height))}`;
  parts.push(
    `<defs><clipPath id="${clipId}"><rect x="${f.left}" y="${f.top}" width="${width - f.left - f.right}" height="${height - f.top - f.bottom}"/></clipPath></defs>`,
  );
  parts.push(axes(f, x, y, { label: o.xLabel, gridLines: true }, { label: o.yLabel, gridLines: true }));
  const body: string[] = [];
  if (o.diagonal) {
    const a = Math.max(xd[0], yd[0]);
    const b = Math.min(xd[1], yd[1]);
    body.push(
      `<path d="M${px(x(a))} ${px(y(a))}L${px(x(b))} ${px(y(b))}" stroke="#888" stroke-dasharray="4 3" fill="none"/>`,
    );
  }
  for (const v of o.vlines ?? []) {
    body.push(
      `<path d="M${px(x(v.x))} ${px(f.top)}V${px(height - f.bottom)}" stroke="${v.color ?? '#999'}" stroke-dasharray="3 3"/>`,
    );
  }
  const cols = width - f.left - f.right;
  for (const s of o.series) {
    const d = linePath(s, x, y, cols);
    if (!d) continue;
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    const op = s.opacity !== undefined ? ` stroke-opacity="${s.opacity}"` : '';
    body.push(
      `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.width ?? 1.4}"${dash}${op} stroke-linejoin="round"/>`,
    );
  }
  parts.push(`<g clip-path="url(#${clipId})">${body.join('')}</g>`);
  // Spike markers: short ticks in the strip above the plot area, one row per series with markers.
  let row = 0;
  for (const s of o.series) {
    if (!s.markers || s.markers.length === 0) continue;
    const yy = f.top - 4 - row * 5;
    const d: string[] = [];
    for (let i = 0; i < s.markers.length; i++) {
      const t = s.markers[i];
      if (t >= xd[0] && t <= xd[1]) d.push(`M${px(x(t))} ${yy}v-6`);
    }
    parts.push(`<path d="${d.join('')}" stroke="${s.color}" stroke-width="1.2"/>`);
    row++;
  }
  for (const v of o.vlines ?? []) {
    parts.push(`<text x="${px(x(v.x) + 3)}" y="${f.top + 10}" class="tk">${esc(v.label)}</text>`);
  }
  const entries = o.series
    .filter((s) => s.label)
    .map((s) => ({ label: s.label!, color: s.color, kind: 'line' as const, dash: s.dash }));
  if (o.diagonal) entries.push({ label: 'ideal', color: '#888', kind: 'line', dash: '4 3' });
  if (entries.length > 0 && o.legendAt !== 'none') {
    const w = 30 + 5.8 * Math.max(...entries.map((e) => e.label.length));
    if (above) parts.push(legendRow(f.left, 10, entries));
    else {
      const [lx, ly] =
        o.legendAt === 'bottom-right'
          ? [width - f.right - w, height - f.bottom - 10 - 15 * (entries.length - 1)]
          : o.legendAt === 'top-right'
            ? [width - f.right - w, f.top + 12]
            : [f.left + 10, f.top + 12];
      parts.push(legend(lx, ly, entries));
    }
  }
  parts.push('</svg>');
  return parts.join('');
}

function hashString(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}
