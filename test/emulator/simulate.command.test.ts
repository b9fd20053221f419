import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliIO } from '../../main/cli/command.ts';
import { parseCommandArgs } from '../../main/cli/parse.ts';
import { readNpyFile, writeNpyFile } from '../../main/io/npy.ts';
import { simulateCommand } from '../../main/emulator/simulate.command.ts';
import { createEmulator, DEFAULT_EXPERIMENT, INFERRED_PARAMETERS } from '../../main/emulator/index.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'adexwb-sim-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function makeIO(signal = new AbortController().signal) {
  const lines: string[] = [];
  const results: unknown[] = [];
  const io: CliIO = {
    json: true,
    signal,
    result: (v) => results.push(v),
    info: (l) => lines.push(l),
    warn: (l) => lines.push(`warning: ${l}`),
  };
  return { io, lines, results };
}

const run = (argv: string[], io: CliIO) => simulateCommand.run(parseCommandArgs(simulateCommand, argv), io);

describe('adexwb simulate', () => {
  it('writes theta.npy, x.npy and simulation.json that reproduce the backend output', async () => {
    const out = path.join(dir, 'sim');
    const { io, lines } = makeIO();
    expect(
      await run(['--n', '12', '--seed', '5', '--out', out, '--kernel', 'typescript', '--chip-seed', '3'], io),
    ).toBe(0);
    expect(readdirSync(dir)).toEqual(['sim']); // no temporary directory left behind
    const theta = readNpyFile(path.join(out, 'theta.npy'));
    const x = readNpyFile(path.join(out, 'x.npy'));
    expect(theta.shape).toEqual([12, 7]);
    expect(x.dtype).toBe('int16');
    expect(x.shape).toEqual([12, DEFAULT_EXPERIMENT.samples]);
    const summary = JSON.parse(readFileSync(path.join(out, 'simulation.json'), 'utf8'));
    expect(summary.config.seed).toBe(5);
    expect(summary.config.chipSeed).toBe(3);
    expect(lines.some((l) => l.startsWith('simulated 12/12 rows'))).toBe(true);
    // Prior draws lie in the documented box.
    const th = theta.data as Float32Array;
    INFERRED_PARAMETERS.forEach((p, j) => {
      for (let i = 0; i < 12; i++) {
        expect(th[i * 7 + j]).toBeGreaterThanOrEqual(p.modelRange[0]);
        expect(th[i * 7 + j]).toBeLessThanOrEqual(p.modelRange[1]);
      }
    });
    // Re-simulating theta with the recorded configuration gives the same traces and spike counts.
    const { circuit: _c, parameters: _p, ...req } = summary.config;
    const again = await createEmulator({ kernel: 'typescript' }).simulate({ ...req, theta: th });
    expect(Array.from(again.codes)).toEqual(Array.from(x.data as Int16Array));
    expect(Array.from(again.spikeCounts)).toEqual(summary.spikeCounts);
  });

  it('simulates rows from --params', async () => {
    const file = path.join(dir, 'p.npy');
    const rows = new Float64Array([20, -60, -50, 2, 1, 10, 100, 10, -65, -52, 1, 0, 0, 50]);
    writeNpyFile(file, { dtype: 'float64', shape: [2, 7], data: rows });
    const out = path.join(dir, 'o');
    expect(
      await run(
        ['--params', file, '--seed', '1', '--mode', 'ideal', '--out', out, '--kernel', 'typescript'],
        makeIO().io,
      ),
    ).toBe(0);
    expect(Array.from(readNpyFile(path.join(out, 'theta.npy')).data as Float32Array)).toEqual(
      Array.from(new Float32Array(rows)),
    );
  });

  it('rejects bad input with a clear message and leaves no files', async () => {
    const bad = path.join(dir, 'bad.npy');
    writeNpyFile(bad, {
      dtype: 'float32',
      shape: [1, 7],
      data: new Float32Array([20, -60, -50, NaN, 1, 10, 100]),
    });
    const out = path.join(dir, 'o');
    await expect(
      run(['--params', bad, '--seed', '1', '--out', out, '--kernel', 'typescript'], makeIO().io),
    ).rejects.toThrow("row 0: parameter 'delta_t' is not finite (NaN)");
    const wrong = path.join(dir, 'wrong.npy');
    writeNpyFile(wrong, { dtype: 'float32', shape: [2, 3], data: new Float32Array(6) });
    await expect(run(['--params', wrong, '--seed', '1', '--out', out], makeIO().io)).rejects.toThrow(
      'expected shape [n, 7]',
    );
    await expect(run(['--seed', '1', '--out', out], makeIO().io)).rejects.toThrow('missing --n');
    await expect(
      run(['--n', '5', '--seed', '1', '--circuit', '600', '--out', out], makeIO().io),
    ).rejects.toThrow('--circuit must be in 0..511');
    mkdirSync(path.join(dir, 'full'));
    writeFileSync(path.join(dir, 'full', 'keep.txt'), 'x');
    await expect(
      run(['--n', '5', '--seed', '1', '--out', path.join(dir, 'full')], makeIO().io),
    ).rejects.toThrow('exists and is not empty');
    expect(readdirSync(dir).sort()).toEqual(['bad.npy', 'full', 'wrong.npy']);
  });

  it('cancels on Ctrl-C without leaving output', async () => {
    const ctl = new AbortController();
    const { io } = makeIO(ctl.signal);
    ctl.abort(new Error('cancelled by the user'));
    const out = path.join(dir, 'c');
    expect(await run(['--n', '50', '--seed', '1', '--out', out, '--kernel', 'typescript'], io)).toBe(130);
    expect(readdirSync(dir)).toEqual([]);
  });
});
