import { describe, expect, it } from 'vitest';
import { createChip, createEmulator } from '../../main/emulator/index.ts';
import { defaultRequest, priorDraws } from './helpers.ts';

const emu = createEmulator({ kernel: 'typescript' });
const same = (a: Int16Array, b: Int16Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe('reproducibility and variability', () => {
  it('gives the same output for the same seed and different noise for another seed', async () => {
    const req = defaultRequest(priorDraws(20));
    const a = await emu.simulate(req);
    const b = await emu.simulate(req);
    const c = await emu.simulate({ ...req, seed: 43 });
    expect(same(a.codes, b.codes)).toBe(true);
    expect(Array.from(a.spikeTimes)).toEqual(Array.from(b.spikeTimes));
    expect(same(a.codes, c.codes)).toBe(false);
  });

  it('gives the same rows whatever the batch split (rowOffset keys the noise)', async () => {
    const theta = priorDraws(30);
    const whole = await emu.simulate(defaultRequest(theta));
    const part = await emu.simulate(defaultRequest(theta.slice(12 * 7, 20 * 7), { rowOffset: 12 }));
    expect(same(part.codes, whole.codes.subarray(12 * whole.samples, 20 * whole.samples))).toBe(true);
    expect(Array.from(part.spikeCounts)).toEqual(Array.from(whole.spikeCounts.subarray(12, 20)));
  });

  it.each(['typescript', 'native'] as const)(
    'writes into a caller buffer reused across batches (%s kernel), refusing one of the wrong type or size',
    async (kernel) => {
      const backend = createEmulator({ kernel, threads: 2 });
      const theta = priorDraws(12);
      const whole = await backend.simulate(defaultRequest(theta));
      const S = whole.samples;
      const buffer = new Int16Array(8 * S + 5).fill(-7);
      const first = await backend.simulate(defaultRequest(theta.slice(0, 8 * 7)), { codes: buffer });
      expect(first.codes.buffer).toBe(buffer.buffer);
      expect(first.codes.length).toBe(8 * S);
      expect(same(first.codes, whole.codes.subarray(0, 8 * S))).toBe(true);
      expect(buffer[8 * S]).toBe(-7); // nothing written past the batch
      const second = await backend.simulate(defaultRequest(theta.slice(8 * 7), { rowOffset: 8 }), {
        codes: buffer,
      });
      expect(second.codes.buffer).toBe(buffer.buffer);
      expect(same(second.codes, whole.codes.subarray(8 * S))).toBe(true);
      await expect(backend.simulate(defaultRequest(theta), { codes: buffer })).rejects.toThrow(
        `options.codes holds ${8 * S + 5} values, but 12 rows of ${S} samples need ${12 * S}`,
      );
      await expect(
        backend.simulate(defaultRequest(theta), { codes: new Float32Array(12 * S) as unknown as Int16Array }),
      ).rejects.toThrow('options.codes must be an Int16Array, got [object Float32Array]');
    },
  );

  it('is deterministic in ideal mode: no noise, no mismatch, seeds and circuits do not matter', async () => {
    const theta = priorDraws(10);
    const a = await emu.simulate(defaultRequest(theta, { mode: 'ideal', seed: 1, chipSeed: 1 }));
    const b = await emu.simulate(
      defaultRequest(theta, { mode: 'ideal', seed: 2, chipSeed: 2, circuits: new Int32Array(10).fill(300) }),
    );
    expect(same(a.codes, b.codes)).toBe(true);
    // Flat baseline before the stimulus: exactly one code value per row in ideal mode.
    const base = new Set(Array.from(a.codes.subarray(0, 90)));
    expect(base.size).toBe(1);
  });

  it('makes different circuits of one chip behave differently for the same configuration', async () => {
    const theta = priorDraws(1, 'capmem', 4);
    const rows = new Float32Array(8 * 7);
    for (let i = 0; i < 8; i++) rows.set(theta, i * 7);
    const circuits = new Int32Array([0, 1, 2, 3, 100, 200, 300, 511]);
    const res = await emu.simulate(defaultRequest(rows, { space: 'capmem', circuits, seed: 5 }));
    const firstSpikes = Array.from(res.spikeOffsets.subarray(0, 8)).map((o, i) =>
      res.spikeCounts[i] > 0 ? res.spikeTimes[o] : -1,
    );
    expect(new Set(firstSpikes).size).toBeGreaterThan(4);
    // ...and the same circuit on another chip differs too.
    const chipA = createChip(7);
    const chipB = createChip(8);
    expect(chipA.capmemToModel('v_t', 3, 650)).not.toBe(chipB.capmemToModel('v_t', 3, 650));
    expect(createChip(7).gain('a', 17)).toBe(chipA.gain('a', 17));
  });

  it('adds hardware noise: traces vary across seeds with about the stated readout noise', async () => {
    const theta = new Float32Array([20, -60, -50, 2, 0, 0, 100]);
    const req = defaultRequest(theta, { stimulus: { kind: 'step', onset: 0, duration: 0, amplitude: 0 } });
    const res = await emu.simulate(req);
    const x = Array.from(res.codes);
    const m = x.reduce((s, v) => s + v, 0) / x.length;
    const sd = Math.sqrt(x.reduce((s, v) => s + (v - m) ** 2, 0) / x.length);
    // Readout (3 LSB) and membrane (0.25 mV = 2.4 LSB) noise: sqrt(9 + 5.76) ≈ 3.8 LSB.
    expect(sd).toBeGreaterThan(3.2);
    expect(sd).toBeLessThan(4.5);
  });

  it('separates membrane noise (0.25 mV, correlated over tau_mem) from readout noise (3 LSB, white)', async () => {
    // 256 neurons at rest, tau_mem = 5 us (25 MADC samples); the first 100 samples (20 us) let the
    // membrane noise reach its stationary spread.
    const n = 256;
    const theta = new Float32Array(n * 7);
    for (let i = 0; i < n; i++) theta.set([5, -60, -50, 2, 0, 0, 100], i * 7);
    const res = await emu.simulate(
      defaultRequest(theta, { stimulus: { kind: 'step', onset: 0, duration: 0, amplitude: 0 } }),
    );
    const samples = res.codes.length / n;
    let variance = 0;
    let lag1 = 0;
    for (let i = 0; i < n; i++) {
      const x = Array.from(res.codes.subarray(i * samples + 100, (i + 1) * samples), Number);
      const mean = x.reduce((s, v) => s + v, 0) / x.length;
      const d = x.map((v) => v - mean);
      variance += d.reduce((s, v) => s + v * v, 0) / d.length / n;
      let c = 0;
      for (let j = 1; j < d.length; j++) c += d[j] * d[j - 1];
      lag1 += c / (d.length - 1) / n;
    }
    // Membrane: (0.25 mV * 9.6 LSB/mV)^2 = 5.76 LSB^2, times exp(-0.2 us / 5 us) at lag 1, less the
    // ~5 % a per-trace mean of 36 time constants takes off: about 5.2.
    expect(lag1).toBeGreaterThan(4.7);
    expect(lag1).toBeLessThan(5.7);
    // What lag 1 leaves: readout 9 LSB^2, quantization 1/12 and 4 % of the membrane part, about 9.3.
    expect(variance - lag1).toBeGreaterThan(8.8);
    expect(variance - lag1).toBeLessThan(9.8);
  });
});
