import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { summaryAgreement } from '../../main/diagnostics/predictive.ts';
import {
  calibrationArtifact,
  chipMapArtifact,
  predictiveTracesArtifact,
  summaryAgreementArtifact,
} from '../../main/report/artifacts.ts';
import { renderReportHtml } from '../../main/report/html.ts';
import { buildReportModel, ReportSelectionError, trainingCurve } from '../../main/report/project-model.ts';
import { openProject } from '../../main/store/index.ts';
import { lifTrace, PARAMS, rng, sequenceDraws, TRUE_THETA } from './fixture.ts';

const BIN = fileURLToPath(new URL('../../bin/adexwb.js', import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'adexwb-report-'));
  dirs.push(d);
  return d;
}

const NAMES = PARAMS.map((p) => p.name);
const REVERSED = [...NAMES].reverse();
const A = [2, -70, -55, 0.5, -10, 0, 20];
const B = [0.0078125, 0.015625, 0.0078125, 0.001953125, 0.015625, 0.0625, 0.125];
const N = 1001;

/** Columns of a row-major matrix in reverse order (how a posterior stored with REVERSED names holds them). */
function reverseColumns<T extends Float32Array | Int32Array>(data: T, p: number): T {
  const out = data.slice() as T;
  for (let r = 0; r < data.length / p; r++)
    for (let k = 0; k < p; k++) out[r * p + k] = data[r * p + (p - 1 - k)];
  return out;
}

const codes = (v: Float32Array) => Int16Array.from(v, (x) => Math.round(x));

