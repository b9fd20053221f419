/**
 * Pairwise posterior plots. Samples are binned on a grid, smoothed with a small binomial kernel,
 * and drawn as the contours of the 68% and 95% highest-density regions (marching squares), so
 * 10,000 draws cost a few hundred path segments instead of 10,000 circles. `cornerPlot` arranges
 * all pairs of parameters in a triangle with the marginals on the diagonal and several
 * estimators overlaid (solid and dashed contours, solid and hatched histograms).
 */
import {
  axes,
  esc,
  hatchPattern,
  legend,
  linear,
  px,
  svgOpen,
  withUnit,
  type Frame,
  type Scale,
} from './core.ts';
import { binCounts, histShape } from './histogram.ts';

/** Row-major g x g grid of sample counts over the box [x0, x1] x [y0, y1] (cell (i, j): x bin i, y bin j). */
export function bin2d(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  xd: [number, number],
  yd: [number, number],
  g: number,
): Float64Array {
  const grid = new Float64Array(g * g);
  const kx = g / (xd[1] - xd[0]);
  const ky = g / (yd[1] - yd[0]);
  for (let n = 0; n < xs.length; n++) {
    const u = (xs[n] - xd[0]) * kx;
    const v = (ys[n] - yd[0]) * ky;
    if (!(u >= 0 && u <= g && v >= 0 && v <= g)) continue;
    grid[Math.min(g - 1, Math.floor(v)) * g + Math.min(g - 1, Math.floor(u))]++;
  }
  return grid;
}

/** One pass of the 3x3 binomial kernel [1 2 1]^T [1 2 1] / 16 with zero padding. */
export function smooth(grid: Float64Array, g: number): Float64Array {
  const out = new Float64Array(g * g);
  const w = [1, 2, 1];
  for (let j = 0; j < g; j++) {
    for (let i = 0; i < g; i++) {
      let s = 0;
      for (let dj = -1; dj <= 1; dj++) {
        for (let di = -1; di <= 1; di++) {
          const jj = j + dj;
          const ii = i + di;
          if (jj >= 0 && jj < g && ii >= 0 && ii < g) s += grid[jj * g + ii] * w[di + 1] * w[dj + 1];
        }
      }
      out[j * g + i] = s / 16;
    }
  }
  return out;
}

/** Density levels enclosing `masses` (e.g. 0.68, 0.95) of the grid's total: highest-density-region thresholds. */
export function hdrLevels(grid: Float64Array, masses: number[]): number[] {
  const sorted = Float64Array.from(grid).sort().reverse();
  let total = 0;
  for (const v of sorted) total += v;
  return masses.map((m) => {
    let acc = 0;
    for (const v of sorted) {
      acc += v;
      if (acc >= m * total) return v;
    }
    return 0;
  });
}

/**
 * Contour segments of a g x g grid at `level` by marching squares, as SVG path data. Cell centres
 * map through `toX(i + 0.5)` / `toY(j + 0.5)` in grid units; the grid is padded with zeros so
 * contours close at its edge.
 */
export function contourPath(
  grid: Float64Array,
  g: number,
  level: number,
  toX: (u: number) => number,
  toY: (v: number) => number,
): string {
  const at = (i: number, j: number) => (i < 0 || j < 0 || i >= g || j >= g ? 0 : grid[j * g + i]);
  const d: string[] = [];
  const lerp = (a: number, b: number) => (a === b ? 0.5 : (level - a) / (b - a));
  for (let j = -1; j < g; j++) {
    for (let i = -1; i < g; i++) {
      const v00 = at(i, j);
      const v10 = at(i + 1, j);
      const v11 = at(i + 1, j + 1);
      const v01 = at(i, j + 1);
      const c =
        (v00 >= level ? 1 : 0) | (v10 >= level ? 2 : 0) | (v11 >= level ? 4 : 0) | (v01 >= level ? 8 : 0);
      if (c === 0 || c === 15) continue;
      // Edge crossing points in grid units (cell centres at integer + 0.5).
      const bottom = (): [number, number] => [i + lerp(v00, v10) + 0.5, j + 0.5];
      const right = (): [number, number] => [i + 1.5, j + lerp(v10, v11) + 0.5];
      const top = (): [number, number] => [i + lerp(v01, v11) + 0.5, j + 1.5];
      const left = (): [number, number] => [i + 0.5, j + lerp(v00, v01) + 0.5];
      const segs: [() => [number, number], () => [number, number]][] = [];
      switch (c) {
        case 1:
        case 14:
          segs.push([left, bottom]);
          break;
        case 2:
        case 13:
          segs.push([bottom, right]);
          break;
        case 3:
        case 12:
          segs.push([left, right]);
          break;
        case 4:
        case 11:
          segs.push([right, top]);
          break;
        case 6:
        case 9:
          segs.push([bottom, top]);
          break;
        case 7:
        case 8:
          segs.push([left, top]);
          break;
        case 5:
          segs.push([left, top], [bottom, right]);
          break;
        case 10:
          segs.push([left, bottom], [right, top]);
          break;
      }
      for (const [a, b] of segs) {
        const p = a();
        const q = b();
        d.push(`M${px(toX(p[0]))} ${px(toY(p[1]))}L${px(toX(q[0]))} ${px(toY(q[1]))}`);
      }
    }
  }
  return d.join('');
}

