import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openProject, NotFoundError, type ExperimentSpec, type Project } from '../../main/store/index.ts';
import { WORKBENCH_VERSION } from '../../main/version.ts';
import { patternBatch, tempProjectPath } from './helpers.ts';

const spec: ExperimentSpec = {
  name: 'step 0.5 nA',
  stimulus: { kind: 'step', onset: 20, duration: 150, amplitude: 0.5 },
  fixed: { e_l: -70 },
  prior: { names: ['tau_w', 'a', 'b'], units: ['ms', 'nS', 'nA'], low: [10, 0, 0], high: [300, 10, 0.2] },
  backend: { kind: 'emulator', mode: 'hardware', chipSeed: 42 },
  space: 'model',
  duration: 200,
};

function fresh(): Project {
  return openProject(tempProjectPath(), { create: true });
}

describe('experiments', () => {
  it('stores an experiment with provenance and reads it back equal', () => {
    const p = fresh();
    const e = p.experiments.create(spec);
    expect(e).toMatchObject({ ...spec, id: 1, workbenchVersion: WORKBENCH_VERSION });
    expect(e.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(Date.parse(e.createdAt)).toBeGreaterThan(0);
    expect(p.experiments.get(e.id)).toEqual(e);
    // Same content, same hash; different prior, different hash.
    expect(p.experiments.create({ ...spec, name: 'again' }).contentHash).toBe(e.contentHash);
    expect(
      p.experiments.create({ ...spec, prior: { ...spec.prior, high: [300, 10, 0.3] } }).contentHash,
    ).not.toBe(e.contentHash);
    p.close();
  });

  it('rejects a malformed experiment naming every bad field', () => {
    const p = fresh();
    const bad = { ...spec, prior: { ...spec.prior, low: [10, 20, 0], units: ['ms'] }, duration: -1 };
    expect(() => p.experiments.create(bad)).toThrow(
      /prior\.units: has 1 entries.*a: low 20 is not below high 10.*duration: must be positive/,
    );
    expect(p.experiments.list()).toEqual([]);
    p.close();
  });
});

describe('simulation sets', () => {
  it('appends batches across chunk boundaries and reads any rows back exactly', () => {
    const p = fresh();
    const set = p.simulations.create({
      name: 's',
      source: 'emulator',
      paramNames: ['t', 'a', 'b', 'c'],
      samplesPerTrace: 50,
      sampleRate: 29.4e6,
      chunkRows: 16,
    });
    const batches = [patternBatch(0, 40, 4, 50), patternBatch(1, 7, 4, 50), patternBatch(2, 33, 4, 50)];
    const infos = batches.map((b) => p.simulations.append(set.id, b));
    expect(infos.map((i) => [i.rowStart, i.rows])).toEqual([
      [0, 40],
      [40, 7],
      [47, 33],
    ]);
    expect(p.simulations.get(set.id).rows).toBe(80);

    const all = {
      theta: new Float32Array(80 * 4),
      codes: new Int16Array(80 * 50),
      counts: [] as number[],
      times: [] as number[],
    };
    let r0 = 0;
    for (const b of batches) {
      all.theta.set(b.theta, r0 * 4);
      all.codes.set(b.codes, r0 * 50);
      all.counts.push(...b.spikeCounts);
      all.times.push(...b.spikeTimes);
      r0 += b.theta.length / 4;
    }
    const rows = p.simulations.readRows(set.id, 0, 80);
    expect(rows.theta).toEqual(all.theta);
    expect(rows.codes).toEqual(all.codes);
    expect(Array.from(rows.spikeCounts)).toEqual(all.counts);
    expect(Array.from(rows.spikeTimes)).toEqual(all.times);

    const mid = p.simulations.readRows(set.id, 30, 25);
    expect(mid.codes).toEqual(all.codes.slice(30 * 50, 55 * 50));
    expect(mid.spikeOffsets[25]).toBe(all.counts.slice(30, 55).reduce((a, c) => a + c, 0));

    const reader = p.simulations.openReader(set.id, { cacheBytes: 3 * 16 * 50 * 2 });
    const idx = Uint32Array.of(79, 0, 41, 41, 15, 16, 63, 2);
    const got = reader.read(idx);
    idx.forEach((row, k) => {
      expect(got.theta.subarray(k * 4, k * 4 + 4)).toEqual(all.theta.subarray(row * 4, row * 4 + 4));
      expect(got.codes.subarray(k * 50, k * 50 + 50)).toEqual(all.codes.subarray(row * 50, row * 50 + 50));
    });
    expect(reader.cacheUsage).toBeLessThanOrEqual(3 * 16 * 50 * 2 + 3 * 16 * 16);
    expect(() => reader.read([80])).toThrow(/index 80 at position 0 is outside the set \(80 rows\)/);
    p.close();
  });

  it('walks every row exactly once per epoch, in shuffled batches, reproducibly', () => {
    const p = fresh();
    const set = p.simulations.create({
      name: 's',
      source: 'emulator',
      paramNames: ['t', 'a', 'b', 'c'],
      samplesPerTrace: 20,
      sampleRate: 1e6,
      chunkRows: 8,
    });
    for (let b = 0; b < 10; b++) p.simulations.append(set.id, patternBatch(b, 13, 4, 20));
    const reader = p.simulations.openReader(set.id, { cacheBytes: 4096 });
    const seen: number[] = [];
    for (const batch of reader.epoch(32, { seed: 3 })) {
      expect(batch.indices.length).toBeLessThanOrEqual(32);
      batch.indices.forEach((row, k) => {
        expect(batch.theta[k * 4]).toBe(Math.floor(row / 13)); // tag = batch of the row
        expect(batch.codes[k * 20]).toBe((Math.floor(row / 13) * 31 + (row % 13) * 7) & 1023);
      });
      seen.push(...batch.indices);
    }
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 130 }, (_, i) => i));
    expect(seen).not.toEqual([...seen].sort((a, b) => a - b));
    const again = [...reader.epoch(32, { seed: 3 })].flatMap((b) => Array.from(b.indices));
    expect(again).toEqual(seen);
    p.close();
  });

  it('rejects a malformed batch without writing anything', () => {
    const p = fresh();
    const set = p.simulations.create({
      name: 's',
      source: 'imported',
      paramNames: ['a', 'b'],
      samplesPerTrace: 10,
      sampleRate: 1e6,
    });
    const ok = { theta: new Float32Array(6), codes: new Int16Array(30) };
    expect(() => p.simulations.append(set.id, { ...ok, codes: new Int16Array(29) })).toThrow(
      /batch\.codes has 29 values, expected 3 rows x 10 samples/,
    );
    expect(() => p.simulations.append(set.id, { ...ok, theta: Float32Array.of(0, 0, 0, NaN, 0, 0) })).toThrow(
      /batch\.theta row 1 \(b\) is NaN/,
    );
    expect(() => p.simulations.append(set.id, { ...ok, spikeCounts: Int32Array.of(1, 0, 0) })).toThrow(
      /spikeTimes has 0 entries but spikeCounts sum to 1/,
    );
    expect(() => p.simulations.append(99, ok)).toThrow(NotFoundError);
    expect(p.simulations.get(set.id).rows).toBe(0);
    expect(p.simulations.batches(set.id)).toEqual([]);
    p.close();
  });

  it('chains the set hash over its batches', () => {
    const p = fresh();
    const mk = () =>
      p.simulations.create({
        name: 's',
        source: 'emulator',
        paramNames: ['t', 'a', 'b', 'c'],
        samplesPerTrace: 10,
        sampleRate: 1e6,
      });
    const a = mk();
    const b = mk();
    expect(a.contentHash).toBe(b.contentHash);
    p.simulations.append(a.id, patternBatch(0, 5, 4, 10));
    p.simulations.append(b.id, patternBatch(1, 5, 4, 10));
    expect(p.simulations.get(a.id).contentHash).not.toBe(p.simulations.get(b.id).contentHash);
    p.close();
  });
});

