import { describe, expect, it } from 'vitest';
import { irwinHallNormal, philox4x32 } from '../../main/emulator/philox.ts';

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

  it('turns words into approximately standard normal draws', () => {
    const out = new Uint32Array(4);
    let sum = 0;
    let sq = 0;
    let maxAbs = 0;
    const n = 40000;
    for (let i = 0; i < n / 4; i++) {
      philox4x32(out, i, 3, 0, 0, 11, 0);
      for (const u of out) {
        const z = irwinHallNormal(u);
        sum += z;
        sq += z * z;
        maxAbs = Math.max(maxAbs, Math.abs(z));
      }
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.02);
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.03);
    expect(maxAbs).toBeLessThanOrEqual(3);
    expect(maxAbs).toBeGreaterThan(2.5);
  });
});
