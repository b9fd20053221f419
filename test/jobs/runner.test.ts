import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { threadId } from 'node:worker_threads';
import { JobRunner, JobError } from '../../main/jobs/runner.ts';
import type { JobStatus } from '../../main/jobs/types.ts';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'jobs.ts');

describe('JobRunner', () => {
  it('runs a job in a worker thread and reports progress with rate and ETA', async () => {
    const runner = new JobRunner();
    const seen: JobStatus[] = [];
    runner.on('status', (s: JobStatus) => seen.push(s));
    const { result } = runner.start<{ count: number; threadId: number }>({
      kind: 'test',
      label: 'primes',
      module: fixtures,
      export: 'countPrimes',
      params: { limit: 300_000 },
    });
    const out = await result;
    expect(out.count).toBe(25997); // pi(300000)
    expect(out.threadId).not.toBe(threadId);
    const running = seen.filter((s) => s.state === 'running' && s.done !== undefined);
    expect(running.length).toBeGreaterThan(0);
    expect(running.some((s) => (s.rate ?? 0) > 0 && s.eta !== undefined)).toBe(true);
    expect(seen.at(-1)!.state).toBe('done');
    expect(seen.at(-1)!.fraction).toBe(1);
  });

  it('propagates a job error with its message', async () => {
    const runner = new JobRunner();
    const { result, id } = runner.start({
      kind: 'test',
      label: 'fail',
      module: fixtures,
      export: 'failWith',
      params: { message: 'theta has NaN in row 7' },
    });
    await expect(result).rejects.toThrow('theta has NaN in row 7');
    expect(runner.get(id)!.state).toBe('failed');
  });

  it('cancels a cooperative job', async () => {
    const runner = new JobRunner();
    const { result, id } = runner.start({
      kind: 'test',
      label: 'primes',
      module: fixtures,
      export: 'countPrimes',
      params: { limit: 50_000_000 },
    });
    await new Promise<void>((resolve) =>
      runner.on('status', (s: JobStatus) => s.id === id && (s.done ?? 0) > 0 && resolve()),
    );
    expect(runner.cancel(id)).toBe(true);
    const err = await result.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobError);
    expect((err as JobError).cancelled).toBe(true);
    expect(runner.get(id)!.state).toBe('cancelled');
  });

  it('terminates a job that ignores cancellation', async () => {
    const runner = new JobRunner();
    const { result, id } = runner.start({
      kind: 'test',
      label: 'busy',
      module: fixtures,
      export: 'ignoreCancel',
      params: { ms: 60_000 },
    });
    await new Promise((r) => setTimeout(r, 1500));
    const t0 = Date.now();
    runner.cancel(id);
    const err = (await result.catch((e: unknown) => e)) as JobError;
    expect(err.cancelled).toBe(true);
    expect(Date.now() - t0).toBeLessThan(30_000);
  });

  it('shutdown lets a cooperative job stop by itself, even one inside onnxruntime runs', async () => {
    const runner = new JobRunner();
    const { result, id } = runner.start({
      kind: 'test',
      label: 'runs',
      module: fixtures,
      export: 'runSessionUntilCancelled',
      params: {},
    });
    await new Promise<void>((resolve) =>
      runner.on('status', (s: JobStatus) => s.id === id && (s.done ?? 0) >= 3 && resolve()),
    );
    // Stopping the worker at once would catch it inside a run and abort this process.
    await runner.shutdown();
    const err = (await result.catch((e: unknown) => e)) as JobError;
    expect(err.cancelled).toBe(true);
    expect(runner.get(id)!.state).toBe('cancelled');
  });

  it.each([
    ['onnxruntime runs in its own thread', 'runSessionsIgnoringCancel', { workers: 0 }],
    ['onnxruntime runs in its thread and two session workers', 'runSessionsIgnoringCancel', { workers: 2 }],
    ['native emulator kernel calls', 'simulateIgnoringCancel', {}],
  ])(
    'stops a job that ignores cancellation between its native calls: %s',
    async (_, exportName, params) => {
      const runner = new JobRunner();
      const { result, id } = runner.start({
        kind: 'test',
        label: 'native calls',
        module: fixtures,
        export: exportName,
        params,
      });
      await new Promise<void>((resolve) =>
        runner.on('status', (s: JobStatus) => s.id === id && (s.done ?? 0) >= 3 && resolve()),
      );
      // Stopping the thread when the grace period ends, inside a call, would abort this process.
      runner.cancel(id);
      const err = (await result.catch((e: unknown) => e)) as JobError;
      expect(err.cancelled).toBe(true);
      expect(runner.get(id)!.state).toBe('cancelled');
    },
    30_000,
  );

  it('returns typed arrays intact', async () => {
    const runner = new JobRunner();
    const { result } = runner.start<{ data: Float32Array }>({
      kind: 'test',
      label: 'arr',
      module: fixtures,
      export: 'makeArray',
      params: { n: 1000 },
    });
    const { data } = await result;
    expect(data).toBeInstanceOf(Float32Array);
    expect(data[999]).toBe(499.5);
  });

  it('reports a missing job function clearly', async () => {
    const runner = new JobRunner();
    const { result } = runner.start({
      kind: 'test',
      label: 'x',
      module: fixtures,
      export: 'nope',
      params: {},
    });
    await expect(result).rejects.toThrow("has no function 'nope'");
  });
});
