/**
 * Calibration and whole-chip sections: SBC rank histograms per estimator and parameter, expected
 * coverage curves of all estimators against the diagonal, and per-circuit maps of posterior
 * medians and standard deviations.
 */
import type { CalibrationReport, ChipMap, ReportModel } from './model.ts';
import { checkSbc } from '../diagnostics/sbc.ts';
import { column, summarize } from './stats.ts';
import { rankHistogram } from './svg/histogram.ts';
import { lineChart } from './svg/line.ts';
import { heatmap } from './svg/heatmap.ts';
import { esc, estimatorStyle, fmt, withUnit } from './svg/core.ts';
import { figure, swatch, table, type Column, type Html } from './html-kit.ts';

/** Largest |empirical - nominal| coverage over the credibility levels (NaN without levels). */
export function maxCoverageError(c: { levels: number[]; empirical: number[] }): number {
  if (c.levels.length === 0) return NaN;
  return Math.max(...c.levels.map((l, i) => Math.abs(c.empirical[i] - l)));
}

/** The calibration section body: rank histograms, coverage curves and a table of both. */
export function calibrationSection(m: ReportModel): string {
  const params = m.experiment.parameters;
  const p = params.length;
  if (m.calibration.length === 0)
    return '<p class="note">No calibration results for the selected estimators.</p>';
  const parts: string[] = [];
  const checks = m.calibration.map((c) =>
    checkSbc({ nObs: c.ranks.length / p, nSamples: c.nPosteriorSamples, thetaDim: p, ranks: c.ranks }),
  );
  const name = (c: CalibrationReport) => {
    const i = m.estimators.findIndex((x) => x.id === c.estimatorId);
    return swatch(estimatorStyle(i).color, m.estimators[i].name);
  };
  parts.push(
    table(
      [
        { head: 'estimator' },
        { head: 'held-out sims', num: true },
        { head: 'draws per sim', num: true },
        { head: 'coverage curve' },
        { head: 'max coverage error', num: true },
        { head: 'SBC uniform (all parameters)' },
      ],
      m.calibration.map((c, j) => {
        const err = maxCoverageError(c.coverage);
        return [
          name(c),
          c.ranks.length / p,
          c.nPosteriorSamples,
          c.coverage.kind ?? 'joint HPD',
          { v: fmt(err, 3), cls: err <= 0.05 ? 'ok' : 'bad' },
          { v: checks[j].pass ? 'yes' : 'no', cls: checks[j].pass ? 'ok' : 'bad' },
        ];
      }),
      'Coverage error in red exceeds 0.05.',
    ),
  );
  const groups: { head: string | Html; span: number }[] = [{ head: '', span: 1 }];
  const cols: Column[] = [{ head: 'parameter' }];
  m.calibration.forEach((c) => {
    groups.push({ head: name(c), span: 3 });
    cols.push({ head: 'χ² p', num: true }, { head: 'KS p', num: true }, { head: 'uniform' });
  });
  const rows = params.map((s, k) => [
    s.name,
    ...checks.flatMap((ch) => {
      const q = ch.parameters[k];
      return [fmt(q.chi2P, 3), fmt(q.ksP, 3), { v: q.uniform ? 'yes' : 'no', cls: q.uniform ? 'ok' : 'bad' }];
    }),
  ]);
  parts.push(
    '<h3>Rank uniformity per parameter</h3>',
    table(
      cols,
      rows,
      `χ² test on the rank histogram and KS test on the ranks; "uniform" when both p-values exceed ${checks[0].alpha} / ${p} (Bonferroni over parameters).`,
      groups,
    ),
  );
  const withCoverage = m.calibration.filter((c) => c.coverage.levels.length > 0);
  if (withCoverage.length) {
    parts.push(
      '<h3>Expected coverage</h3>',
      figure(
        lineChart({
          title: 'Expected coverage of the highest-density regions',
          series: withCoverage.map((c) => {
            const i = m.estimators.findIndex((x) => x.id === c.estimatorId);
            const st = estimatorStyle(i);
            return {
              label: m.estimators[i].name,
              x: c.coverage.levels,
              y: c.coverage.empirical,
              color: st.color,
              dash: st.dash || undefined,
              width: 1.8,
            };
          }),
          xLabel: 'credibility level',
          yLabel: 'empirical coverage',
          xDomain: [0, 1],
          yDomain: [0, 1],
          diagonal: true,
          width: 380,
          height: 300,
          legendAt: 'bottom-right',
        }),
        'Above the diagonal: conservative (too wide); below: overconfident.',
      ),
    );
  }
  for (const c of m.calibration) {
    const i = m.estimators.findIndex((x) => x.id === c.estimatorId);
    const n = c.ranks.length / p;
    const bins = checks[m.calibration.indexOf(c)].bins;
    parts.push(`<h3>SBC ranks: ${esc(m.estimators[i].name)}</h3><div class="grid4">`);
    params.forEach((s, k) => {
      const svg = rankHistogram({
        title: s.name,
        ranks: column(c.ranks, p, k),
        maxRank: c.nPosteriorSamples,
        bins,
        color: estimatorStyle(i).color,
      });
      parts.push(figure(svg));
    });
    parts.push(
      '</div>',
      `<p class="note">${n} held-out simulations, ${c.nPosteriorSamples} draws each, ${bins} bins; grey: 99% band of each bin count under uniform ranks, dashed: its expectation.</p>`,
    );
  }
  return parts.join('');
}

