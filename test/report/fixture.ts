/**
 * A small, fully deterministic report model with known numbers for the report tests: two
 * estimators, Gaussian posterior draws around known centres, leaky integrate-and-fire-like traces,
 * uniform SBC ranks and an optional whole-chip map.
 */
import type { ReportModel, Trace } from '../../main/report/model.ts';

/** mulberry32: a small seeded uniform generator on [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draws from a uniform generator (Box-Muller). */
export function normal(u: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/**
 * Draws whose column k is a shuffled arithmetic sequence a_k + b_k * i (i = 0..n-1) with exactly
 * representable a_k, b_k, so every summary has a closed form: mean a + b (n-1)/2, population std
 * b sqrt((n^2 - 1) / 12), linear-interpolation quantile a + b (n-1) q.
 */
export function sequenceDraws(n: number, a: number[], b: number[], seed: number): Float32Array {
  const p = a.length;
  const out = new Float32Array(n * p);
  const u = rng(seed);
  for (let k = 0; k < p; k++) {
    const idx = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(u() * (i + 1));
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    for (let r = 0; r < n; r++) out[r * p + k] = a[k] + b[k] * idx[r];
  }
  return out;
}

export const PARAMS = [
  { name: 'tau_mem', unit: 'µs', low: 2, high: 30 },
  { name: 'v_reset', unit: 'mV', low: -70, high: -40 },
  { name: 'v_t', unit: 'mV', low: -55, high: -35 },
  { name: 'delta_t', unit: 'mV', low: 0.5, high: 5 },
  { name: 'a', unit: 'nS', low: -10, high: 20 },
  { name: 'b', unit: 'pA', low: 0, high: 200 },
  { name: 'tau_w', unit: 'µs', low: 20, high: 400 },
];

export const TRUE_THETA = [12, -58, -48, 2, 4, 60, 150];

/** Gaussian draws around `centre` with per-parameter std `frac * prior width`, clipped to the prior. */
export function gaussianDraws(n: number, centre: number[], frac: number, seed: number): Float32Array {
  const g = normal(rng(seed));
  const p = PARAMS.length;
  const out = new Float32Array(n * p);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < p; k++) {
      const s = PARAMS[k];
      const v = centre[k] + g() * frac * (s.high - s.low);
      out[i * p + k] = Math.min(s.high, Math.max(s.low, v));
    }
  }
  return out;
}

/** A leaky integrate-and-fire-like membrane trace in MADC codes with its spike times. */
export function lifTrace(rate: number, seed: number, samples = 1000, sampleRate = 5e6): Trace {
  const g = normal(rng(seed));
  const values = new Float32Array(samples);
  const spikes: number[] = [];
  const dt = 1e6 / sampleRate;
  let v = 300;
  for (let i = 0; i < samples; i++) {
    const t = i * dt;
    const drive = t >= 20 && t < 180 ? rate : 0;
    v += dt * ((300 - v) / 10 + drive);
    if (v > 600) {
      spikes.push(t);
      values[i] = 660;
      v = 330;
      continue;
    }
    values[i] = v + 3 * g();
  }
  return { values, sampleRate, unit: 'MADC LSB', spikeTimes: spikes };
}

export interface FixtureOptions {
  draws?: number;
  /** Estimator and observation names (to test escaping). */
  names?: { estA?: string; estB?: string; observation?: string; experiment?: string; title?: string };
  chip?: boolean;
}

