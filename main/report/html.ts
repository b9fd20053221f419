/**
 * Render a `ReportModel` as ONE self-contained HTML document: inline CSS, inline SVG charts, no
 * scripts, no external fonts, images or links, so it opens offline and prints (and converts to
 * PDF) without cutting figures. Every string from the model is escaped.
 *
 * @example
 * const html = renderReportHtml(model);
 * writeFileSync('report.html', html);
 */
import { REPORT_CSS } from './css.ts';
import { calibrationSection, chipMapSection, maxCoverageError } from './calibration.ts';
import { figure, kv, mono, pct, raw, swatch, table, type Html } from './html-kit.ts';
import { validateReportModel, type ReportModel } from './model.ts';
import { contraction, observationSection } from './observation.ts';
import { summarizeColumns } from './stats.ts';
import { esc, estimatorStyle, fmt, withUnit } from './svg/core.ts';
import { lineChart, type LineSeries } from './svg/line.ts';

interface Section {
  id: string;
  title: string;
  body: string;
}

function stimulusText(m: ReportModel): string {
  const s = m.experiment.stimulus;
  const u = m.experiment.stimulusUnit ? ` ${m.experiment.stimulusUnit}` : '';
  if (s.kind === 'step')
    return `step of ${fmt(s.amplitude)}${u} from ${fmt(s.onset)} µs for ${fmt(s.duration)} µs`;
  return `piecewise constant: ${s.segments.map((g) => `${fmt(g.amplitude)}${u} from ${fmt(g.start)} µs`).join('; ')}`;
}

function experimentSection(m: ReportModel): string {
  const e = m.experiment;
  const b = e.backend;
  const backend = `${b.kind} (${b.id})${b.mode ? `, ${b.mode} mode` : ''}${b.chipSeed !== undefined ? `, chip seed ${b.chipSeed}` : ''}`;
  const parts = [
    e.description ? `<p>${esc(e.description)}</p>` : '',
    kv([
      ['experiment', e.name],
      ['backend', backend],
      ['stimulus', stimulusText(m)],
      ['recording length', `${fmt(e.duration)} µs (hardware time)`],
    ]),
    '<h3>Prior</h3>',
    `<p>Box-uniform over ${e.parameters.length} parameters${m.simulationSet?.restriction ? ', restricted by a classifier (next section)' : ''}.</p>`,
    table(
      [
        { head: 'parameter' },
        { head: 'unit' },
        { head: 'lower bound', num: true },
        { head: 'upper bound', num: true },
      ],
      e.parameters.map((p) => [p.name, p.unit, p.low, p.high]),
    ),
  ];
  const fixed = Object.entries(e.fixed);
  if (fixed.length)
    parts.push(
      '<h3>Fixed parameters</h3>',
      table([{ head: 'parameter' }, { head: 'value', num: true }], fixed),
    );
  return parts.join('');
}

function simulationSection(m: ReportModel): string {
  const s = m.simulationSet;
  if (!s) return '<p class="note">The selected estimators record no training simulation set.</p>';
  const r = s.restriction;
  const parts = [
    kv([
      ['simulation set', s.name],
      ['simulations (training set)', s.count],
      ['source', s.source],
      ['seed', s.seed],
    ]),
  ];
  if (!r) {
    parts.push('<p class="note">The prior was not restricted.</p>');
    return parts.join('');
  }
  parts.push(
    '<h3>Prior restriction</h3>',
    `<p>A classifier predicts whether a parameter set gives ${
      r.spikeCountRange.every(Number.isFinite)
        ? `between ${fmt(r.spikeCountRange[0])} and ${fmt(r.spikeCountRange[1])} spikes`
        : 'a moderate spike count (range not recorded with the classifier)'
    } (the regime of interest); the restricted prior keeps draws it accepts.</p>`,
    table(
      [{ head: 'quantity' }, { head: 'value', num: true }],
      [
        ['initial simulations from the full prior', r.initialCount],
        ['invalid traces in the initial batch', r.invalidCount],
        ['useful fraction, full prior', pct(r.usefulBefore)],
        ['useful fraction, restricted prior', pct(r.usefulAfter)],
        [
          'gain in useful simulations',
          r.usefulBefore > 0 ? `${fmt(r.usefulAfter / r.usefulBefore, 3)}×` : '–',
        ],
        ['target false-negative rate', pct(r.falseNegativeRate)],
        ['false-negative rate on validation rows', pct(r.validationFalseNegativeRate)],
        ['classifier threshold', r.threshold],
        ['prior draws accepted', pct(r.acceptanceRate)],
      ].filter((row) => row[1] !== undefined),
    ),
  );
  return parts.join('');
}

