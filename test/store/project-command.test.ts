import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../main/cli/main.ts';
import { writeNpyFile, readNpyFile } from '../../main/io/npy.ts';
import { openProject } from '../../main/store/index.ts';
import { fileHash, tempDir } from './helpers.ts';

/** Run the CLI in-process, capturing stdout and stderr. */
async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    return { code: await main(argv), out, err };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
}

describe('adexwb project', () => {
  it('creates, imports into, describes, exports and backs up a project', async () => {
    const dir = tempDir();
    const file = join(dir, 'lab.adexproj');
    expect((await run('project', 'new', file, '--name', 'Lab A')).code).toBe(0);
    expect((await run('project', 'new', file)).code).toBe(2);

    writeNpyFile(join(dir, 'theta.npy'), {
      dtype: 'float32',
      shape: [5, 2],
      data: Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
    });
    writeNpyFile(join(dir, 'x.npy'), {
      dtype: 'int16',
      shape: [5, 3],
      data: Int16Array.from({ length: 15 }, (_, i) => i),
    });
    writeNpyFile(join(dir, 'rec.npy'), {
      dtype: 'int16',
      shape: [4],
      data: Int16Array.of(500, 501, 502, 503),
    });
    const sims = await run(
      'project',
      'import',
      file,
      '--simulations',
      join(dir, 'theta.npy'),
      join(dir, 'x.npy'),
      '--sample-rate',
      '29.4e6',
      '--param-names',
      'a,b',
      '--json',
    );
    expect(sims.code).toBe(0);
    expect(JSON.parse(sims.out)).toMatchObject({
      kind: 'simulationSet',
      id: 1,
      rows: 5,
      paramNames: ['a', 'b'],
    });
    const obs = await run(
      'project',
      'import',
      file,
      '--observations',
      join(dir, 'rec.npy'),
      '--sample-rate',
      '1e6',
      '--json',
    );
    expect(JSON.parse(obs.out)).toMatchObject({
      kind: 'observation',
      id: 1,
      traces: 1,
      samples: 4,
      unit: 'codes',
    });

    const info = await run('project', 'info', file, '--json');
    expect(JSON.parse(info.out)).toMatchObject({
      name: 'Lab A',
      counts: { simulationSets: 1, simulatedTraces: 5, observations: 1 },
    });
    expect((await run('project', 'info', file)).out).toMatch(
      /#1 theta \(imported\): 5 traces x 3 samples, 2 parameters/,
    );

    expect(
      (
        await run(
          'project',
          'export',
          file,
          '--what',
          'observation',
          '--id',
          '1',
          '--out',
          join(dir, 'o.npy'),
        )
      ).code,
    ).toBe(0);
    expect(readNpyFile(join(dir, 'o.npy')).data).toEqual(Int16Array.of(500, 501, 502, 503));

    const copy = join(dir, 'copy.adexproj');
    expect((await run('project', 'backup', file, '--out', copy)).code).toBe(0);
    const c = openProject(copy, { readonly: true });
    expect(c.simulations.get(1).rows).toBe(5);
    c.close();
  });

  it('fails with one clear line and no output file on bad input', async () => {
    const dir = tempDir();
    const file = join(dir, 'lab.adexproj');
    writeFileSync(file, 'just text');
    const before = fileHash(file);
    const r = await run('project', 'info', file);
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      `adexwb project info: ${file}: not a workbench project (not an SQLite database file)\n`,
    );
    expect(fileHash(file)).toBe(before);

    const good = join(dir, 'good.adexproj');
    await run('project', 'new', good);
    const missing = await run(
      'project',
      'export',
      good,
      '--what',
      'posterior',
      '--id',
      '3',
      '--out',
      join(dir, 'p.npy'),
    );
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/no posterior with id 3/);
    expect(existsSync(join(dir, 'p.npy'))).toBe(false);
    expect(
      (
        await run(
          'project',
          'import',
          good,
          '--simulations',
          join(dir, 'nope.npy'),
          join(dir, 'x.npy'),
          '--sample-rate',
          '1',
        )
      ).err,
    ).toMatch(/no such file: .*nope\.npy/);
    expect((await run('project', 'import', good)).err).toMatch(/exactly one of --observations/);
  });
});

describe('--project option', () => {
  it('opens the named project for the command and closes it, also when the command fails', async () => {
    const { withProjectOption } = await import('../../main/store/index.ts');
    const file = join(tempDir(), 'p.adexproj');
    expect(await withProjectOption({}, (p) => p)).toBeUndefined();
    const id = await withProjectOption(
      { project: file },
      async (p) =>
        p!.observations.create({
          name: 'o',
          source: 'simulated',
          sampleRate: 1,
          traces: 1,
          samples: 1,
          data: Int16Array.of(1),
        }).id,
    );
    await expect(
      withProjectOption({ project: file }, () => Promise.reject(new Error('boom'))),
    ).rejects.toThrow('boom');
    expect(existsSync(`${file}.lock`)).toBe(false);
    const p = openProject(file, { readonly: true });
    expect(p.observations.get(id).name).toBe('o');
    p.close();
  });
});
