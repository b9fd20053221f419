import { describe, expect, it } from 'vitest';
import { renderReportHtml } from '../../main/report/html.ts';
import { validateReportModel, ReportModelError, type ReportModel } from '../../main/report/model.ts';
import { binomialInterval, quantileSorted, summarize } from '../../main/report/stats.ts';
import { csvText, float32Text, samplesCsv, summaryCsv, SUMMARY_COLUMNS } from '../../main/report/csv.ts';
import { fixtureModel, PARAMS, sequenceDraws, TRUE_THETA } from './fixture.ts';

const A = [2, -70, -55, 0.5, -10, 0, 20];
const B = [0.0078125, 0.015625, 0.0078125, 0.001953125, 0.015625, 0.0625, 0.125];

function modelWithSequences(n: number): ReportModel {
  const m = fixtureModel({ draws: 50 });
  m.observations[0].posteriors.hc.samples = sequenceDraws(n, A, B, 1);
  m.observations[0].posteriors.cnn.samples = sequenceDraws(
    n,
    A.map((v) => v + 1),
    B,
    2,
  );
  return m;
}

/** The text a reader sees: no styles or SVG titles, tags removed, entities decoded, spaces collapsed. */
function visibleText(html: string): string {
  return html
    .replace(/<(style|title)>[\s\S]*?<\/\1>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

/** Parse a CSV without quoted fields into rows of cells. */
function parseCsv(text: string): string[][] {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => l.split(','));
}

describe('posterior summaries', () => {
  it('match the closed forms of an arithmetic sequence (NumPy conventions)', () => {
    const n = 1001;
    const s = summarize(Array.from({ length: n }, (_, i) => 3 + 0.5 * ((i * 7919) % n)));
    expect(s.mean).toBeCloseTo(3 + 0.5 * 500, 10);
    expect(s.std).toBeCloseTo(0.5 * Math.sqrt((n * n - 1) / 12), 10);
    expect(s.median).toBe(3 + 0.5 * 500);
    expect(s.q05).toBeCloseTo(3 + 0.5 * 1000 * 0.05, 10);
    expect(s.q975).toBeCloseTo(3 + 0.5 * 1000 * 0.975, 10);
  });

  it('interpolates quantiles linearly between order statistics', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([1, 2, 3, 4], 0.1)).toBeCloseTo(1.3, 12);
    expect(quantileSorted([7], 0.9)).toBe(7);
    expect(Number.isNaN(quantileSorted([], 0.5))).toBe(true);
  });

  it('gives an exact central binomial interval', () => {
    // Binomial(10, 0.5): P(X <= 1) = 11/1024 > 0.005, P(X <= 0) = 1/1024 < 0.005.
    expect(binomialInterval(10, 0.5, 0.99)).toEqual([1, 9]);
    const [lo, hi] = binomialInterval(1000, 0.05, 0.99);
    expect(lo).toBeGreaterThan(30);
    expect(hi).toBeLessThan(70);
    expect(lo + hi).toBeGreaterThan(95);
  });
});

