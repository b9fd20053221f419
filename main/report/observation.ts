/**
 * The per-observation comparison section: posterior summaries of every estimator, the corner
 * plot with estimators overlaid, posterior-predictive traces against the observed trace, and the
 * agreement of each summary statistic.
 */
import type { EstimatorInfo, ObservationReport, ParameterSpec, ReportModel, Trace } from './model.ts';
import { column, quantileSorted, summarizeColumns, type MarginalSummary } from './stats.ts';
import { cornerPlot } from './svg/density.ts';
import { lineChart, type LineSeries } from './svg/line.ts';
import { esc, estimatorStyle, finiteDomain, fmt, niceDomain } from './svg/core.ts';
import { figure, kv, raw, swatch, table, type Column, type Html } from './html-kit.ts';

/** Posterior contraction 1 - Var_post / Var_prior for a box-uniform prior (Var_prior = width^2 / 12). */
export function contraction(std: number, spec: ParameterSpec): number {
  const priorVar = (spec.high - spec.low) ** 2 / 12;
  return 1 - (std * std) / priorVar;
}

/** Axis range per parameter covering the central 99% of every estimator's draws and the true value. */
export function cornerDomains(
  o: ObservationReport,
  params: ParameterSpec[],
  ids: string[],
): [number, number][] {
  const p = params.length;
  return params.map((spec, k) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const id of ids) {
      const post = o.posteriors[id];
      if (!post) continue;
      const v = column(post.samples, p, k).sort();
      lo = Math.min(lo, quantileSorted(v, 0.005));
      hi = Math.max(hi, quantileSorted(v, 0.995));
    }
    const t = o.trueTheta?.[k];
    if (t !== undefined && Number.isFinite(t)) [lo, hi] = [Math.min(lo, t), Math.max(hi, t)];
    if (!(lo < hi)) [lo, hi] = [spec.low, spec.high];
    const pad = (hi - lo) * 0.08;
    return [Math.max(spec.low, lo - pad), Math.min(spec.high, hi + pad)];
  });
}

/** Time axis in microseconds for a trace. */
function timeAxis(t: Trace): Float64Array {
  const dt = 1e6 / t.sampleRate;
  return Float64Array.from({ length: t.values.length }, (_, i) => i * dt);
}

function predictiveChart(
  o: ObservationReport,
  est: EstimatorInfo,
  index: number,
  yDomain: [number, number],
): string {
  const style = estimatorStyle(index);
  const traces = o.predictive[est.id] ?? [];
  const series: LineSeries[] = traces.map((t, k) => ({
    label: k === 0 ? `${traces.length} predictive` : undefined,
    x: timeAxis(t),
    y: t.values,
    color: style.color,
    width: 0.9,
    opacity: Math.max(0.25, Math.min(0.7, 3 / Math.max(1, traces.length))),
  }));
  series.push({
    label: 'observed',
    x: timeAxis(o.observed),
    y: o.observed.values,
    color: '#111',
    width: 1.3,
    markers: o.observed.spikeTimes,
  });
  return lineChart({
    title: `${est.name}: posterior-predictive traces for ${o.name}`,
    series,
    width: 420,
    height: 230,
    xLabel: 'time [µs]',
    yLabel: `membrane [${o.observed.unit}]`,
    yDomain,
    legendAt: 'above',
  });
}

function summaryTable(m: ReportModel, o: ObservationReport, sums: Record<string, MarginalSummary[]>): string {
  const ests = m.estimators.filter((e) => sums[e.id]);
  const cols: Column[] = [{ head: 'parameter' }];
  if (o.trueTheta) cols.push({ head: 'true', num: true });
  const groups: { head: string | Html; span: number }[] = [{ head: '', span: cols.length }];
  for (const e of ests) {
    groups.push({ head: swatch(estimatorStyle(m.estimators.indexOf(e)).color, e.name), span: 4 });
    cols.push(
      { head: 'median', num: true },
      { head: '90% interval', num: true },
      { head: 'std', num: true },
      { head: 'contr.', num: true },
    );
  }
  const rows = m.experiment.parameters.map((spec, k) => {
    const row: (string | number | { v: string; cls: string })[] = [
      spec.unit ? `${spec.name} [${spec.unit}]` : spec.name,
    ];
    if (o.trueTheta) row.push(o.trueTheta[k]);
    for (const e of ests) {
      const s = sums[e.id][k];
      const inside = o.trueTheta ? o.trueTheta[k] >= s.q05 && o.trueTheta[k] <= s.q95 : undefined;
      row.push(
        s.median,
        { v: `${fmt(s.q05)} – ${fmt(s.q95)}`, cls: inside === undefined ? '' : inside ? 'ok' : 'bad' },
        s.std,
        contraction(s.std, spec),
      );
    }
    return row;
  });
  const note = `90% interval: 5%–95% quantiles; contr.: posterior contraction 1 − Var_post / Var_prior.${o.trueTheta ? ' Intervals in red do not contain the true value.' : ''}`;
  return table(cols, rows, note, groups);
}

