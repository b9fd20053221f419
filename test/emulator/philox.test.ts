import { describe, expect, it } from 'vitest';
import { KICK_VARIANCE, membraneKick, philox4x32, readoutNormal } from '../../main/emulator/philox.ts';

describe('Philox4x32-10', () => {
  it('reproduces the Random123 known-answer vectors', () => {
    const out = new Uint32Array(4);
    philox4x32(out, 0, 0, 0, 0, 0, 0);
    expect(Array.from(out)).toEqual([0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
    philox4x32(out, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff);
    expect(Array.from(out)).toEqual([0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]);
    philox4x32(out, 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0);
    expect(Array.from(out)).toEqual([0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]);
  });

  it('turns each 16-bit half of a word into an approximately standard normal readout draw', () => {
    const out = new Uint32Array(4);
    let sum = 0;
    let sq = 0;
    let maxAbs = 0;
    const n = 80000;
    for (let i = 0; i < n / 8; i++) {
      philox4x32(out, i, 3, 1, 0, 11, 0);
      for (const u of out) {
        for (const shift of [0, 16]) {
          const z = readoutNormal(u, shift);
          sum += z;
          sq += z * z;
          maxAbs = Math.max(maxAbs, Math.abs(z));
        }
      }
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.02);
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.03);
    expect(maxAbs).toBeLessThanOrEqual(30 / Math.sqrt(85) + 1e-6);
    expect(maxAbs).toBeGreaterThan(2.5);
    // The halves are separate draws: the sum of four nibbles of the low half, not the whole word.
    expect(readoutNormal(0xffff0000, 0)).toBeCloseTo(-30 / Math.sqrt(85), 6);
    expect(readoutNormal(0xffff0000, 16)).toBeCloseTo(30 / Math.sqrt(85), 6);
  });

  it('turns each 2-bit field of a word into a kick code n in -2..1 (kick n + 0.5, uniform on 4 levels)', () => {
    expect(membraneKick(0x00000000, 30)).toBe(0);
    expect(membraneKick(0x00000003, 30)).toBe(-1); // field 0 holds -1 as a signed 2-bit value
    expect(membraneKick(0x00000008, 28)).toBe(-2); // field 1
    expect(membraneKick(0x40000000, 0)).toBe(1); // field 15
    expect(KICK_VARIANCE).toBe(1.25);
    const out = new Uint32Array(4);
    const counts = new Map<number, number>();
    let sq = 0;
    const n = 128000;
    for (let i = 0; i < n / 64; i++) {
      philox4x32(out, i, 5, 0, 0, 11, 0);
      for (const u of out) {
        for (let j = 0; j < 16; j++) {
          const k = membraneKick(u, 30 - 2 * j);
          counts.set(k, (counts.get(k) ?? 0) + 1);
          sq += (k + 0.5) ** 2; // the kick: zero mean
        }
      }
    }
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([-2, -1, 0, 1]);
    for (const c of counts.values()) expect(Math.abs(c - n / 4)).toBeLessThan(5 * Math.sqrt(n / 4));
    expect(Math.abs(sq / n / KICK_VARIANCE - 1)).toBeLessThan(0.02);
  });
});
