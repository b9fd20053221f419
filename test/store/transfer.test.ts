import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpyFile, writeNpyFile } from '../../main/io/npy.ts';
import { readNpzFile, writeNpzFile } from '../../main/io/npz.ts';
import { readCsvFile } from '../../main/io/csv.ts';
import { openProject } from '../../main/store/index.ts';
import {
  exportObservation,
  exportPosterior,
  exportSimulations,
  importObservation,
  importSimulations,
  readObservationFile,
} from '../../main/store/transfer.ts';
import { patternBatch, tempDir } from './helpers.ts';

function project(dir: string) {
  return openProject(join(dir, 'p.adexproj'), { create: true });
}

describe('observation import', () => {
  it('reads int16 .npy as MADC codes and float .npy as volts, 1-d or 2-d', () => {
    const dir = tempDir();
    writeNpyFile(join(dir, 'c.npy'), {
      dtype: 'int16',
      shape: [2, 3],
      data: Int16Array.of(1, 2, 3, 4, 5, 6),
    });
    writeNpyFile(join(dir, 'v.npy'), {
      dtype: 'float64',
      shape: [4],
      data: Float64Array.of(-0.07, -0.06, -0.05, -0.04),
    });
    expect(readObservationFile(join(dir, 'c.npy'))).toMatchObject({
      traces: 2,
      samples: 3,
      unit: 'codes',
      data: Int16Array.of(1, 2, 3, 4, 5, 6),
    });
    expect(readObservationFile(join(dir, 'v.npy'))).toMatchObject({
      traces: 1,
      samples: 4,
      unit: 'volts',
      data: Float32Array.of(-0.07, -0.06, -0.05, -0.04),
    });
    expect(() => readObservationFile(join(dir, 'v.npy'), 'codes')).toThrow(
      /value 0 is -0\.07, not an MADC code/,
    );
  });

  it('takes sample rate, true parameters and circuit from an .npz and the rate from a CSV time column', () => {
    const dir = tempDir();
    writeNpzFile(join(dir, 'o.npz'), {
      traces: { dtype: 'int16', shape: [1, 3], data: Int16Array.of(300, 310, 320) },
      sample_rate: { dtype: 'float64', shape: [], data: Float64Array.of(29.4e6) },
      true_theta: { dtype: 'float64', shape: [2], data: Float64Array.of(0.5, 2) },
      circuit_id: { dtype: 'int64', shape: [], data: BigInt64Array.of(12n) },
    });
    writeFileSync(
      join(dir, 'o.csv'),
      't_ms,cell_a,cell_b\n0,-0.07,-0.065\n0.5,-0.069,-0.064\n1.0,-0.068,-0.063\n',
    );
    const p = project(dir);
    const a = importObservation(p, join(dir, 'o.npz'), { paramNames: ['a', 'b'] });
    expect(a).toMatchObject({
      name: 'o',
      source: 'imported',
      sampleRate: 29.4e6,
      circuitId: 12,
      paramNames: ['a', 'b'],
      trueTheta: Float32Array.of(0.5, 2),
    });
    const b = importObservation(p, join(dir, 'o.csv'), { name: 'csv' });
    expect(b).toMatchObject({ traces: 2, samples: 3, unit: 'volts', sampleRate: 2000 });
    expect(b.data).toEqual(Float32Array.of(-0.07, -0.069, -0.068, -0.065, -0.064, -0.063));
    writeNpyFile(join(dir, 'n.npy'), { dtype: 'int16', shape: [3], data: Int16Array.of(1, 2, 3) });
    expect(() => importObservation(p, join(dir, 'n.npy'))).toThrow(/does not state its sample rate/);
    expect(p.observations.list()).toHaveLength(2);
    p.close();
  });
});

describe('simulation import', () => {
  it('imports theta and traces .npy files in batches, rows intact', () => {
    const dir = tempDir();
    const { theta, codes } = patternBatch(3, 1000, 4, 64);
    writeNpyFile(join(dir, 'theta.npy'), {
      dtype: 'float64',
      shape: [1000, 4],
      data: Float64Array.from(theta),
    });
    writeNpyFile(join(dir, 'x.npy'), { dtype: 'int16', shape: [1000, 64], data: codes });
    const p = project(dir);
    const progress: number[] = [];
    const set = importSimulations(p, join(dir, 'theta.npy'), join(dir, 'x.npy'), {
      sampleRate: 1e6,
      paramNames: ['tag', 'a', 'b', 'c'],
      batchRows: 300,
      onProgress: (d) => progress.push(d),
    });
    expect(progress).toEqual([300, 600, 900, 1000]);
    expect(set).toMatchObject({
      rows: 1000,
      samplesPerTrace: 64,
      source: 'imported',
      paramNames: ['tag', 'a', 'b', 'c'],
    });
    const back = p.simulations.readRows(set.id, 0, 1000);
    expect(back.theta).toEqual(theta);
    expect(back.codes).toEqual(codes);
    p.close();
  });

  it('leaves the project unchanged when the traces go bad halfway', () => {
    const dir = tempDir();
    const codes = new Float32Array(1000 * 8).fill(512);
    codes[700 * 8 + 3] = 512.5; // not a code, in the third batch
    writeNpyFile(join(dir, 'theta.npy'), {
      dtype: 'float32',
      shape: [1000, 2],
      data: new Float32Array(2000),
    });
    writeNpyFile(join(dir, 'x.npy'), { dtype: 'float32', shape: [1000, 8], data: codes });
    const p = project(dir);
    expect(() =>
      importSimulations(p, join(dir, 'theta.npy'), join(dir, 'x.npy'), { sampleRate: 1e6, batchRows: 300 }),
    ).toThrow(/x\.npy rows 600\.\.899: value 803 is 512\.5, not an MADC code/);
    expect(p.simulations.list()).toEqual([]);
    writeNpyFile(join(dir, 'short.npy'), { dtype: 'int16', shape: [999, 8], data: new Int16Array(999 * 8) });
    expect(() =>
      importSimulations(p, join(dir, 'theta.npy'), join(dir, 'short.npy'), { sampleRate: 1e6 }),
    ).toThrow(/theta\.npy has 1000 rows but .*short\.npy has 999/);
    p.close();
  });
});