function agreementTable(m: ReportModel, o: ObservationReport): string {
  const s = o.summaries!;
  const ests = m.estimators.filter((e) => s.predictive[e.id]);
  const cols: Column[] = [{ head: 'statistic' }, { head: 'observed', num: true }];
  const groups: { head: string | Html; span: number }[] = [{ head: '', span: 2 }];
  for (const e of ests) {
    groups.push({ head: swatch(estimatorStyle(m.estimators.indexOf(e)).color, e.name), span: 2 });
    cols.push({ head: 'median', num: true }, { head: '5% – 95%', num: true });
  }
  const rows = s.statistics.map((st, k) => {
    const obs = s.observed[k];
    const row: (string | number | { v: string; cls: string })[] = [
      st.unit ? `${st.name} [${st.unit}]` : st.name,
      obs,
    ];
    for (const e of ests) {
      const q = s.predictive[e.id];
      const inside = obs >= q.q05[k] && obs <= q.q95[k];
      row.push(q.median[k], {
        v: `${fmt(q.q05[k])} – ${fmt(q.q95[k])}`,
        cls: Number.isFinite(obs) ? (inside ? 'ok' : 'bad') : '',
      });
    }
    return row;
  });
  return table(
    cols,
    rows,
    'Red: the observed value lies outside the 5%–95% range of the posterior-predictive traces.',
    groups,
  );
}

/** The section for one observation (an `<article>`); `index` makes element ids unique. */
export function observationSection(m: ReportModel, o: ObservationReport, index: number): string {
  const params = m.experiment.parameters;
  const ests = m.estimators.filter((e) => o.posteriors[e.id]);
  const sums: Record<string, MarginalSummary[]> = {};
  for (const e of ests) sums[e.id] = summarizeColumns(o.posteriors[e.id].samples, params.length);
  const parts = [`<article class="obs" id="obs-${index}"><h3>${esc(o.name)}</h3>`];
  parts.push(
    kv([
      ['observation id', o.id],
      ['source', o.source],
      ['circuit', o.circuit],
      ['samples', `${o.observed.values.length} at ${fmt(o.observed.sampleRate / 1e6)} MSa/s`],
      ['observed spikes', o.observed.spikeTimes?.length],
      ...ests.map((e): [string, string] => [
        `draws (${e.name})`,
        String(o.posteriors[e.id].samples.length / params.length),
      ]),
      ...ests
        .filter((e) => o.posteriors[e.id].logProbTrue !== undefined)
        .map((e): [string, number] => [`log q(θ_true | x) (${e.name})`, o.posteriors[e.id].logProbTrue!]),
    ]),
  );
  if (ests.length === 0) {
    parts.push('<p class="note">No posterior for this observation in the selected estimators.</p></article>');
    return parts.join('');
  }
  parts.push(`<div class="keep"><h4>Posterior summaries</h4>${summaryTable(m, o, sums)}</div>`);
  parts.push(
    figure(
      cornerPlot({
        title: `Pairwise posterior of ${o.name}`,
        id: `corner${index}`,
        params,
        domains: cornerDomains(
          o,
          params,
          ests.map((e) => e.id),
        ),
        series: ests.map((e) => {
          const st = estimatorStyle(m.estimators.indexOf(e));
          return {
            label: e.name,
            samples: o.posteriors[e.id].samples,
            color: st.color,
            hatch: st.hatch,
            dash: st.dash || undefined,
          };
        }),
        trueTheta: o.trueTheta,
        panel: params.length > 5 ? 92 : 120,
      }),
      'Marginals on the diagonal (densities), pairs below it; estimators overlaid.',
    ),
  );
  const withPred = ests.filter((e) => (o.predictive[e.id] ?? []).length > 0);
  if (withPred.length > 0) {
    const all = [o.observed.values, ...withPred.flatMap((e) => o.predictive[e.id].map((t) => t.values))];
    const yDomain = niceDomain(...finiteDomain(all), 4);
    parts.push(
      '<h4>Posterior-predictive traces</h4><div class="row">',
      ...withPred.map((e) =>
        figure(
          predictiveChart(o, e, m.estimators.indexOf(e), yDomain),
          `${e.name}; ticks above: observed spikes.`,
        ),
      ),
      '</div>',
    );
  }
  if (o.summaries && o.summaries.statistics.length > 0)
    parts.push(`<div class="keep"><h4>Summary-statistic agreement</h4>${agreementTable(m, o)}</div>`);
  parts.push('</article>');
  return raw(parts.join('')).html;
}