/** A small project with everything a report reads; returns its path and ids. */
function makeProject(dir: string) {
  const path = join(dir, 'lab.adexproj');
  const project = openProject(path, { create: true });
  try {
    const exp = project.experiments.create({
      name: 'step 0.5',
      stimulus: { kind: 'step', onset: 20, duration: 160, amplitude: 0.5 },
      fixed: { e_l: -65 },
      prior: {
        names: NAMES,
        units: PARAMS.map((p) => p.unit),
        low: PARAMS.map((p) => p.low),
        high: PARAMS.map((p) => p.high),
      },
      backend: { kind: 'emulator', mode: 'hardware', chipSeed: 3 },
      space: 'model',
      duration: 200,
    });
    const set = project.simulations.create({
      name: 'restricted',
      source: 'emulator',
      experimentId: exp.id,
      paramNames: NAMES,
      samplesPerTrace: 1000,
      sampleRate: 5e6,
      meta: { seed: 42 },
    });
    const traces = Array.from({ length: 10 }, (_, i) => codes(lifTrace(40 + i, i).values));
    const all = new Int16Array(10 * 1000);
    traces.forEach((t, i) => all.set(t, i * 1000));
    project.simulations.append(set.id, { theta: new Float32Array(70).fill(1), codes: all, seed: 5 });
    const clf = project.classifiers.create({
      name: 'regime',
      experimentId: exp.id,
      config: {},
      onnx: Uint8Array.of(1, 2, 3),
      threshold: 0.137,
      stats: {
        initialSims: 50000,
        usefulBefore: 0.231,
        usefulAfterEstimate: 0.874,
        falseNegativeRate: 0.01,
        acceptanceRate: 0.262,
        regime: { minSpikes: 3, maxSpikes: 40 },
        spikeCounts: { invalid: 12, counts: [1, 2] },
      },
    });
    const common = { experimentId: exp.id, setId: set.id, classifierId: clf.id, status: 'trained' as const };
    const hc = project.estimators.create({
      ...common,
      name: 'Handcrafted',
      summaryType: 'handcrafted',
      config: { seed: 11, flow: { transforms: 5 }, 'batch size': 256 },
      history: [
        { trainLoss: 9, valLoss: 9.5 },
        { trainLoss: 7, valLoss: 7.2 },
        { trainLoss: 6, valLoss: 7.4 },
      ],
    });
    const cnn = project.estimators.create({
      ...common,
      name: 'Learned <CNN>',
      summaryType: 'learned',
      config: { seed: 12 },
      history: [{ loss: 8 }, { loss: 6 }],
    });
    project.estimators.create({
      ...common,
      name: 'broken',
      summaryType: 'learned',
      config: {},
      status: 'failed',
    });
    const observed = lifTrace(45, 1);
    const obs = project.observations.create({
      name: 'cell 7',
      source: 'simulated',
      sampleRate: 5e6,
      traces: 1,
      samples: 1000,
      data: codes(observed.values),
      circuitId: 17,
      experimentId: exp.id,
      trueTheta: Float32Array.from([...TRUE_THETA].reverse()),
      paramNames: REVERSED,
      meta: { spikeTimes: observed.spikeTimes },
    });
    project.observations.create({
      name: 'no posterior',
      source: 'recorded',
      sampleRate: 5e6,
      traces: 1,
      samples: 10,
      data: new Int16Array(10),
    });
    const hcSamples = sequenceDraws(N, A, B, 1);
    const cnnSamples = sequenceDraws(
      N,
      A.map((v) => v + 1),
      B,
      2,
    );
    const pHc = project.posteriors.create({
      estimatorId: hc.id,
      observationId: obs.id,
      paramNames: NAMES,
      samples: hcSamples,
      diagnostics: { seed: 21, logProbTrue: 4.5 },
    });
    const pCnn = project.posteriors.create({
      estimatorId: cnn.id,
      observationId: obs.id,
      paramNames: REVERSED,
      samples: reverseColumns(cnnSamples, 7),
    });
    const pred = Int16Array.from({ length: 3000 }, (_, i) => 300 + (i % 1000) / 10);
    for (const [p, e] of [
      [pHc, hc],
      [pCnn, cnn],
    ] as const) {
      project.artifacts.create(
        predictiveTracesArtifact(
          { posteriorId: p.id, estimatorId: e.id, observationId: obs.id },
          { data: pred, n: 3, samples: 1000, sampleRate: 5e6 },
        ),
      );
    }
    const predicted = Float32Array.from([5, 20, 6, 22, 7, 24, 8, NaN]);
    const rows = summaryAgreement(predicted, [7, 21.5], ['spike_count', 'isi_mean']);
    project.artifacts.create(summaryAgreementArtifact({ posteriorId: pHc.id }, rows, ['', 'µs']));
    const u = rng(3);
    const ranks = Int32Array.from({ length: 50 * 7 }, () => Math.floor(u() * 101));
    const levels = [0.25, 0.5, 0.75];
    project.artifacts.create(
      calibrationArtifact(
        { estimatorId: hc.id },
        {
          ranks,
          nObs: 50,
          nSamples: 100,
          paramNames: NAMES,
          coverage: { levels, coverage: [0.3, 0.52, 0.74] },
          seed: 31,
        },
      ),
    );
    project.artifacts.create(
      calibrationArtifact(
        { estimatorId: cnn.id },
        {
          ranks: reverseColumns(ranks, 7),
          nObs: 50,
          nSamples: 100,
          paramNames: REVERSED,
          coverage: { levels, coverage: [0.2, 0.41, 0.7] },
        },
      ),
    );
    const medians = Float32Array.from({ length: 512 * 7 }, (_, i) => i % 7);
    project.artifacts.create(
      chipMapArtifact(
        { estimatorId: cnn.id },
        { circuits: 512, paramNames: NAMES, medians, stds: new Float32Array(512 * 7).fill(0.5), chipSeed: 3 },
      ),
    );
    return { path, ids: { hc: hc.id, cnn: cnn.id, obs: obs.id, pHc: pHc.id }, hcSamples, cnnSamples, ranks };
  } finally {
    project.close();
  }
}