function estimatorsSection(m: ReportModel): string {
  const keys = [...new Set(m.estimators.flatMap((e) => Object.keys(e.config)))];
  const head = m.estimators.map((e, i) => ({
    head: swatch(estimatorStyle(i).color, e.name) as Html | string,
  }));
  const rows: (string | number | boolean | undefined)[][] = [
    [
      'summary',
      ...m.estimators.map((e) => (e.summary === 'learned' ? 'learned (1D CNN)' : 'handcrafted statistics')),
    ],
    ...keys.map((k) => [k, ...m.estimators.map((e) => e.config[k])]),
    ['epochs trained', ...m.estimators.map((e) => e.training.train.length)],
    ['lowest validation loss at epoch', ...m.estimators.map((e) => e.training.bestEpoch)],
    ['final validation loss', ...m.estimators.map((e) => e.training.validation.at(-1))],
    ['seed', ...m.estimators.map((e) => e.seed)],
  ];
  const parts = [table([{ head: 'setting' }, ...head], rows)];
  const series: LineSeries[] = [];
  m.estimators.forEach((e, i) => {
    const c = estimatorStyle(i).color;
    const ep = (n: number) => Array.from({ length: n }, (_, k) => k + 1);
    if (e.training.train.length)
      series.push({
        label: `${e.name} (training)`,
        x: ep(e.training.train.length),
        y: e.training.train,
        color: c,
        width: 1.6,
      });
    if (e.training.validation.length) {
      series.push({
        label: `${e.name} (validation)`,
        x: ep(e.training.validation.length),
        y: e.training.validation,
        color: c,
        dash: '5 3',
        width: 1.6,
      });
    }
  });
  if (series.length) {
    const losses = [...new Set(m.estimators.map((e) => e.training.lossName))].join(' / ');
    parts.push(
      '<h3>Training curves</h3>',
      figure(
        lineChart({
          title: 'Training curves',
          series,
          xLabel: 'epoch',
          yLabel: losses,
          width: 560,
          height: 260,
          legendAt: 'top-right',
        }),
        'Solid: training loss; dashed: validation loss.',
      ),
    );
  }
  return parts.join('');
}

function keyNumbers(m: ReportModel): string {
  const p = m.experiment.parameters;
  const rows = m.estimators.map((e, i) => {
    const contr: number[] = [];
    const lps: number[] = [];
    for (const o of m.observations) {
      const post = o.posteriors[e.id];
      if (!post) continue;
      summarizeColumns(post.samples, p.length).forEach((s, k) => contr.push(contraction(s.std, p[k])));
      if (post.logProbTrue !== undefined) lps.push(post.logProbTrue);
    }
    const cal = m.calibration.find((c) => c.estimatorId === e.id);
    const mean = (a: number[]) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : undefined);
    return [
      swatch(estimatorStyle(i).color, e.name),
      contr.length ? contr.length / p.length : 0,
      mean(contr),
      mean(lps),
      cal ? maxCoverageError(cal.coverage) : undefined,
    ];
  });
  return table(
    [
      { head: 'estimator' },
      { head: 'observations', num: true },
      { head: 'mean contraction', num: true },
      { head: 'mean log q(θ_true | x)', num: true },
      { head: 'max coverage error', num: true },
    ],
    rows,
    'Contraction 1 − Var_post / Var_prior, averaged over parameters and observations (1 = point mass, 0 = prior width).',
  );
}