/**
 * Grid resolution and smoothing for `n` draws: about ten draws per cell of a uniform posterior
 * (cells = floor(sqrt(n / 10)), between 8 and 24 per side), smoothed once, or twice below 5,000
 * draws, so few draws give smooth contours instead of noise islands.
 */
export function densityGrid(n: number): { cells: number; passes: number } {
  return { cells: Math.max(8, Math.min(24, Math.floor(Math.sqrt(n / 10)))), passes: n < 5000 ? 2 : 1 };
}

/** One estimator's draws in a corner plot. */
export interface CornerSeries {
  label: string;
  /** n x nParams, row-major. */
  samples: Float32Array;
  color: string;
  hatch?: boolean;
  dash?: string;
}

export interface CornerOptions {
  title: string;
  /** Unique prefix for pattern ids inside an HTML document. */
  id: string;
  params: { name: string; unit: string }[];
  /** Axis range per parameter. */
  domains: [number, number][];
  series: CornerSeries[];
  trueTheta?: number[];
  /** Panel size in px (default 96) and grid resolution (default: `densityGrid` of the smallest series). */
  panel?: number;
  grid?: number;
  bins?: number;
}

/** Lower-triangle corner plot of all parameter pairs, estimators overlaid. */
export function cornerPlot(o: CornerOptions): string {
  const p = o.params.length;
  const size = o.panel ?? 96;
  const gap = 6;
  const nMin = Math.min(...o.series.map((s) => Math.floor(s.samples.length / p)));
  const g = o.grid ?? densityGrid(nMin).cells;
  const passes = densityGrid(nMin).passes;
  const bins = o.bins ?? 28;
  const left = 54;
  const bottom = 46;
  const top = 8;
  const width = left + p * (size + gap) + 4;
  const height = top + p * (size + gap) + bottom;
  const cols = o.series.map((s) => Array.from({ length: p }, (_, k) => colOf(s.samples, p, k)));
  const parts = [svgOpen(width, height, o.title), '<defs>'];
  o.series.forEach((s, i) => s.hatch && parts.push(hatchPattern(`${o.id}-h${i}`, s.color)));
  parts.push('</defs>');
  const panelFrame = (r: number, c: number): Frame => {
    const x0 = left + c * (size + gap);
    const y0 = top + r * (size + gap);
    return { width: x0 + size, height: y0 + size, left: x0, right: 0, top: y0, bottom: 0 };
  };
  for (let r = 0; r < p; r++) {
    for (let c = 0; c <= r; c++) {
      const f = panelFrame(r, c);
      const x = linear(o.domains[c], [f.left, f.left + size]);
      if (r === c) parts.push(diagonalPanel(o, cols, c, f, x, size, bins, r === p - 1));
      else {
        const y = linear(o.domains[r], [f.top + size, f.top]);
        parts.push(
          axes(f, x, y, { ticks: r === p - 1, inset: 10, count: 3 }, { ticks: c === 0, inset: 6, count: 3 }),
        );
        o.series.forEach((s, si) => {
          let grid = bin2d(cols[si][c], cols[si][r], o.domains[c], o.domains[r], g);
          for (let k = 0; k < passes; k++) grid = smooth(grid, g);
          const [l68, l95] = hdrLevels(grid, [0.68, 0.95]);
          const toX = (u: number) => x(o.domains[c][0] + (u / g) * (o.domains[c][1] - o.domains[c][0]));
          const toY = (v: number) => y(o.domains[r][0] + (v / g) * (o.domains[r][1] - o.domains[r][0]));
          const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
          if (l95 > 0)
            parts.push(
              `<path d="${contourPath(grid, g, l95, toX, toY)}" fill="none" stroke="${s.color}" stroke-width="0.9"${dash}/>`,
            );
          if (l68 > 0)
            parts.push(
              `<path d="${contourPath(grid, g, l68, toX, toY)}" fill="none" stroke="${s.color}" stroke-width="1.8"${dash}/>`,
            );
        });
        const t = o.trueTheta;
        if (t && Number.isFinite(t[c]) && Number.isFinite(t[r])) {
          const tx = px(x(t[c]));
          const ty = px(y(t[r]));
          parts.push(`<path d="M${tx} ${ty}m-5 0h10m-5 -5v10" stroke="#111" stroke-width="1.6"/>`);
        }
      }
      if (r === p - 1) {
        const label = withUnit(o.params[c].name, o.params[c].unit);
        parts.push(
          `<text x="${px(f.left + size / 2)}" y="${height - 8}" text-anchor="middle" class="al">${esc(label)}</text>`,
        );
      }
      if (c === 0 && r > 0) {
        const label = withUnit(o.params[r].name, o.params[r].unit);
        parts.push(
          `<text transform="translate(11 ${px(f.top + size / 2)}) rotate(-90)" text-anchor="middle" class="al">${esc(label)}</text>`,
        );
      }
    }
  }
  const entries = o.series.map((s, i) => ({
    label: s.label,
    color: s.color,
    kind: s.hatch ? ('hatch' as const) : ('box' as const),
    patternId: `${o.id}-h${i}`,
  }));
  const lx = left + Math.ceil(p / 2) * (size + gap) + 10;
  parts.push(legend(lx, top + 14, entries));
  const ly = top + 14 + entries.length * 15;
  if (o.trueTheta) {
    parts.push(
      `<path d="M${lx + 9} ${ly}m-5 0h10m-5 -5v10" stroke="#111" stroke-width="1.6"/><text x="${lx + 23}" y="${ly + 3.5}" class="lg">true value</text>`,
    );
  }
  parts.push(
    `<text x="${lx}" y="${ly + 20}" class="tk">contours: 68% (thick) and 95% (thin) highest-density regions</text>`,
  );
  parts.push('</svg>');
  return parts.join('');
}

