import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openProject } from '../../main/store/index.ts';
import { writeNpyFile } from '../../main/io/npy.ts';

const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'adexwb.js');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('adexwb simulate --project', () => {
  it('writes the simulated set into the project as well as the .npy files', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'adexwb-simproj-'));
    dirs.push(dir);
    const file = path.join(dir, 'p.adexproj');
    const r = spawnSync(
      process.execPath,
      [bin, 'simulate', '--n', '250', '--seed', '4', '--out', path.join(dir, 'out'), '--project', file],
      {
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(path.join(dir, 'out', 'x.npy'))).toBe(true);
    const p = openProject(file, { readonly: true });
    try {
      const sets = p.simulations.list();
      expect(sets).toHaveLength(1);
      expect(sets[0].rows).toBe(250);
      expect(sets[0].paramNames).toEqual(['tau_mem', 'v_reset', 'v_t', 'delta_t', 'a', 'b', 'tau_w']);
      expect(p.experiments.list()[0].backend).toMatchObject({ kind: 'emulator', mode: 'hardware' });
    } finally {
      p.close();
    }
  });

  it('leaves the project without a set when the input is bad', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'adexwb-simproj-'));
    dirs.push(dir);
    const file = path.join(dir, 'p.adexproj');
    const r = spawnSync(
      process.execPath,
      [
        bin,
        'simulate',
        '--params',
        path.join(dir, 'missing.npy'),
        '--out',
        path.join(dir, 'out'),
        '--project',
        file,
      ],
      {
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    if (existsSync(file)) {
      const p = openProject(file, { readonly: true });
      try {
        expect(p.simulations.list()).toHaveLength(0);
      } finally {
        p.close();
      }
    }
  });
});

describe('adexwb train and sample --project', () => {
  it('stores the trained estimator (both ONNX graphs, history) and the drawn samples in the project', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'adexwb-trainproj-'));
    dirs.push(dir);
    const n = 400;
    const theta = new Float32Array(n * 2);
    const x = new Float32Array(n * 2);
    for (let i = 0; i < n * 2; i++) {
      theta[i] = Math.sin(i * 12.9898) * 0.5;
      x[i] = theta[i] + 0.1 * Math.cos(i * 78.233);
    }
    writeNpyFile(path.join(dir, 'theta.npy'), { dtype: 'float32', shape: [n, 2], data: theta });
    writeNpyFile(path.join(dir, 'x.npy'), { dtype: 'float32', shape: [n, 2], data: x });
    const file = path.join(dir, 'p.adexproj');
    const r = spawnSync(
      process.execPath,
      [
        bin,
        'train',
        '--theta',
        path.join(dir, 'theta.npy'),
        '--x',
        path.join(dir, 'x.npy'),
        '--estimator',
        'mdn',
        '--epochs',
        '2',
        '--out',
        path.join(dir, 'est'),
        '--project',
        file,
        '--json',
      ],
      { encoding: 'utf8', timeout: 180_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { estimatorId: number };
    writeNpyFile(path.join(dir, 'obs.npy'), {
      dtype: 'float32',
      shape: [2],
      data: Float32Array.of(0.2, -0.1),
    });
    const s = spawnSync(
      process.execPath,
      [
        bin,
        'sample',
        '--estimator',
        path.join(dir, 'est'),
        '--x',
        path.join(dir, 'obs.npy'),
        '--n',
        '50',
        '--out',
        path.join(dir, 's.npy'),
        '--project',
        file,
        '--json',
      ],
      { encoding: 'utf8', timeout: 180_000 },
    );
    expect(s.status, s.stderr).toBe(0);
    const sampled = JSON.parse(s.stdout) as { artifactId: number };
    const p = openProject(file, { readonly: true });
    try {
      const e = p.estimators.get(result.estimatorId);
      expect(e.status).toBe('trained');
      expect(e.graphNames.sort()).toEqual(['log_prob.onnx', 'sampler.onnx']);
      expect((e.history[0] as unknown[]).length).toBe(2);
      const a = p.artifacts.get(sampled.artifactId);
      expect(a.kind).toBe('posterior-samples');
      expect(a.bytes!.byteLength).toBe(50 * 2 * 4);
    } finally {
      p.close();
    }
  });
});
