import { describe, expect, it } from 'vitest';
import { esc, fmt, niceDomain, niceTicks, tickLabel, linear } from '../../main/report/svg/core.ts';
import { binCounts, rankBins, rankHistogram } from '../../main/report/svg/histogram.ts';
import { bin2d, contourPath, hdrLevels, smooth, cornerPlot } from '../../main/report/svg/density.ts';
import { linePath, lineChart } from '../../main/report/svg/line.ts';
import { heatmap, viridis } from '../../main/report/svg/heatmap.ts';
import { gaussianDraws, PARAMS } from './fixture.ts';

describe('axis ticks and number formatting', () => {
  it('puts ticks on 1, 2, 2.5 and 5 times a power of ten inside the range', () => {
    expect(niceTicks(0, 1, 5).ticks).toEqual([0, 0.2, 0.4, 0.6000000000000001, 0.8, 1]);
    expect(niceTicks(-70, -40, 3)).toEqual({ ticks: [-70, -60, -50, -40], step: 10 });
    expect(niceTicks(0, 1, 4).step).toBe(0.25);
    expect(niceTicks(3, 997, 5).ticks).toEqual([200, 400, 600, 800]);
    for (const [lo, hi] of [
      [0.013, 0.0171],
      [-1e6, 3e6],
      [5, 5],
    ] as const) {
      const { ticks, step } = niceTicks(lo, hi, 5);
      expect(ticks.length).toBeGreaterThanOrEqual(2);
      const m = step / 10 ** Math.floor(Math.log10(step));
      expect([1, 2, 2.5, 5, 10].some((v) => Math.abs(v - m) < 1e-9)).toBe(true);
    }
  });

  it('pads a domain out to the nearest ticks', () => {
    expect(niceDomain(0.3, 9.2, 5)).toEqual([0, 10]);
    expect(niceDomain(-57.3, -41, 4)).toEqual([-60, -40]);
  });

  it('labels ticks with just enough decimals and a true minus sign', () => {
    expect(tickLabel(0.25, 0.25)).toBe('0.25');
    expect(tickLabel(0.5, 0.25)).toBe('0.50');
    expect(tickLabel(-60, 10)).toBe('−60');
    expect(tickLabel(2.5, 2.5)).toBe('2.5');
    expect(tickLabel(1e-17, 0.2)).toBe('0.0');
  });

  it('formats numbers with significant digits and scientific notation at the extremes', () => {
    expect(fmt(1234.5678)).toBe('1235');
    expect(fmt(12.345678)).toBe('12.35');
    expect(fmt(0.5)).toBe('0.5');
    expect(fmt(0.000012346)).toBe('1.235e-5');
    expect(fmt(2.5e7)).toBe('2.5e7');
    expect(fmt(NaN)).toBe('–');
    expect(fmt(-0.0421, 3)).toBe('-0.0421');
  });

  it('escapes markup characters', () => {
    expect(esc(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});

describe('histograms', () => {
  it('bins values into equal bins, the upper edge into the last bin, outside values dropped', () => {
    expect(Array.from(binCounts([0, 0.1, 0.5, 0.99, 1, 1.01, -0.1, NaN], 0, 1, 4))).toEqual([2, 0, 1, 2]);
  });

  it('groups SBC ranks so each bin holds whole ranks and uniform probabilities sum to one', () => {
    const { counts, probs } = rankBins([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 10, 4);
    expect(Array.from(counts)).toEqual([3, 3, 3, 2]);
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(Array.from(probs).map((p) => Math.round(p * 11))).toEqual([3, 3, 3, 2]);
  });

  it('draws one bar path and the uniform band for a rank histogram', () => {
    const svg = rankHistogram({ title: 'tau_w', ranks: [0, 5, 9, 3], maxRank: 9, bins: 5, color: '#123456' });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('fill="#123456"');
    expect(svg).toContain('fill="#dcdcdc"');
    expect(svg.match(/<path d="M[^"]*Z" fill="#123456"/g)).toHaveLength(1);
  });
});

describe('2D densities and contours', () => {
  it('bins pairs on a grid with x along columns and y along rows', () => {
    const g = bin2d([0.1, 0.9, 0.9], [0.1, 0.1, 0.9], [0, 1], [0, 1], 2);
    expect(Array.from(g)).toEqual([1, 1, 0, 1]);
  });

  it('keeps the total mass when smoothing away from the border', () => {
    const g = new Float64Array(25);
    g[12] = 16;
    const s = smooth(g, 5);
    expect(s.reduce((a, b) => a + b, 0)).toBeCloseTo(16, 12);
    expect(s[12]).toBe(4);
    expect(s[6]).toBe(1);
  });

  it('finds highest-density levels enclosing the requested mass', () => {
    const grid = Float64Array.from([10, 5, 3, 1, 1]);
    const [l50, l90] = hdrLevels(grid, [0.5, 0.9]);
    expect(l50).toBe(10);
    expect(l90).toBe(3);
  });

  it('draws a closed contour around a single peak', () => {
    const g = new Float64Array(9);
    g[4] = 1;
    const d = contourPath(
      g,
      3,
      0.5,
      (u) => u,
      (v) => v,
    );
    const segs = d.split('M').filter(Boolean);
    expect(segs).toHaveLength(4);
    // Crossings lie halfway between the peak centre (1.5) and its neighbours (0.5, 2.5).
    for (const s of segs)
      for (const n of s.replace('L', ' ').split(' ').map(Number)) expect([1, 1.5, 2]).toContain(n);
  });

  it('draws a corner plot of 10,000 draws as contours, not points, within a modest size', () => {
    const a = gaussianDraws(10_000, [12, -58, -48, 2, 4, 60, 150], 0.05, 1);
    const svg = cornerPlot({
      title: 't',
      id: 'c',
      params: PARAMS,
      domains: PARAMS.map((p) => [p.low, p.high]),
      series: [{ label: 'A', samples: a, color: '#111' }],
    });
    expect(svg).not.toContain('<circle');
    expect(svg.length).toBeLessThan(200_000);
    expect(svg.match(/stroke-width="1.8"/g)!.length).toBe(21);
  });
});

describe('line charts and heatmaps', () => {
  it('reduces a long trace to a min/max envelope per pixel column that keeps every peak', () => {
    const n = 65_535;
    const x = Float64Array.from({ length: n }, (_, i) => i);
    const y = Float64Array.from({ length: n }, (_, i) => (i % 5000 === 2500 ? 100 : 0));
    const xs = linear([0, n], [0, 500]);
    const ys = linear([0, 100], [100, 0]);
    const d = linePath({ x, y, color: '#000' }, xs, ys, 500);
    const points = d
      .split(/[ML]/)
      .filter(Boolean)
      .map((p) => p.split(' ').map(Number));
    expect(points.length).toBeLessThan(1100);
    expect(points.filter(([, py]) => py === 0)).toHaveLength(13); // 13 peaks at y = 100 -> pixel 0
  });

  it('breaks a line at NaN values', () => {
    const d = linePath(
      { x: [0, 1, 2, 3], y: [0, NaN, 1, 1], color: '#000' },
      (v) => v,
      (v) => v,
      100,
    );
    expect(d).toBe('M0 0M2 1L3 1');
  });

  it('escapes series labels and titles', () => {
    const svg = lineChart({
      title: '<b>t</b>',
      series: [{ label: '<script>x</script>', x: [0, 1], y: [0, 1], color: '#000' }],
    });
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&lt;script&gt;x&lt;/script&gt;');
  });

  it('colours heatmap cells by value through viridis and marks missing values grey', () => {
    expect(viridis(0)).toBe('#440154');
    expect(viridis(1)).toBe('#fde725');
    const svg = heatmap({ title: 'm', values: [0, 1, NaN, 0.5], rows: 2, cols: 2 });
    expect(svg).toContain('fill="#440154"');
    expect(svg).toContain('fill="#fde725"');
    expect(svg).toContain('fill="#bbb"');
  });
});
