/**
 * CSV exports next to a report: every posterior draw, and per-parameter summaries (mean, std,
 * median, 2.5/5/95/97.5% quantiles; NumPy conventions, see stats.ts). Comma-separated, one header
 * row, RFC 4180 quoting, '\n' line ends, so `pandas.read_csv` and `numpy.genfromtxt` read them as is.
 * Text cells that a spreadsheet would run as a formula (starting with = + - @) get a leading `'`.
 */
import type { ReportModel } from './model.ts';
import { summarizeColumns } from './stats.ts';

/** One CSV text cell: quoted when it holds a comma, quote or line break; formula starts defused. */
export function csvText(s: string): string {
  const t = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

/** Shortest decimal that reads back as the same float32 (at most 9 significant digits). */
export function float32Text(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
  const f = Math.fround(v);
  for (let p = 6; p < 9; p++) {
    const s = Number(f.toPrecision(p));
    if (Math.fround(s) === f) return String(s);
  }
  return String(Number(f.toPrecision(9)));
}

/** Shortest round-trip decimal of a double; `nan`/`inf` as NumPy writes them. */
function numText(v: number | undefined): string {
  if (v === undefined) return '';
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
  return String(v);
}

/**
 * All posterior draws: columns `observation, estimator, draw, <parameter names...>`, rows grouped by
 * observation, then estimator (report order), then draw index from 0.
 */
export function samplesCsv(m: ReportModel): string {
  const names = m.experiment.parameters.map((p) => p.name);
  const p = names.length;
  const lines = [['observation', 'estimator', 'draw', ...names].map(csvText).join(',')];
  for (const o of m.observations) {
    for (const e of m.estimators) {
      const post = o.posteriors[e.id];
      if (!post) continue;
      const prefix = `${csvText(o.name)},${csvText(e.name)},`;
      const n = post.samples.length / p;
      for (let i = 0; i < n; i++) {
        const row: string[] = [];
        for (let k = 0; k < p; k++) row.push(float32Text(post.samples[i * p + k]));
        lines.push(`${prefix}${i},${row.join(',')}`);
      }
    }
  }
  return lines.join('\n') + '\n';
}

/** Column order of `summaryCsv`. */
export const SUMMARY_COLUMNS = [
  'observation',
  'estimator',
  'parameter',
  'unit',
  'draws',
  'mean',
  'std',
  'median',
  'q025',
  'q05',
  'q95',
  'q975',
  'true_value',
] as const;

/** One row per observation, estimator and parameter with the marginal summary (and the true value when known). */
export function summaryCsv(m: ReportModel): string {
  const params = m.experiment.parameters;
  const lines = [SUMMARY_COLUMNS.join(',')];
  for (const o of m.observations) {
    for (const e of m.estimators) {
      const post = o.posteriors[e.id];
      if (!post) continue;
      const n = post.samples.length / params.length;
      summarizeColumns(post.samples, params.length).forEach((s, k) => {
        lines.push(
          [
            csvText(o.name),
            csvText(e.name),
            csvText(params[k].name),
            csvText(params[k].unit),
            String(n),
            ...[s.mean, s.std, s.median, s.q025, s.q05, s.q95, s.q975, o.trueTheta?.[k]].map(numText),
          ].join(','),
        );
      });
    }
  }
  return lines.join('\n') + '\n';
}