describe('CSV exports', () => {
  it('writes summaries that match numbers computed from the closed forms', () => {
    const n = 2001;
    const m = modelWithSequences(n);
    const rows = parseCsv(summaryCsv(m));
    expect(rows[0]).toEqual([...SUMMARY_COLUMNS]);
    expect(rows).toHaveLength(1 + 2 * PARAMS.length);
    for (const [r, est, shift] of [
      [1, 'Handcrafted summaries', 0],
      [1 + PARAMS.length, 'Learned summaries (CNN)', 1],
    ] as const) {
      PARAMS.forEach((p, k) => {
        const row = rows[r + k];
        const a = A[k] + shift;
        const b = B[k];
        expect(row.slice(0, 5)).toEqual(['held-out simulation #1', est, p.name, p.unit, String(n)]);
        const [mean, std, median, q025, q05, q95, q975, truth] = row.slice(5).map(Number);
        expect(mean).toBeCloseTo(a + (b * (n - 1)) / 2, 9);
        expect(std).toBeCloseTo(b * Math.sqrt((n * n - 1) / 12), 9);
        expect(median).toBeCloseTo(a + b * (n - 1) * 0.5, 9);
        expect(q025).toBeCloseTo(a + b * (n - 1) * 0.025, 9);
        expect(q05).toBeCloseTo(a + b * (n - 1) * 0.05, 9);
        expect(q95).toBeCloseTo(a + b * (n - 1) * 0.95, 9);
        expect(q975).toBeCloseTo(a + b * (n - 1) * 0.975, 9);
        expect(truth).toBe(TRUE_THETA[k]);
      });
    }
  });

  it('writes every draw so the samples read back exactly as float32', () => {
    const m = fixtureModel({ draws: 300 });
    const rows = parseCsv(samplesCsv(m));
    expect(rows[0]).toEqual(['observation', 'estimator', 'draw', ...PARAMS.map((p) => p.name)]);
    expect(rows).toHaveLength(1 + 600);
    const post = m.observations[0].posteriors.cnn.samples;
    const cnnRows = rows.filter((r) => r[1] === 'Learned summaries (CNN)');
    expect(cnnRows).toHaveLength(300);
    cnnRows.forEach((r, i) => {
      expect(r[2]).toBe(String(i));
      r.slice(3).forEach((v, k) => expect(Math.fround(Number(v))).toBe(post[i * PARAMS.length + k]));
    });
  });

  it('prints float32 values with the fewest digits that read back', () => {
    expect(float32Text(Math.fround(0.1))).toBe('0.1');
    expect(float32Text(Math.fround(12.83))).toBe('12.83');
    expect(float32Text(Math.fround(1 / 3))).toBe('0.33333334');
    expect(float32Text(NaN)).toBe('nan');
  });

  it('quotes text with commas and quotes and defuses spreadsheet formulas', () => {
    expect(csvText('a,b')).toBe('"a,b"');
    expect(csvText('say "hi"')).toBe('"say ""hi"""');
    expect(csvText('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvText('plain')).toBe('plain');
  });
});

describe('HTML report', () => {
  const html = renderReportHtml(fixtureModel({ draws: 1000, chip: true }));

  it('has every section, in order, with its heading', () => {
    const heads = [...html.matchAll(/<h2>([^<]*)<\/h2>/g)].map((m) => m[1]);
    expect(heads).toEqual([
      '1. Experiment and prior',
      '2. Simulation set and restriction',
      '3. Estimators',
      '4. Per-observation comparison',
      '5. Calibration',
      '6. Whole-chip maps',
      '7. Provenance',
    ]);
  });

  it('leaves out the chip section when there are no chip maps', () => {
    const h = renderReportHtml(fixtureModel({ draws: 200 }));
    expect(h).not.toContain('Whole-chip maps');
    expect(h).toContain('6. Provenance');
  });

  it('shows the numbers of the model', () => {
    const text = visibleText(html);
    expect(text).toContain('useful fraction, full prior 23.1%');
    expect(text).toContain('useful fraction, restricted prior 87.4%');
    expect(text).toContain('gain in useful simulations 3.78×');
    expect(text).toContain('initial simulations from the full prior 50000');
    expect(text).toContain('step of 0.5 nA from 20 µs for 160 µs');
    expect(text).toContain('tau_w µs 20 400');
    expect(text).toContain('mean ISI [µs] 21.5 25.1 19 – 33 21.9 20.2 – 23.5');
    expect(text).toContain('sha256:estcnn0123');
    expect(text).toContain("training 'Learned summaries (CNN)' 12");
    expect(text).toContain('final validation loss 6.25 4.97');
  });

  it('puts the posterior summary of each parameter in the comparison table', () => {
    const m = modelWithSequences(2001);
    const text = visibleText(renderReportHtml(m));
    // tau_mem: handcrafted median 2 + 0.0078125 * 1000 = 9.8125, learned 10.8125.
    expect(text).toMatch(/tau_mem \[µs\] 12 9\.813 [^ ]+ – [^ ]+ [^ ]+ [^ ]+ 10\.81 /);
    // Coverage errors of the fixture: 0.04 * sin(pi/2) at level 0.5 and 0.08 for the other estimator.
    expect(text).toMatch(/Handcrafted summaries 200 100 joint HPD 0\.04 /);
    expect(text).toMatch(/Learned summaries \(CNN\) 200 100 joint HPD 0\.08 /);
  });

  it('references nothing outside the file', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?\s*(https?:|\/\/|file:)/i);
    expect(html).not.toMatch(/url\(\s*["']?(https?:|\/\/|data:)/i);
    expect(html).not.toMatch(/@import/i);
    const hrefs = [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]);
    expect(hrefs.length).toBeGreaterThan(0);
    expect(hrefs.every((h) => h.startsWith('#'))).toBe(true);
  });

  it('gives every SVG element id in the document once', () => {
    const ids = [...html.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]);
    const defs = new Map<string, string>();
    for (const m of html.matchAll(/<(pattern|clipPath|linearGradient) id="([^"]+)"(.*?)<\/\1>/g)) {
      if (defs.has(m[2])) expect(defs.get(m[2])).toBe(m[0]); // a repeated id must define the same thing
      defs.set(m[2], m[0]);
    }
    const sectionIds = ids.filter((i) => !defs.has(i));
    expect(new Set(sectionIds).size).toBe(sectionIds.length);
  });

  it('escapes names that carry markup', () => {
    const h = renderReportHtml(
      fixtureModel({
        draws: 100,
        names: {
          estA: '<script>alert(1)</script>',
          observation: '<img src=x onerror=alert(2)>',
          experiment: '"><b>x</b>',
          title: '<i>T</i>',
        },
      }),
    );
    expect(h).not.toMatch(/<script/i);
    expect(h).not.toMatch(/<img/i);
    expect(h).not.toContain('<b>x</b>');
    expect(h).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(h).toContain('&lt;img src=x onerror=alert(2)&gt;');
    expect(h).toContain('<title>&lt;i&gt;T&lt;/i&gt;</title>');
  });
});

