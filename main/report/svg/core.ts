/**
 * Shared pieces of the dependency-free SVG charts: escaping, number formatting, "nice" axis
 * ticks, linear scales, the estimator palette and a plot frame with labelled axes. Every chart
 * returns a complete `<svg>` string with a `viewBox`, so it scales to its container and needs
 * no script to view.
 */

/** Escape text for HTML/XML element content and attribute values. */
export function esc(text: unknown): string {
  return String(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * Format a number for tables and labels with `digits` significant digits, without trailing
 * zeros; scientific notation below 1e-3 and from 1e6; `-` for non-finite values.
 * @example fmt(0.000012345) === '1.234e-5'; fmt(1234.5678) === '1234.6'
 */
export function fmt(v: number, digits = 4): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? '–' : v > 0 ? '∞' : '−∞';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e6) {
    const [m, e] = v.toExponential(digits - 1).split('e');
    return `${stripZeros(m)}e${Number(e)}`;
  }
  const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(a)));
  return stripZeros(v.toFixed(decimals));
}

function stripZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** Round a pixel coordinate to 0.1 px for compact path data. */
export function px(v: number): string {
  return String(Math.round(v * 10) / 10);
}

/** Ticks on "nice" numbers (1, 2, 2.5, 5 x 10^k) covering [lo, hi] with about `count` intervals. */
export function niceTicks(lo: number, hi: number, count = 5): { ticks: number[]; step: number } {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return { ticks: [], step: 1 };
  if (lo === hi) {
    const d = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= d;
    hi += d;
  }
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  const step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * mag;
  const ticks: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) ticks.push(k * step || 0);
  return { ticks, step };
}

/** Label for a tick value given the tick step: just enough decimals to tell ticks apart. */
export function tickLabel(v: number, step: number): string {
  const a = Math.max(Math.abs(v), step);
  if (a >= 1e6 || step < 1e-4) return fmt(v, 3);
  const decimals = Math.max(
    0,
    -Math.floor(Math.log10(step) + 1e-9) + (step / 10 ** Math.floor(Math.log10(step)) === 2.5 ? 1 : 0),
  );
  const s = (Math.abs(v) < step * 1e-6 ? 0 : v).toFixed(decimals);
  return s.replace(/^-/, '−');
}

/** Axis range padded out to the nearest ticks. */
export function niceDomain(lo: number, hi: number, count = 5): [number, number] {
  const { ticks, step } = niceTicks(lo, hi, count);
  if (ticks.length === 0) return [0, 1];
  const a = ticks[0] > lo ? ticks[0] - step : ticks[0];
  const b = ticks[ticks.length - 1] < hi ? ticks[ticks.length - 1] + step : ticks[ticks.length - 1];
  return a === b ? [a - step, b + step] : [a, b];
}

/** A linear map from a data domain to a pixel range. */
export interface Scale {
  (v: number): number;
  domain: [number, number];
  range: [number, number];
}