describe('report model from a project', () => {
  it('fills every part of the model from the stored entities and artifacts', () => {
    const fx = makeProject(tempDir());
    const project = openProject(fx.path, { readonly: true });
    try {
      const m = buildReportModel(project, { generatedAt: '2026-11-28T01:00:00Z' });
      expect(m.title).toBe('step 0.5: Handcrafted vs Learned <CNN>');
      expect(m.experiment.parameters.map((p) => p.name)).toEqual(NAMES);
      expect(m.experiment.backend).toEqual({
        kind: 'emulator',
        id: 'embedded emulator',
        mode: 'hardware',
        chipSeed: 3,
      });
      expect(m.simulationSet).toMatchObject({ name: 'restricted', count: 10, seed: 42, source: 'emulator' });
      expect(m.simulationSet!.restriction).toMatchObject({
        initialCount: 50000,
        spikeCountRange: [3, 40],
        usefulBefore: 0.231,
        usefulAfter: 0.874,
        invalidCount: 12,
        threshold: 0.137,
      });
      expect(m.estimators.map((e) => e.name)).toEqual(['Handcrafted', 'Learned <CNN>']);
      expect(m.estimators[0].training).toEqual({
        train: [9, 7, 6],
        validation: [9.5, 7.2, 7.4],
        lossName: '−log q(θ | x)',
        bestEpoch: 2,
      });
      expect(m.estimators[0].config).toEqual({ flow: '{"transforms":5}', 'batch size': 256 });
      expect(m.estimators[0].seed).toBe(11);
      expect(m.observations).toHaveLength(1);
      const o = m.observations[0];
      expect(o).toMatchObject({ name: 'cell 7', circuit: 17, source: 'simulated' });
      expect(o.trueTheta!.map((v) => Math.fround(v))).toEqual(TRUE_THETA.map((v) => Math.fround(v)));
      expect(o.observed.unit).toBe('MADC LSB');
      expect(o.observed.spikeTimes!.length).toBeGreaterThan(5);
      expect(Array.from(o.posteriors[String(fx.ids.hc)].samples)).toEqual(Array.from(fx.hcSamples));
      expect(Array.from(o.posteriors[String(fx.ids.cnn)].samples)).toEqual(Array.from(fx.cnnSamples)); // stored reversed, read back in prior order
      expect(o.posteriors[String(fx.ids.hc)]).toMatchObject({ seed: 21, logProbTrue: 4.5 });
      expect(o.predictive[String(fx.ids.hc)]).toHaveLength(3);
      expect(o.predictive[String(fx.ids.cnn)][2].values[999]).toBe(300 + 99.9 - 0.9); // rounded to Int16 codes: 399
      expect(o.summaries!.statistics).toEqual([
        { name: 'spike_count', unit: '' },
        { name: 'isi_mean', unit: 'µs' },
      ]);
      expect(o.summaries!.observed).toEqual([7, 21.5]);
      expect(o.summaries!.predictive[String(fx.ids.hc)].median).toEqual([6.5, 22]);
      expect(o.summaries!.predictive[String(fx.ids.cnn)]).toBeUndefined();
      expect(m.calibration).toHaveLength(2);
      expect(Array.from(m.calibration[1].ranks)).toEqual(Array.from(fx.ranks));
      expect(m.calibration[0]).toMatchObject({
        nPosteriorSamples: 100,
        seed: 31,
        coverage: { levels: [0.25, 0.5, 0.75], empirical: [0.3, 0.52, 0.74] },
      });
      expect(m.chipMaps).toHaveLength(1);
      expect(m.chipMaps![0].medians[7 * 100 + 3]).toBe(3);
      expect(m.provenance.generatedAt).toBe('2026-11-28T01:00:00Z');
      const html = renderReportHtml(m);
      expect(html).toContain('Learned &lt;CNN&gt;');
      expect(html).toContain('Whole-chip maps');
    } finally {
      project.close();
    }
  });

  it('selects observations by id or name and estimators by id, and names what it cannot find', () => {
    const fx = makeProject(tempDir());
    const project = openProject(fx.path, { readonly: true });
    try {
      expect(buildReportModel(project, { observations: ['cell 7'] }).observations[0].id).toBe(
        String(fx.ids.obs),
      );
      expect(buildReportModel(project, { observations: [String(fx.ids.obs)] }).observations[0].name).toBe(
        'cell 7',
      );
      const one = buildReportModel(project, { estimators: [fx.ids.cnn] });
      expect(one.estimators.map((e) => e.name)).toEqual(['Learned <CNN>']);
      expect(one.calibration).toHaveLength(1);
      expect(() => buildReportModel(project, { observations: ['nope'] })).toThrow(
        /no observation 'nope' in this project/,
      );
      expect(() => buildReportModel(project, { estimators: [99] })).toThrow(ReportSelectionError);
      expect(() => buildReportModel(project, { estimators: [99] })).toThrow(
        /no estimator with id 99 .*1 \(Handcrafted\)/,
      );
    } finally {
      project.close();
    }
  });

  it('names an artifact whose data does not fit its layout', () => {
    const fx = makeProject(tempDir());
    const w = openProject(fx.path);
    const bad = w.artifacts.create({
      kind: 'chip-map',
      estimatorId: fx.ids.hc,
      json: { circuits: 512, paramNames: NAMES },
      bytes: new Uint8Array(10),
    });
    w.close();
    const project = openProject(fx.path, { readonly: true });
    try {
      expect(() => buildReportModel(project)).toThrow(
        new RegExp(`artifact ${bad.id} \\(chip-map\\) has 10 data bytes, expected 7168 values of 4 bytes`),
      );
    } finally {
      project.close();
    }
  });

  it('reads what the pipeline stores (its artifact layouts, diagnostics and stats)', () => {
    const path = join(tempDir(), 'pipe.adexproj');
    const w = openProject(path, { create: true });
    const exp = w.experiments.create({
      name: 'default step protocol',
      stimulus: { kind: 'step', onset: 20, duration: 160, amplitude: 0.5 },
      fixed: {},
      prior: {
        names: NAMES,
        units: PARAMS.map((p) => p.unit),
        low: PARAMS.map((p) => p.low),
        high: PARAMS.map((p) => p.high),
      },
      backend: { kind: 'emulator', mode: 'hardware', chipSeed: 1 },
      space: 'model',
      duration: 200,
    });
    const clf = w.classifiers.create({
      name: 'regime classifier',
      experimentId: exp.id,
      config: {},
      onnx: Uint8Array.of(1),
      threshold: 0.2,
      stats: {
        initialSims: 2000,
        usefulBefore: 0.3,
        usefulAfterEstimate: 0.8,
        usefulAfter: 0.79,
        acceptanceRate: 0.35,
        validationFalseNegativeRate: 0.012,
        spikeCountHistogram: { counts: [1], invalid: 4 },
      },
    });
    const set = w.simulations.create({
      name: 'restricted',
      source: 'emulator',
      experimentId: exp.id,
      paramNames: NAMES,
      samplesPerTrace: 1000,
      sampleRate: 5e6,
    });
    const epoch = (e: number, t: number, v: number) => ({
      epoch: e,
      trainLoss: t,
      validationLoss: v,
      bestValidationLoss: v,
      epochsSinceImprovement: 0,
      stepsPerSecond: 100,
      seconds: 1,
    });
    const est = w.estimators.create({
      name: 'learned summary',
      experimentId: exp.id,
      classifierId: clf.id,
      setId: set.id,
      config: { features: 16, ensemble: 2 },
      summaryType: 'learned',
      status: 'trained',
      history: [[epoch(1, 5, 5.5), epoch(2, 4, 4.2)], [epoch(1, 6, 6.1)]],
    });
    const obs = w.observations.create({
      name: 'held-out 0',
      source: 'simulated',
      sampleRate: 5e6,
      traces: 1,
      samples: 1000,
      data: codes(lifTrace(45, 1).values),
      experimentId: exp.id,
      trueTheta: Float32Array.from(TRUE_THETA),
      paramNames: NAMES,
    });
    const rows = summaryAgreement(Float32Array.from([5, 20, 7, NaN]), [6, NaN], ['spike_count', 'isi_mean']);
    const post = w.posteriors.create({
      estimatorId: est.id,
      observationId: obs.id,
      paramNames: NAMES,
      samples: sequenceDraws(200, A, B, 1),
      diagnostics: { summaries: rows },
    });
    const pred = Int16Array.from({ length: 4000 }, (_, i) => 300 + (i % 7));
    w.artifacts.create({
      kind: 'predictive-traces',
      observationId: obs.id,
      posteriorId: post.id,
      json: { samples: 1000, statistics: ['spike_count'] },
      bytes: new Uint8Array(pred.buffer),
    });
    const curve = (c: number[]) => ({
      levels: [0.5, 0.9],
      coverage: c,
      standardError: [0.05, 0.03],
      maxError: 0.05,
      worstSigned: -0.05,
      nObs: 100,
    });
    w.artifacts.create({
      kind: 'calibration',
      estimatorId: est.id,
      json: {
        hpd: null,
        marginal: [curve([0.45, 0.85]), curve([0.55, 0.95])],
        sbc: { bins: 10 },
        meanLogProb: 3.2,
      },
    });
    const ranks = Int32Array.from({ length: 100 * 7 }, (_, i) => i % 51);
    w.artifacts.create({
      kind: 'sbc-ranks',
      estimatorId: est.id,
      json: { nObs: 100, nSamples: 50, thetaDim: 7 },
      bytes: new Uint8Array(ranks.buffer),
    });
    const mean = new Float32Array(512 * 7).fill(1);
    mean.fill(NaN, 7 * 5, 7 * 6); // circuit 5 skipped
    const std = new Float32Array(512 * 7).fill(0.25);
    w.artifacts.create({
      kind: 'chip-map',
      estimatorId: est.id,
      json: {
        circuits: 512,
        paramNames: NAMES,
        nominal: TRUE_THETA,
        skipped: [5],
        spread: [],
        meanPosteriorStd: [],
        inferenceSeconds: 1,
      },
      bytes: new Uint8Array([...new Uint8Array(mean.buffer), ...new Uint8Array(std.buffer)]),
    });
    w.close();
    const project = openProject(path, { readonly: true });
    try {
      const m = buildReportModel(project);
      expect(m.simulationSet).toMatchObject({ name: 'restricted', count: 0 });
      expect(m.simulationSet!.restriction).toMatchObject({
        initialCount: 2000,
        usefulAfter: 0.79,
        invalidCount: 4,
        validationFalseNegativeRate: 0.012,
      });
      expect(m.estimators[0].training).toMatchObject({ train: [5, 4], validation: [5.5, 4.2], bestEpoch: 2 });
      expect(m.estimators[0].training.lossName).toContain('member 1 of 2');
      const o = m.observations[0];
      expect(o.predictive[String(est.id)]).toHaveLength(4);
      expect(o.predictive[String(est.id)][0]).toMatchObject({ sampleRate: 5e6, unit: 'MADC LSB' });
      expect(o.summaries!.statistics).toEqual([
        { name: 'spike_count', unit: '' },
        { name: 'isi_mean', unit: 'µs' },
      ]);
      expect(o.summaries!.observed[0]).toBe(6);
      expect(Number.isNaN(o.summaries!.observed[1])).toBe(true);
      expect(o.summaries!.predictive[String(est.id)].median).toEqual([6, 20]);
      expect(m.calibration[0]).toMatchObject({
        nPosteriorSamples: 50,
        coverage: { levels: [0.5, 0.9], kind: 'marginal (mean over parameters)' },
      });
      expect(m.calibration[0].coverage.empirical[0]).toBeCloseTo(0.5, 12);
      expect(m.calibration[0].coverage.empirical[1]).toBeCloseTo(0.9, 12);
      expect(Array.from(m.calibration[0].ranks)).toEqual(Array.from(ranks));
      expect(m.chipMaps![0]).toMatchObject({ statistic: 'mean', chipSeed: 1 });
      const html = renderReportHtml(m);
      expect(html).toContain('mean of means');
      expect(html).toContain('1 circuit(s) without a usable trace are left out');
      expect(html).toContain('false-negative rate on validation rows');
      expect(html).toContain('a moderate spike count (range not recorded with the classifier)');
    } finally {
      project.close();
    }
  });

  it('reads training losses under the usual key names', () => {
    expect(trainingCurve([{ train_loss: 3, val_loss: 4 }, { train: 2, validation: 3.5 }, 1.5])).toEqual({
      train: [3, 2, 1.5],
      validation: [4, 3.5],
      lossName: '−log q(θ | x)',
      bestEpoch: 2,
    });
  });
});