describe('model validation', () => {
  it('names the field that does not fit', () => {
    const bad = (f: (m: ReportModel) => void) => {
      const m = fixtureModel({ draws: 20 });
      f(m);
      return () => validateReportModel(m);
    };
    expect(bad((m) => (m.observations[0].posteriors.hc.samples = new Float32Array(13)))).toThrow(
      /observations\[0\] \(held-out simulation #1\)\.posteriors\.hc\.samples has 13 values, not a multiple of 7/,
    );
    expect(bad((m) => (m.observations[0].predictive.nope = []))).toThrow(
      /refers to unknown estimator 'nope'/,
    );
    expect(bad((m) => (m.observations[0].trueTheta = [1, 2]))).toThrow(/trueTheta has 2 values, expected 7/);
    expect(bad((m) => (m.calibration[1].ranks[3] = 101))).toThrow(
      /calibration\[1\]\.ranks value 101 at index 3 is outside 0\.\.100/,
    );
    expect(bad((m) => (m.experiment.parameters[2] = { ...PARAMS[2], low: 5, high: 5 }))).toThrow(
      /parameters\[2\] \(v_t\) has bounds low=5 >= high=5/,
    );
    expect(bad((m) => (m.estimators[1].id = 'hc'))).toThrow(ReportModelError);
    expect(
      bad(
        (m) =>
          (m.chipMaps = [
            {
              estimatorId: 'cnn',
              circuits: 512,
              medians: new Float32Array(511 * 7),
              stds: new Float32Array(512 * 7),
            },
          ]),
      ),
    ).toThrow(/chipMaps\[0\]\.medians has 511 rows, expected 512/);
  });

  it('refuses to render an invalid model', () => {
    const m = fixtureModel({ draws: 20 });
    m.observations[0].summaries!.observed.pop();
    expect(() => renderReportHtml(m)).toThrow(/summaries\.observed has 2 values, expected 3/);
  });
});