describe('export', () => {
  it('writes posteriors, observations and simulation sets that read back equal', () => {
    const dir = tempDir();
    const p = project(dir);
    const obs = p.observations.create({
      name: 'o',
      source: 'recorded',
      sampleRate: 2e6,
      traces: 2,
      samples: 3,
      data: Int16Array.of(1, 2, 3, 4, 5, 6),
      trueTheta: Float32Array.of(0.25),
      paramNames: ['a'],
    });
    const est = p.estimators.create({ name: 'e', config: {}, summaryType: 'learned' });
    const post = p.posteriors.create({
      estimatorId: est.id,
      observationId: obs.id,
      paramNames: ['a', 'b'],
      samples: Float32Array.of(0.1, 0.2, 0.3, 0.4),
    });
    const set = p.simulations.create({
      name: 's',
      source: 'emulator',
      paramNames: ['tag', 'a', 'b', 'c'],
      samplesPerTrace: 16,
      sampleRate: 1e6,
      chunkRows: 7,
    });
    const batch = patternBatch(2, 30, 4, 16);
    p.simulations.append(set.id, batch);

    exportPosterior(p, post.id, join(dir, 'post.npy'), 'npy');
    expect(readNpyFile(join(dir, 'post.npy'))).toEqual({
      dtype: 'float32',
      shape: [2, 2],
      data: Float32Array.of(0.1, 0.2, 0.3, 0.4),
    });
    exportPosterior(p, post.id, join(dir, 'post.csv'), 'csv');
    expect(readCsvFile(join(dir, 'post.csv'))).toMatchObject({ columns: ['a', 'b'], rows: 2 });
    expect(Float32Array.from(readCsvFile(join(dir, 'post.csv')).data)).toEqual(
      Float32Array.of(0.1, 0.2, 0.3, 0.4),
    );

    exportObservation(p, obs.id, join(dir, 'obs.npz'), 'npz');
    const z = readNpzFile(join(dir, 'obs.npz'));
    expect(z.traces).toEqual({ dtype: 'int16', shape: [2, 3], data: Int16Array.of(1, 2, 3, 4, 5, 6) });
    expect(z.sample_rate.data[0]).toBe(2e6);
    exportObservation(p, obs.id, join(dir, 'obs.csv'), 'csv');
    const back = importObservation(p, join(dir, 'obs.csv'), { unit: 'codes' });
    expect(back).toMatchObject({
      traces: 2,
      samples: 3,
      sampleRate: 2e6,
      data: Int16Array.of(1, 2, 3, 4, 5, 6),
    });

    exportSimulations(p, set.id, join(dir, 'sims.npz'), 'npz');
    const s = readNpzFile(join(dir, 'sims.npz'));
    expect(s.theta).toEqual({ dtype: 'float32', shape: [30, 4], data: batch.theta });
    expect(s.codes).toEqual({ dtype: 'int16', shape: [30, 16], data: batch.codes });
    expect(s.spike_counts.data).toEqual(batch.spikeCounts);
    expect(s.spike_times.data).toEqual(batch.spikeTimes);
    exportSimulations(p, set.id, join(dir, 'simdir'), 'npy');
    expect(readdirSync(join(dir, 'simdir')).sort()).toEqual([
      'codes.npy',
      'param_names.txt',
      'spike_counts.npy',
      'spike_times.npy',
      'theta.npy',
    ]);
    expect(readNpyFile(join(dir, 'simdir', 'codes.npy')).data).toEqual(batch.codes);
    exportSimulations(p, set.id, join(dir, 'sims.csv'), 'csv');
    expect(readCsvFile(join(dir, 'sims.csv')).columns).toEqual(['tag', 'a', 'b', 'c', 'spike_count']);
    p.close();
  });

  it('writes nothing when an export fails', () => {
    const dir = tempDir();
    const p = project(dir);
    expect(() => exportPosterior(p, 5, join(dir, 'x.npy'), 'npy')).toThrow(/no posterior with id 5/);
    writeFileSync(join(dir, 'taken'), '');
    const set = p.simulations.create({
      name: 's',
      source: 'emulator',
      paramNames: ['a'],
      samplesPerTrace: 4,
      sampleRate: 1,
    });
    expect(() => exportSimulations(p, set.id, join(dir, 'taken'), 'npy')).toThrow(/already exists/);
    p.close();
    expect(
      readdirSync(dir)
        .filter((f) => !f.startsWith('p.adexproj'))
        .sort(),
    ).toEqual(['taken']);
    expect(existsSync(join(dir, 'x.npy'))).toBe(false);
  });
});