describe('adexwb report', () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [BIN, 'report', ...args], { encoding: 'utf8', timeout: 120_000 });

  it('writes the HTML and CSV files whose summaries match the stored draws', () => {
    const dir = tempDir();
    const fx = makeProject(dir);
    const r = run('--project', fx.path, '--out', join(dir, 'out', '..', 'r.html'), '--csv', '--json');
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res).toMatchObject({
      html: join(dir, 'r.html'),
      summaryCsv: join(dir, 'r.summary.csv'),
      observations: 1,
      estimators: 2,
    });
    expect(readFileSync(res.html, 'utf8')).toContain('cell 7');
    const rows = readFileSync(res.summaryCsv, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => l.split(','));
    const hcTau = rows.find((x) => x[1] === 'Handcrafted' && x[2] === 'tau_w')!;
    // tau_w draws of the handcrafted posterior: 20 + 0.125 i, i = 0..1000.
    expect(Number(hcTau[5])).toBeCloseTo(20 + 0.125 * 500, 9);
    expect(Number(hcTau[6])).toBeCloseTo(0.125 * Math.sqrt((N * N - 1) / 12), 9);
    expect(Number(hcTau[9])).toBeCloseTo(20 + 0.125 * 1000 * 0.05, 9);
    expect(Number(hcTau[12])).toBe(Math.fround(TRUE_THETA[6]));
    expect(readFileSync(res.samplesCsv, 'utf8').split('\n')).toHaveLength(1 + 2 * N + 1);
  }, 300_000);

  it('refuses bad input with one line and exit code 2, writing nothing', () => {
    const dir = tempDir();
    const fx = makeProject(dir);
    const cases: [string[], RegExp][] = [
      [['--project', join(dir, 'missing.adexproj')], /missing\.adexproj/],
      [['--project', fx.path, '--observations', 'nope'], /no observation 'nope'/],
      [['--project', fx.path, '--estimators', 'abc'], /--estimators takes estimator ids/],
      [['--project', fx.path, '--estimators', '42'], /no estimator with id 42/],
      [['--project', fx.path, '--out', join(dir, 'r.txt')], /--out must name an \.html file/],
    ];
    for (const [args, msg] of cases) {
      const r = run(
        ...args,
        '--out',
        join(dir, 'x.html'),
        ...(args.includes('--out') ? args.slice(args.indexOf('--out')) : []),
      );
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(msg);
    }
    // Opening read-only may leave SQLite's -wal/-shm files; nothing else may appear.
    expect(readdirSync(dir).filter((f) => !/^lab\.adexproj(-wal|-shm)?$/.test(f))).toEqual([]);
    expect(existsSync(join(dir, 'x.html'))).toBe(false);
  }, 300_000); // five CLI start-ups: generous on a loaded 2-core machine
});