/** The test report model. Estimator A is narrow (2% of prior width), B wide (6%). */
export function fixtureModel(o: FixtureOptions = {}): ReportModel {
  const n = o.draws ?? 2000;
  const p = PARAMS.length;
  const u = rng(7);
  const nSims = 200;
  const L = 100;
  const ranksA = Int32Array.from({ length: nSims * p }, () => Math.floor(u() * (L + 1)));
  const ranksB = Int32Array.from({ length: nSims * p }, () => Math.floor(u() * (L + 1)));
  const levels = Array.from({ length: 19 }, (_, i) => (i + 1) * 0.05);
  const predA = [0, 1, 2, 3, 4].map((k) => lifTrace(45 + k, 100 + k));
  const predB = [0, 1, 2, 3, 4].map((k) => lifTrace(38 + 3 * k, 200 + k));
  const m: ReportModel = {
    title: o.names?.title ?? 'Handcrafted vs learned summaries on circuit 17',
    experiment: {
      name: o.names?.experiment ?? 'default step protocol',
      description: 'Step current into one circuit of an emulated chip.',
      stimulus: { kind: 'step', onset: 20, duration: 160, amplitude: 0.5 },
      stimulusUnit: 'nA',
      duration: 200,
      backend: { kind: 'emulator', id: 'emulator (ts kernel)', mode: 'hardware', chipSeed: 1234 },
      fixed: { e_l: -65, c_mem: 2.2 },
      parameters: PARAMS.map((p) => ({ ...p })),
      hash: 'sha256:exp0123456789abcdef',
      createdAt: '2026-11-27T10:00:00Z',
    },
    simulationSet: {
      name: 'restricted-50k',
      count: 48213,
      source: 'emulator',
      seed: 42,
      hash: 'sha256:simset0123456789',
      createdAt: '2026-11-27T11:00:00Z',
      restriction: {
        initialCount: 50000,
        spikeCountRange: [3, 40],
        usefulBefore: 0.231,
        usefulAfter: 0.874,
        falseNegativeRate: 0.01,
        threshold: 0.137,
        acceptanceRate: 0.262,
        invalidCount: 12,
        classifierHash: 'sha256:clf0123456789',
      },
    },
    estimators: [
      {
        id: 'hc',
        name: o.names?.estA ?? 'Handcrafted summaries',
        summary: 'handcrafted',
        config: {
          'density estimator': 'MAF, 5 transforms',
          'hidden units': 64,
          'batch size': 256,
          'learning rate': 5e-4,
        },
        training: {
          train: [9.1, 7.2, 6.4, 6.0, 5.85, 5.8],
          validation: [9.3, 7.5, 6.7, 6.3, 6.2, 6.25],
          lossName: '−log q(θ|x)',
          bestEpoch: 4,
        },
        seed: 11,
        hash: 'sha256:esthc0123',
        createdAt: '2026-11-27T12:00:00Z',
      },
      {
        id: 'cnn',
        name: o.names?.estB ?? 'Learned summaries (CNN)',
        summary: 'learned',
        config: {
          'density estimator': 'MAF, 5 transforms',
          'hidden units': 64,
          'batch size': 256,
          'learning rate': 5e-4,
          'conv channels': '8-16-32',
        },
        training: {
          train: [9.4, 7.0, 5.9, 5.2, 4.8, 4.6, 4.5],
          validation: [9.6, 7.3, 6.1, 5.5, 5.1, 4.95, 4.97],
          lossName: '−log q(θ|x)',
          bestEpoch: 5,
        },
        seed: 12,
        hash: 'sha256:estcnn0123',
        createdAt: '2026-11-27T12:30:00Z',
      },
    ],
    observations: [
      {
        id: 'obs-1',
        name: o.names?.observation ?? 'held-out simulation #1',
        source: 'simulated',
        circuit: 17,
        trueTheta: TRUE_THETA,
        observed: lifTrace(45, 1),
        posteriors: {
          hc: {
            samples: gaussianDraws(
              n,
              TRUE_THETA.map((t, k) => t + 0.03 * (PARAMS[k].high - PARAMS[k].low)),
              0.06,
              3,
            ),
            seed: 21,
            logProbTrue: 4.25,
            hash: 'sha256:posthc',
          },
          cnn: {
            samples: gaussianDraws(n, TRUE_THETA, 0.02, 4),
            seed: 22,
            logProbTrue: 9.5,
            hash: 'sha256:postcnn',
          },
        },
        predictive: { hc: predB, cnn: predA },
        summaries: {
          statistics: [
            { name: 'spike count', unit: '' },
            { name: 'mean ISI', unit: 'µs' },
            { name: 'first-spike latency', unit: 'µs' },
          ],
          observed: [7, 21.5, 8.4],
          predictive: {
            hc: { median: [6, 25.1, 9.9], q05: [4, 19, 7.1], q95: [8, 33, 12.5] },
            cnn: { median: [7, 21.9, 8.6], q05: [6, 20.2, 7.9], q95: [8, 23.5, 9.4] },
          },
        },
        hash: 'sha256:obs1',
      },
    ],
    calibration: [
      {
        estimatorId: 'hc',
        nPosteriorSamples: L,
        ranks: ranksA,
        coverage: { levels, empirical: levels.map((l) => Math.min(1, l + 0.04 * Math.sin(Math.PI * l))) },
        seed: 31,
      },
      {
        estimatorId: 'cnn',
        nPosteriorSamples: L,
        ranks: ranksB,
        coverage: { levels, empirical: levels.map((l) => Math.max(0, l - 0.08 * Math.sin(Math.PI * l))) },
        seed: 32,
      },
    ],
    provenance: {
      workbenchVersion: '0.1.0',
      generatedAt: '2026-11-28T00:00:00Z',
      project: { path: '/data/lab/project.adexwb', hash: 'sha256:project0123' },
    },
  };
  if (o.chip) {
    const g = normal(rng(99));
    const medians = new Float32Array(512 * p);
    const stds = new Float32Array(512 * p);
    for (let c = 0; c < 512; c++) {
      for (let k = 0; k < p; k++) {
        const w = PARAMS[k].high - PARAMS[k].low;
        medians[c * p + k] = TRUE_THETA[k] + 0.05 * w * g() + (c >= 256 ? 0.02 * w : 0);
        stds[c * p + k] = 0.02 * w * (1 + 0.2 * Math.abs(g()));
      }
    }
    m.chipMaps = [{ estimatorId: 'cnn', circuits: 512, medians, stds, chipSeed: 1234 }];
  }
  return m;
}
