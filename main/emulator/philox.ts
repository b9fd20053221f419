/**
 * Philox4x32-10 counter-based random generator (Salmon et al., "Parallel random numbers: as easy
 * as 1, 2, 3", SC 2011), bit-identical to the native kernel's. A draw is a pure function of
 * (key, counter), so noise depends only on (seed, row, step) and not on batch split or threads.
 *
 * One block (128 bits) gives the membrane-noise kicks of 32 steps (`membraneKick`, 4 bits each) or
 * the readout noise of 8 samples (`readoutNormal`, 16 bits each).
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two uint32 values (exact, in doubles). */
function mulhi(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const mid = a0 * b1 + a1 * b0 + Math.floor((a0 * b0) / 65536);
  return (a1 * b1 + Math.floor(mid / 65536)) >>> 0;
}

/**
 * One Philox4x32-10 block: writes four uint32 words into `out`.
 *
 * @example philox4x32(out, 0, 0, 0, 0, 0, 0) // out = [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
 */
export function philox4x32(
  out: Uint32Array,
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
): void {
  let x0 = c0 >>> 0;
  let x1 = c1 >>> 0;
  let x2 = c2 >>> 0;
  let x3 = c3 >>> 0;
  let key0 = k0 >>> 0;
  let key1 = k1 >>> 0;
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi(M0, x0);
    const lo0 = Math.imul(M0, x0) >>> 0;
    const hi1 = mulhi(M1, x2);
    const lo1 = Math.imul(M1, x2) >>> 0;
    x0 = (hi1 ^ x1 ^ key0) >>> 0;
    x1 = lo1;
    x2 = (hi0 ^ x3 ^ key1) >>> 0;
    x3 = lo0;
    key0 = (key0 + W0) >>> 0;
    key1 = (key1 + W1) >>> 0;
  }
  out[0] = x0;
  out[1] = x1;
  out[2] = x2;
  out[3] = x3;
}

const f32 = Math.fround;
const INV_SQRT85 = f32(1 / Math.sqrt(85));

/**
 * Readout noise: approximate standard normal from the 16-bit half of `u` at `shift` (0 or 16), the
 * Irwin-Hall sum of its four 4-bit uniforms (0..60, mean 30, variance 85), centred and scaled to unit
 * variance (bounded at ±3.25), in float32 arithmetic as in native/.
 */
export function readoutNormal(u: number, shift: number): number {
  const h = (u >>> shift) & 0xffff;
  const t = (h & 0x0f0f) + ((h >>> 4) & 0x0f0f);
  const s = (t & 0xff) + (t >>> 8);
  return f32((s - 30) * INV_SQRT85);
}

/** Variance of a membrane-noise kick (`membraneKick` + 0.5): (4^2 - 1) / 12. */
export const KICK_VARIANCE = 1.25;

/**
 * Membrane-noise kick code from the 2-bit field of `u` selected by `shift` = 30 - 2 * index: the
 * field as a signed integer n in -2..1. The kick is n + 0.5, a uniform on the 4 values -1.5, -0.5,
 * 0.5, 1.5 (variance KICK_VARIANCE); the kernels add sigma * n and take the offset sigma / 2 from
 * the C_EL lane (prepare.ts). A word holds the kicks of 16 steps.
 */
export function membraneKick(u: number, shift: number): number {
  return (u << shift) >> 30;
}

/** Split a non-negative integer seed (< 2^53) into the two 32-bit Philox key words. */
export function seedKey(seed: number): [number, number] {
  return [seed >>> 0, Math.floor(seed / 4294967296) >>> 0];
}

/** Philox streams (third counter word), so membrane noise, readout noise and mismatch never share draws. */
export const STREAM = { membrane: 0, readout: 1, mismatch: 2 } as const;