describe('observations, models and results', () => {
  it('stores observations in codes or volts with their true parameters', () => {
    const p = fresh();
    const codes = p.observations.create({
      name: 'cell 3',
      source: 'recorded',
      sampleRate: 29.4e6,
      traces: 2,
      samples: 3,
      data: Int16Array.of(1, 2, 3, 4, 5, 6),
      circuitId: 17,
    });
    const volts = p.observations.create({
      name: 'sim',
      source: 'simulated',
      sampleRate: 1e6,
      traces: 1,
      samples: 2,
      data: Float32Array.of(-0.07, -0.05),
      trueTheta: Float32Array.of(1, 2),
      paramNames: ['a', 'b'],
    });
    expect(p.observations.get(codes.id)).toMatchObject({
      unit: 'codes',
      circuitId: 17,
      data: Int16Array.of(1, 2, 3, 4, 5, 6),
      trueTheta: null,
    });
    expect(p.observations.get(volts.id)).toMatchObject({
      unit: 'volts',
      data: Float32Array.of(-0.07, -0.05),
      trueTheta: Float32Array.of(1, 2),
    });
    expect(p.observations.list().map((o) => o.name)).toEqual(['cell 3', 'sim']);
    expect(() =>
      p.observations.create({
        name: 'x',
        source: 'recorded',
        sampleRate: 1,
        traces: 2,
        samples: 3,
        data: new Int16Array(5),
      }),
    ).toThrow(/has 5 values, expected 2 traces x 3 samples/);
    p.close();
  });

  it('keeps several named graphs per estimator and rehashes when a graph changes', () => {
    const p = fresh();
    const c = p.classifiers.create({
      name: 'valid traces',
      config: { hidden: 64 },
      onnx: Uint8Array.of(1, 2, 3),
      threshold: 0.5,
      stats: { acceptance: 0.7 },
    });
    const e = p.estimators.create({
      name: 'npe',
      classifierId: c.id,
      config: { flow: 'nsf' },
      summaryType: 'learned',
      graphs: { embedding: Uint8Array.of(9), flow: Uint8Array.of(7, 7) },
    });
    expect(e.graphNames).toEqual(['embedding', 'flow']);
    expect(e.status).toBe('created');
    const h0 = e.contentHash;
    p.estimators.update(e.id, { status: 'training', history: [{ epoch: 1, loss: 3.2 }] });
    expect(p.estimators.get(e.id).contentHash).toBe(h0);
    p.estimators.putGraph(e.id, 'sampler', Uint8Array.of(5));
    const e2 = p.estimators.get(e.id);
    expect(e2.graphNames).toEqual(['embedding', 'flow', 'sampler']);
    expect(e2.contentHash).not.toBe(h0);
    expect(e2.history).toEqual([{ epoch: 1, loss: 3.2 }]);
    expect(Array.from(p.estimators.graph(e.id, 'flow'))).toEqual([7, 7]);
    expect(() => p.estimators.graph(e.id, 'nope')).toThrow(
      /has no graph named 'nope' \(it has: embedding, flow, sampler\)/,
    );
    expect(() => p.estimators.update(e.id, { status: 'done' as never })).toThrow(/status must be one of/);
    expect(p.classifiers.get(c.id)).toMatchObject({
      threshold: 0.5,
      stats: { acceptance: 0.7 },
      onnx: Uint8Array.of(1, 2, 3),
    });
    p.close();
  });

  it('stores posteriors, artifacts and reports linked to their sources, cascading on delete', () => {
    const p = fresh();
    const o = p.observations.create({
      name: 'o',
      source: 'recorded',
      sampleRate: 1e6,
      traces: 1,
      samples: 2,
      data: Int16Array.of(1, 2),
    });
    const e = p.estimators.create({ name: 'npe', config: {}, summaryType: 'handcrafted', status: 'trained' });
    const post = p.posteriors.create({
      estimatorId: e.id,
      observationId: o.id,
      paramNames: ['a', 'b'],
      samples: Float32Array.of(1, 2, 3, 4, 5, 6),
      diagnostics: { ess: 3 },
    });
    expect(post).toMatchObject({ nSamples: 3, paramNames: ['a', 'b'], diagnostics: { ess: 3 } });
    expect(() =>
      p.posteriors.create({
        estimatorId: 99,
        observationId: o.id,
        paramNames: ['a'],
        samples: Float32Array.of(1),
      }),
    ).toThrow(/estimator 99 .* does not exist/);
    const art = p.artifacts.create({
      kind: 'coverage',
      json: { levels: [0.5, 0.9], empirical: [0.49, 0.91] },
      bytes: Uint8Array.of(1),
      estimatorId: e.id,
      posteriorId: post.id,
    });
    p.artifacts.create({ kind: 'chip-map', json: { circuits: 512 } });
    expect(p.artifacts.list({ kind: 'coverage' }).map((a) => a.id)).toEqual([art.id]);
    expect(p.artifacts.list({ estimatorId: e.id })[0]).toMatchObject({
      json: { levels: [0.5, 0.9] },
      bytes: Uint8Array.of(1),
    });
    const rep = p.reports.create({
      title: 'Cell 3',
      html: '<h1>Cell 3</h1>',
      links: { posteriorId: post.id },
    });
    expect(p.reports.get(rep.id).html).toBe('<h1>Cell 3</h1>');
    expect(p.posteriors.list({ observationId: o.id }).map((x) => x.id)).toEqual([post.id]);

    const ov = p.overview();
    expect(ov.counts).toMatchObject({
      observations: 1,
      estimators: 1,
      posteriors: 1,
      artifacts: 2,
      reports: 1,
    });
    expect(ov.dataBytes.posteriors).toBe(24);

    p.estimators.delete(e.id);
    expect(p.posteriors.list()).toEqual([]);
    expect(p.artifacts.list().map((a) => a.kind)).toEqual(['chip-map']);
    p.close();
  });

  it('copies an open project with the backup API into a file that opens with the same content', async () => {
    const path = tempProjectPath();
    const p = openProject(path, { create: true });
    const set = p.simulations.create({
      name: 's',
      source: 'emulator',
      paramNames: ['t', 'a', 'b', 'c'],
      samplesPerTrace: 100,
      sampleRate: 1e6,
    });
    p.simulations.append(set.id, patternBatch(5, 300, 4, 100));
    const copy = path.replace(/\.adexproj$/, '-copy.adexproj');
    await p.backup(copy);
    p.simulations.append(set.id, patternBatch(6, 10, 4, 100)); // still writable after the backup
    p.close();
    const c = openProject(copy, { readonly: true });
    expect(c.simulations.get(set.id).rows).toBe(300);
    expect(c.simulations.readRows(set.id, 0, 300).codes).toEqual(patternBatch(5, 300, 4, 100).codes);
    expect(c.integrityCheck()).toBe('ok');
    c.close();
    expect(existsSync(`${copy}.lock`)).toBe(false);
  });
});

describe('compaction', () => {
  it('shrinks the file after a large set is deleted, keeping the rest', () => {
    const path = tempProjectPath();
    const p = openProject(path, { create: true });
    const keep = p.observations.create({
      name: 'o',
      source: 'recorded',
      sampleRate: 1,
      traces: 1,
      samples: 2,
      data: Int16Array.of(7, 8),
    });
    const set = p.simulations.create({
      name: 's',
      source: 'emulator',
      paramNames: ['t', 'a', 'b', 'c'],
      samplesPerTrace: 1000,
      sampleRate: 1e6,
    });
    p.simulations.append(set.id, patternBatch(1, 2000, 4, 1000));
    p.simulations.delete(set.id);
    const before = p.overview();
    p.compact();
    const after = p.overview();
    expect(after.fileBytes + after.walBytes).toBeLessThan((before.fileBytes + before.walBytes) / 4);
    expect(p.observations.get(keep.id).data).toEqual(Int16Array.of(7, 8));
    expect(p.integrityCheck()).toBe('ok');
    p.close();
  });
});
