// The native kernel is built in CI: these tests fail (not skip) when the addon is missing.
import { describe, expect, it } from 'vitest';
import { createEmulator } from '../../main/emulator/index.ts';
import { loadNative } from '../../main/emulator/native.ts';
import { defaultRequest, priorDraws } from './helpers.ts';
import { PATTERN_COLUMNS, PATTERNS } from './patterns.ts';

describe('native kernel', () => {
  it('is built and loads', () => {
    const { addon, error } = loadNative();
    expect(error).toBeUndefined();
    expect(addon).toBeDefined();
    expect(['avx2', 'generic']).toContain(addon!.isa());
    expect(createEmulator({ kernel: 'native' }).info().details.kernel).toBe('native');
  });

  it.each(['ideal', 'hardware'] as const)(
    'agrees with the TypeScript kernel bit for bit in %s mode',
    async (mode) => {
      const theta = priorDraws(300, 'model', 5);
      const req = defaultRequest(theta, { mode });
      const ts = await createEmulator({ kernel: 'typescript' }).simulate(req);
      const nat = await createEmulator({ kernel: 'native', threads: 2 }).simulate(req);
      expect(nat.spikeCounts.reduce((a, b) => a + b, 0)).toBeGreaterThan(300); // the draws do spike
      expect(Array.from(nat.spikeCounts)).toEqual(Array.from(ts.spikeCounts));
      expect(Array.from(nat.spikeOffsets)).toEqual(Array.from(ts.spikeOffsets));
      expect(Buffer.from(nat.spikeTimes.buffer).equals(Buffer.from(ts.spikeTimes.buffer))).toBe(true);
      expect(Buffer.from(nat.codes.buffer).equals(Buffer.from(ts.codes.buffer))).toBe(true);
    },
  );

  it('agrees with the TypeScript kernel on the firing patterns, in CapMem space and with a piecewise stimulus', async () => {
    const rows = Object.values(PATTERNS);
    const theta = new Float32Array(
      rows.flatMap((p) => [p.c, p.c / p.gL, p.eL, p.vT, p.deltaT, p.a, p.tauW, p.b, p.vR]),
    );
    const req = {
      theta,
      paramNames: PATTERN_COLUMNS,
      space: 'model' as const,
      mode: 'ideal' as const,
      fixed: { v_spike: 0, t_ref: 0 },
      stimulus: {
        kind: 'piecewise' as const,
        segments: [
          { start: 0, amplitude: 300 },
          { start: 100, amplitude: 150 },
          { start: 250, amplitude: 0 },
        ],
      },
      duration: 300,
      dt: 0.02,
      seed: 0,
    };
    const ts = await createEmulator({ kernel: 'typescript' }).simulate(req);
    const nat = await createEmulator({ kernel: 'native', threads: 1 }).simulate(req);
    expect(Array.from(nat.spikeCounts)).toEqual(Array.from(ts.spikeCounts));
    expect(Array.from(nat.spikeTimes)).toEqual(Array.from(ts.spikeTimes));
    expect(Array.from(nat.codes)).toEqual(Array.from(ts.codes));

    const capReq = defaultRequest(priorDraws(100, 'capmem', 9), {
      space: 'capmem',
      circuits: new Int32Array(100).map((_, i) => (i * 37) % 512),
    });
    const a = await createEmulator({ kernel: 'typescript' }).simulate(capReq);
    const b = await createEmulator({ kernel: 'native' }).simulate(capReq);
    expect(Array.from(b.codes)).toEqual(Array.from(a.codes));
    expect(Array.from(b.spikeTimes)).toEqual(Array.from(a.spikeTimes));
  });

  it('gives the same output from the portable (non-AVX2) build', async () => {
    const req = defaultRequest(priorDraws(150, 'model', 8));
    const ts = await createEmulator({ kernel: 'typescript' }).simulate(req);
    const emu = createEmulator({ kernel: 'native', nativeIsa: 'generic' });
    expect(emu.info().details.isa).toBe('generic');
    const gen = await emu.simulate(req);
    expect(Buffer.from(gen.codes.buffer).equals(Buffer.from(ts.codes.buffer))).toBe(true);
    expect(Array.from(gen.spikeTimes)).toEqual(Array.from(ts.spikeTimes));
  });

  it('gives the same output whatever the thread count and batch split', async () => {
    const theta = priorDraws(1100, 'model', 3);
    const req = defaultRequest(theta);
    const one = await createEmulator({ kernel: 'native', threads: 1 }).simulate(req);
    const three = await createEmulator({ kernel: 'native', threads: 3, chunkRows: 250 }).simulate(req);
    expect(Buffer.from(three.codes.buffer).equals(Buffer.from(one.codes.buffer))).toBe(true);
    // Rows 700.. simulated on their own, with rowOffset keeping their noise streams.
    const tail = await createEmulator({ kernel: 'native', threads: 2 }).simulate({
      ...req,
      theta: theta.slice(700 * 7),
      rowOffset: 700,
    });
    expect(
      Buffer.from(tail.codes.buffer).equals(
        Buffer.from(one.codes.subarray(700 * one.samples).slice().buffer),
      ),
    ).toBe(true);
    expect(Array.from(tail.spikeCounts)).toEqual(Array.from(one.spikeCounts.subarray(700)));
  });
});
