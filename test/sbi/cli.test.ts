import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../main/cli/main.ts';
import { readNpyFile, writeNpyFile } from '../../main/io/npy.ts';
import { readContractModel } from '../../main/sbi/contract.ts';
import { getTask } from '../../main/sbi/tasks.ts';
import { Rng } from '../../main/sbi/rng.ts';

const dir = mkdtempSync(join(tmpdir(), 'adexwb-sbi-cli-'));
const f = (name: string) => join(dir, name);
let stderr = '';

beforeAll(() => {
  const task = getTask('two_moons');
  const r = new Rng(0);
  const theta = task.samplePrior(600, r);
  const x = task.simulate(theta, r);
  x[2 * 17] = NaN;
  writeNpyFile(f('theta.npy'), { dtype: 'float32', shape: [600, 2], data: theta });
  writeNpyFile(f('x.npy'), { dtype: 'float32', shape: [600, 2], data: x });
  writeNpyFile(f('x-short.npy'), { dtype: 'float32', shape: [599, 2], data: x.slice(0, 1198) });
  writeNpyFile(f('obs.npy'), { dtype: 'float32', shape: [3, 2], data: x.slice(40, 46) });
  writeNpyFile(f('obs-wide.npy'), { dtype: 'float32', shape: [1, 3], data: new Float32Array(3) });
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
});
afterAll(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

describe('adexwb train / sample / logprob', () => {
  it('trains, samples inside the prior bounds and evaluates log-densities', async () => {
    const code = await main([
      'train',
      '--theta',
      f('theta.npy'),
      '--x',
      f('x.npy'),
      '--estimator',
      'maf',
      '--out',
      f('est'),
      '--epochs',
      '2',
      '--low=-1,-1',
      '--high',
      '1,1',
      '--names',
      'a,b',
      '--warmup',
      '0.5',
    ]);
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/1 rows with NaN or inf were excluded \(e\.g\. rows 17\)/);
    expect(readdirSync(f('est')).sort()).toEqual(['log_prob.onnx', 'sampler.onnx']);
    const meta = readContractModel(readFileSync(f('est/sampler.onnx')), 'est', 'sampler').meta;
    expect(meta.training.warmupEpochs).toBe(0.5);
    expect(
      await main(['sample', '--estimator', f('est'), '--x', f('obs.npy'), '--n', '200', '--out', f('s.npy')]),
    ).toBe(0);
    const s = readNpyFile(f('s.npy'));
    expect(s.shape).toEqual([3, 200, 2]);
    expect(Array.from(s.data as Float32Array).every((v) => v >= -1 && v <= 1)).toBe(true);
    expect(
      await main([
        'logprob',
        '--estimator',
        f('est'),
        '--theta',
        f('s.npy'),
        '--x',
        f('obs.npy'),
        '--out',
        f('lp.npy'),
      ]),
    ).toBe(0);
    const lp = readNpyFile(f('lp.npy'));
    expect(lp.shape).toEqual([3, 200]);
    expect(Array.from(lp.data as Float32Array).every(Number.isFinite)).toBe(true);
  });

  it('exits 2 and writes nothing for bad input', async () => {
    stderr = '';
    expect(
      await main(['train', '--theta', f('theta.npy'), '--x', f('x-short.npy'), '--out', f('never')]),
    ).toBe(2);
    expect(stderr).toMatch(/600 rows but --x has 599/);
    expect(existsSync(f('never'))).toBe(false);
    // A valid train command up to the flags under test.
    const train = (...flags: string[]) =>
      main(['train', '--theta', f('theta.npy'), '--x', f('x.npy'), '--out', f('never'), ...flags]);
    expect(await train('--low', '0,0')).toBe(2);
    expect(stderr).toMatch(/give both --low and --high/);
    expect(await train('--schedule', 'cosine')).toBe(2);
    expect(stderr).toMatch(/--schedule cosine needs --epochs N/);
    expect(await train('--warmup=-1')).toBe(2);
    expect(stderr).toMatch(/--warmup must be a number of epochs >= 0, got -1/);
    expect(
      await main(['sample', '--estimator', f('nowhere'), '--x', f('obs.npy'), '--out', f('never.npy')]),
    ).toBe(2);
    expect(stderr).toMatch(/cannot read .*nowhere/);
    expect(
      await main(['sample', '--estimator', f('est'), '--x', f('obs-wide.npy'), '--out', f('never.npy')]),
    ).toBe(2);
    expect(stderr).toMatch(/3 columns but the estimator expects 2/);
    expect(existsSync(f('never.npy'))).toBe(false);
    expect(await main(['validate', '--task', 'two_moons', '--sims', '100', '--reference', f('no-ref')])).toBe(
      2,
    );
    expect(stderr).toMatch(/reference observation not found/);
    expect(await main(['validate', '--task', 'two_moons', '--sims', '100', '--warmup=-0.5'])).toBe(2);
    expect(stderr).toMatch(/adexwb validate: --warmup must be a number of epochs >= 0, got -0.5/);
  });
});