function provenanceSection(m: ReportModel): string {
  const pv = m.provenance;
  const hashes: [string, string | undefined][] = [
    ['project', pv.project?.hash],
    [`experiment '${m.experiment.name}'`, m.experiment.hash],
    [`simulation set '${m.simulationSet?.name}'`, m.simulationSet?.hash],
    ['restriction classifier', m.simulationSet?.restriction?.classifierHash],
    ...m.estimators.map((e): [string, string | undefined] => [`estimator '${e.name}'`, e.hash]),
    ...m.observations.map((o): [string, string | undefined] => [`observation '${o.name}'`, o.hash]),
    ...m.observations.flatMap((o) =>
      m.estimators
        .filter((e) => o.posteriors[e.id]?.hash)
        .map((e): [string, string | undefined] => [
          `posterior '${o.name}' / '${e.name}'`,
          o.posteriors[e.id].hash,
        ]),
    ),
    ...(pv.hashes ?? []).map((h): [string, string] => [h.label, h.hash]),
  ];
  const seeds: [string, number | undefined][] = [
    ['simulation set', m.simulationSet?.seed],
    ['chip (fixed-pattern mismatch)', m.experiment.backend.chipSeed],
    ...m.estimators.map((e): [string, number | undefined] => [`training '${e.name}'`, e.seed]),
    ...m.calibration.map((c): [string, number | undefined] => [
      `calibration '${m.estimators.find((e) => e.id === c.estimatorId)!.name}'`,
      c.seed,
    ]),
    ...m.observations.flatMap((o) =>
      m.estimators
        .filter((e) => o.posteriors[e.id])
        .map((e): [string, number | undefined] => [
          `sampling '${o.name}' / '${e.name}'`,
          o.posteriors[e.id].seed,
        ]),
    ),
    ...(pv.seeds ?? []).map((s): [string, number] => [s.label, s.value]),
  ];
  const dates: [string, string | undefined][] = [
    ['report generated', pv.generatedAt],
    ['experiment created', m.experiment.createdAt],
    ['simulation set created', m.simulationSet?.createdAt],
    ...m.estimators.map((e): [string, string | undefined] => [`estimator '${e.name}' trained`, e.createdAt]),
    ...(pv.dates ?? []).map((d): [string, string] => [d.label, d.date]),
  ];
  return [
    kv([
      ['workbench version', pv.workbenchVersion],
      ['project file', pv.project?.path],
    ]),
    '<h3>Content hashes</h3>',
    table(
      [{ head: 'item' }, { head: 'hash' }],
      hashes.filter((h) => h[1] !== undefined).map(([k, v]) => [k, mono(v)]),
    ),
    '<h3>Seeds</h3>',
    table(
      [{ head: 'random stream' }, { head: 'seed', num: true }],
      seeds.filter((s) => s[1] !== undefined).map(([k, v]) => [k, raw(String(v))]),
    ),
    '<h3>Dates</h3>',
    table(
      [{ head: 'event' }, { head: 'date (UTC)' }],
      dates.filter((d) => d[1] !== undefined),
    ),
    '<h3>How the numbers were computed</h3>',
    '<p class="note">Posterior summaries from the stored draws in double precision: mean, population standard deviation (ddof = 0), quantiles by linear interpolation between order statistics (NumPy defaults); 90% interval = 5%–95% quantiles. Pairwise contours: draws binned on a square grid of ⌊√(n / 10)⌋ cells per side (8 to 24) over the plotted range, smoothed with a 3 × 3 binomial kernel (once, or twice below 5,000 draws), contour levels enclosing 68% and 95% of the binned mass. SBC band: exact binomial 99% interval of each bin count under uniform ranks.</p>',
  ].join('');
}

/** Options for `renderReportHtml`. */
export interface RenderOptions {
  /** Subtitle line under the title (default: workbench version and generation date). */
  subtitle?: string;
}

/**
 * The report as one self-contained HTML document. Validates the model first (throws
 * `ReportModelError` naming the field when shapes or estimator references do not fit).
 */
export function renderReportHtml(model: ReportModel, opts: RenderOptions = {}): string {
  const m = validateReportModel(model);
  const sections: Section[] = [
    { id: 'experiment', title: 'Experiment and prior', body: experimentSection(m) },
    { id: 'simulations', title: 'Simulation set and restriction', body: simulationSection(m) },
    { id: 'estimators', title: 'Estimators', body: estimatorsSection(m) },
    {
      id: 'observations',
      title: 'Per-observation comparison',
      body: m.observations.length
        ? m.observations.map((o, i) => observationSection(m, o, i)).join('')
        : '<p class="note">No observations selected.</p>',
    },
    { id: 'calibration', title: 'Calibration', body: calibrationSection(m) },
  ];
  if (m.chipMaps?.length)
    sections.push({
      id: 'chip',
      title: 'Whole-chip maps',
      body: m.chipMaps.map((c) => chipMapSection(m, c)).join(''),
    });
  sections.push({ id: 'provenance', title: 'Provenance', body: provenanceSection(m) });
  const subtitle =
    opts.subtitle ??
    `adex-workbench ${m.provenance.workbenchVersion} · generated ${m.provenance.generatedAt}`;
  const toc = sections.map((s, i) => `<li><a href="#${s.id}">${i + 1}. ${esc(s.title)}</a></li>`).join('');
  const body = sections
    .map(
      (s, i) => `<section class="major" id="${s.id}"><h2>${i + 1}. ${esc(s.title)}</h2>${s.body}</section>`,
    )
    .join('\n');
  const params = m.experiment.parameters.map((p) => withUnit(p.name, p.unit)).join(', ');
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta name="generator" content="adex-workbench ${esc(m.provenance.workbenchVersion)}">`,
    `<title>${esc(m.title)}</title>`,
    `<style>${REPORT_CSS}</style></head><body>`,
    `<header><h1>${esc(m.title)}</h1><p class="sub">${esc(subtitle)}</p>`,
    `<p>Inferred parameters: ${esc(params)}. Estimators compared: ${m.estimators.map((e, i) => swatch(estimatorStyle(i).color, e.name).html).join(', ')}.</p>`,
    keyNumbers(m),
    `<nav><strong>Contents</strong><ol>${toc}</ol></nav></header>`,
    body,
    '</body></html>',
  ].join('\n');
}