/** Linear scale from `domain` to `range` (either may be decreasing, e.g. SVG y). */
export function linear(domain: [number, number], range: [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  const s = ((v: number) => r0 + (v - d0) * k) as Scale;
  s.domain = domain;
  s.range = range;
  return s;
}

/** Estimator styles in display order: colour, and whether the fill is hatched. */
export const ESTIMATOR_STYLES = [
  { color: '#1f5fa8', light: '#9fbde0', hatch: false, dash: '' },
  { color: '#d3641b', light: '#f0b98f', hatch: true, dash: '5 3' },
  { color: '#2a8a4a', light: '#a3d6b3', hatch: false, dash: '2 2' },
  { color: '#7b3fa0', light: '#cbb0dc', hatch: true, dash: '8 3 2 3' },
] as const;

/** Style of the i-th estimator (cycles past the palette). */
export function estimatorStyle(i: number): (typeof ESTIMATOR_STYLES)[number] {
  return ESTIMATOR_STYLES[i % ESTIMATOR_STYLES.length];
}

/** A hatch pattern definition with the given id and colour (diagonal lines, for a second series). */
export function hatchPattern(id: string, color: string): string {
  return (
    `<pattern id="${esc(id)}" patternUnits="userSpaceOnUse" width="5" height="5" patternTransform="rotate(45)">` +
    `<rect width="5" height="5" fill="${color}" fill-opacity="0.12"/>` +
    `<line x1="0" y1="0" x2="0" y2="5" stroke="${color}" stroke-width="1.6"/></pattern>`
  );
}

/** Geometry of a plot area inside an SVG of `width` x `height`. */
export interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** Default margins leaving room for tick labels and axis titles. */
export function frame(
  width: number,
  height: number,
  m: Partial<Omit<Frame, 'width' | 'height'>> = {},
): Frame {
  return {
    width,
    height,
    left: m.left ?? 58,
    right: m.right ?? 12,
    top: m.top ?? 12,
    bottom: m.bottom ?? 42,
  };
}

/** Axis options: title (with unit) and whether to draw tick labels. */
export interface AxisOptions {
  label?: string;
  ticks?: boolean;
  gridLines?: boolean;
  /** Skip ticks closer than this many px to either end of the axis (avoids clashing labels of adjacent panels). */
  inset?: number;
  /** Approximate number of tick intervals (default: one per 80 px on x, per 50 px on y). */
  count?: number;
}

/** Draw the x and y axes of a frame (lines, nice ticks, tick labels, titles). */
export function axes(f: Frame, x: Scale, y: Scale, xo: AxisOptions = {}, yo: AxisOptions = {}): string {
  const x0 = f.left;
  const x1 = f.width - f.right;
  const y0 = f.height - f.bottom;
  const y1 = f.top;
  const parts: string[] = [];
  const xt = niceTicks(
    Math.min(...x.domain),
    Math.max(...x.domain),
    xo.count ?? Math.max(2, Math.round((x1 - x0) / 80)),
  );
  const yt = niceTicks(
    Math.min(...y.domain),
    Math.max(...y.domain),
    yo.count ?? Math.max(2, Math.round((y0 - y1) / 50)),
  );
  // A tick counts when it lies on the axis, at least `inset` px from either end.
  const [xa, xb] = [Math.min(x0, x1) + (xo.inset ?? 0) - 1e-6, Math.max(x0, x1) - (xo.inset ?? 0) + 1e-6];
  const [ya, yb] = [Math.min(y0, y1) + (yo.inset ?? 0) - 1e-6, Math.max(y0, y1) - (yo.inset ?? 0) + 1e-6];
  const inX = (v: number) => x(v) >= xa && x(v) <= xb;
  const inY = (v: number) => y(v) >= ya && y(v) <= yb;
  if (xo.gridLines || yo.gridLines) {
    const g: string[] = [];
    if (yo.gridLines) for (const t of yt.ticks.filter(inY)) g.push(`M${px(x0)} ${px(y(t))}H${px(x1)}`);
    if (xo.gridLines) for (const t of xt.ticks.filter(inX)) g.push(`M${px(x(t))} ${px(y0)}V${px(y1)}`);
    parts.push(`<path d="${g.join('')}" stroke="#e4e4e4" stroke-width="0.8" fill="none"/>`);
  }
  parts.push(`<path d="M${x0} ${y1}V${y0}H${x1}" stroke="#333" stroke-width="1" fill="none"/>`);
  if (xo.ticks !== false) {
    const d = xt.ticks.filter(inX).map((t) => `M${px(x(t))} ${y0}v4`);
    parts.push(`<path d="${d.join('')}" stroke="#333"/>`);
    for (const t of xt.ticks.filter(inX)) {
      parts.push(
        `<text x="${px(x(t))}" y="${y0 + 15}" text-anchor="middle" class="tk">${tickLabel(t, xt.step)}</text>`,
      );
    }
  }
  if (yo.ticks !== false) {
    const d = yt.ticks.filter(inY).map((t) => `M${x0} ${px(y(t))}h-4`);
    parts.push(`<path d="${d.join('')}" stroke="#333"/>`);
    for (const t of yt.ticks.filter(inY)) {
      parts.push(
        `<text x="${x0 - 6}" y="${px(y(t) + 3.5)}" text-anchor="end" class="tk">${tickLabel(t, yt.step)}</text>`,
      );
    }
  }
  if (xo.label) {
    parts.push(
      `<text x="${px((x0 + x1) / 2)}" y="${f.height - 6}" text-anchor="middle" class="al">${esc(xo.label)}</text>`,
    );
  }
  if (yo.label) {
    const cy = (y0 + y1) / 2;
    parts.push(
      `<text transform="translate(13 ${px(cy)}) rotate(-90)" text-anchor="middle" class="al">${esc(yo.label)}</text>`,
    );
  }
  return parts.join('');
}

/** Axis title with unit in brackets, e.g. `tau_w [us]`; no brackets for an empty unit. */
export function withUnit(name: string, unit: string): string {
  return unit ? `${name} [${unit}]` : name;
}

/** Inline style shared by all charts (font sizes of tick and axis labels, legend). */
export const SVG_STYLE =
  '<style>.tk{font:10px sans-serif;fill:#333}.al{font:11.5px sans-serif;fill:#111}.lg{font:10.5px sans-serif;fill:#111}.tt{font:bold 11px sans-serif;fill:#111}</style>';

/** Open an `<svg>` element of the given size with the shared style and an accessible title. */
export function svgOpen(width: number, height: number, title: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img">` +
    `<title>${esc(title)}</title>${SVG_STYLE}`
  );
}

/** A legend: one row per entry with a swatch (line or filled box) and an escaped label. */
export function legend(
  x: number,
  y: number,
  entries: {
    label: string;
    color: string;
    kind: 'line' | 'box' | 'hatch';
    dash?: string;
    patternId?: string;
  }[],
): string {
  const parts: string[] = [];
  entries.forEach((e, i) => {
    const yy = y + i * 15;
    if (e.kind === 'line') {
      parts.push(
        `<path d="M${x} ${yy}h18" stroke="${e.color}" stroke-width="2" ${e.dash ? `stroke-dasharray="${e.dash}"` : ''}/>`,
      );
    } else {
      const fill = e.kind === 'hatch' && e.patternId ? `url(#${e.patternId})` : e.color;
      const op = e.kind === 'hatch' ? '1' : '0.45';
      parts.push(
        `<rect x="${x}" y="${yy - 5}" width="18" height="10" fill="${fill}" fill-opacity="${op}" stroke="${e.color}"/>`,
      );
    }
    parts.push(`<text x="${x + 23}" y="${yy + 3.5}" class="lg">${esc(e.label)}</text>`);
  });
  return parts.join('');
}

/** [min, max] over the finite values of several arrays; [0, 1] when there are none. */
export function finiteDomain(arrays: ArrayLike<number>[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (Number.isFinite(v)) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
  }
  return lo <= hi ? [lo, hi] : [0, 1];
}

/** A legend laid out in one row starting at (x, y); label widths estimated at 5.8 px per character. */
export function legendRow(x: number, y: number, entries: Parameters<typeof legend>[2]): string {
  const parts: string[] = [];
  let xx = x;
  for (const e of entries) {
    parts.push(legend(xx, y, [e]));
    xx += 36 + 5.8 * e.label.length;
  }
  return parts.join('');
}
