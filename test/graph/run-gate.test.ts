import { afterEach, describe, expect, it } from 'vitest';
import { closeRunGate, createRunGate, gated, runGateBuffer, useRunGate } from '../../main/graph/run-gate.mjs';

afterEach(() => useRunGate(null));

/** A call that ends when `end` is called. */
function pendingCall(): { call: () => Promise<number>; end: () => void } {
  let end!: () => void;
  const done = new Promise<number>((resolve) => (end = () => resolve(7)));
  return { call: () => done, end };
}

describe('run gate', () => {
  it('runs calls uncounted in a thread without a gate', async () => {
    expect(runGateBuffer()).toBeNull();
    expect(await gated(async () => 3)).toBe(3);
  });

  it('lets its thread be stopped only once the calls in progress have ended, and starts none after closing', async () => {
    const buffer = createRunGate();
    useRunGate(buffer);
    expect(runGateBuffer()).toBe(buffer);
    const a = pendingCall();
    const b = pendingCall();
    const first = gated(a.call);
    const second = gated(b.call);
    expect(closeRunGate(buffer)).toBe(false); // two calls in progress
    await expect(gated(async () => 1)).rejects.toThrow('the job is being stopped');
    a.end();
    expect(await first).toBe(7);
    expect(closeRunGate(buffer)).toBe(false); // one still in progress
    b.end();
    expect(await second).toBe(7);
    expect(closeRunGate(buffer)).toBe(true);
  });

  it('counts a call that fails until it has failed', async () => {
    const buffer = createRunGate();
    useRunGate(buffer);
    let fail!: (e: Error) => void;
    const call = gated(() => new Promise((_, reject) => (fail = reject)));
    expect(closeRunGate(buffer)).toBe(false);
    fail(new Error('onnxruntime refused the feed'));
    await expect(call).rejects.toThrow('onnxruntime refused the feed');
    expect(closeRunGate(buffer)).toBe(true);
  });
});