function diagonalPanel(
  o: CornerOptions,
  cols: Float64Array[][],
  k: number,
  f: Frame,
  x: Scale,
  size: number,
  bins: number,
  xTicks: boolean,
): string {
  const [lo, hi] = o.domains[k];
  const step = (hi - lo) / bins;
  const heights = o.series.map((_, si) =>
    binCounts(cols[si][k], lo, hi, bins).map((v) => v / (cols[si][k].length * step)),
  );
  const ymax = Math.max(1e-300, ...heights.map((h) => Math.max(...h))) * 1.08;
  const y = linear([0, ymax], [f.top + size, f.top]);
  const parts = [axes(f, x, y, { ticks: xTicks, inset: 10, count: 3 }, { ticks: false })];
  o.series.forEach((s, si) =>
    parts.push(
      histShape(heights[si], lo, step, x, y, {
        color: s.color,
        dash: s.dash,
        patternId: s.hatch ? `${o.id}-h${si}` : undefined,
      }),
    ),
  );
  const t = o.trueTheta?.[k];
  if (t !== undefined && Number.isFinite(t))
    parts.push(`<path d="M${px(x(t))} ${f.top}V${f.top + size}" stroke="#111" stroke-width="1.6"/>`);
  parts.push(
    `<text x="${px(f.left + size / 2)}" y="${f.top - 1}" text-anchor="middle" class="tk">${esc(o.params[k].name)}</text>`,
  );
  return parts.join('');
}

function colOf(data: Float32Array, cols: number, c: number): Float64Array {
  const n = Math.floor(data.length / cols);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = data[i * cols + c];
  return out;
}