/** Section body for whole-chip maps: a spread table and median/std heatmaps per parameter. */
export function chipMapSection(m: ReportModel, c: ChipMap): string {
  const params = m.experiment.parameters;
  const p = params.length;
  const i = m.estimators.findIndex((x) => x.id === c.estimatorId);
  const grid = c.grid ?? { rows: 16, cols: 32 };
  const parts = [
    `<h3>${esc(m.estimators[i].name)}: ${c.circuits} circuits${c.chipSeed !== undefined ? `, chip seed ${c.chipSeed}` : ''}</h3>`,
  ];
  const stat = c.statistic ?? 'median';
  const finite = (v: Float64Array) => v.filter((x) => Number.isFinite(x));
  const skipped = column(c.medians, p, 0).filter((x) => !Number.isFinite(x)).length;
  const rows = params.map((s, k) => {
    const med = summarize(finite(column(c.medians, p, k)));
    const sd = summarize(finite(column(c.stds, p, k)));
    return [withUnit(s.name, s.unit), med.mean, med.std, sd.mean, med.std / sd.mean];
  });
  parts.push(
    table(
      [
        { head: 'parameter' },
        { head: `mean of ${stat}s`, num: true },
        { head: 'spread across circuits (std)', num: true },
        { head: 'mean posterior std', num: true },
        { head: 'spread / posterior std', num: true },
      ],
      rows,
      `A spread well above the posterior std is fixed-pattern mismatch the estimator resolves.${skipped ? ` ${skipped} circuit(s) without a usable trace are left out (grey in the maps).` : ''}`,
    ),
  );
  parts.push('<div class="grid2">');
  params.forEach((s, k) => {
    parts.push(
      figure(
        heatmap({
          title: `${s.name}: posterior ${stat}`,
          values: column(c.medians, p, k),
          rows: grid.rows,
          cols: grid.cols,
          label: s.unit,
        }),
      ),
      figure(
        heatmap({
          title: `${s.name}: posterior std`,
          values: column(c.stds, p, k),
          rows: grid.rows,
          cols: grid.cols,
          label: s.unit,
        }),
      ),
    );
  });
  parts.push(
    '</div>',
    `<p class="note">Circuit k is drawn at row ⌊k / ${grid.cols}⌋, column k mod ${grid.cols}.</p>`,
  );
  return parts.join('');
}
