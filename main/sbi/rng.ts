/**
 * Seeded random numbers for shuffling, simulation and sampling noise: xoshiro128** with a state of
 * four 32-bit words that can be saved and restored exactly (checkpoints resume bit-for-bit).
 *
 * @example
 * const rng = new Rng(42);
 * const u = rng.uniform(); // [0, 1)
 * const z = rng.normal(); // N(0, 1)
 * const saved = rng.state(); const again = Rng.fromState(saved);
 */
export class Rng {
  private s: Uint32Array;
  /** Cached second Box-Muller value, NaN when empty (part of the saved state). */
  private spare = NaN;

  constructor(seed: number) {
    this.s = new Uint32Array(4);
    // splitmix32 expands the seed so that nearby seeds give unrelated streams.
    let z = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      z = (z + 0x9e3779b9) >>> 0;
      let t = z;
      t = Math.imul(t ^ (t >>> 16), 0x85ebca6b) >>> 0;
      t = Math.imul(t ^ (t >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (t ^ (t >>> 16)) >>> 0;
    }
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
  }

  /** Rebuild a generator from `state()` output. */
  static fromState(state: readonly (number | null)[]): Rng {
    if (state.length !== 5) throw new RangeError(`rng state must have 5 numbers, got ${state.length}`);
    const r = new Rng(0);
    for (let i = 0; i < 4; i++) r.s[i] = Number(state[i]) >>> 0;
    r.spare = state[4] === null ? NaN : Number(state[4]);
    return r;
  }

  /** The full generator state (JSON-serializable: an empty spare becomes `null` and is read back). */
  state(): number[] {
    return [this.s[0], this.s[1], this.s[2], this.s[3], this.spare];
  }

  /** Next 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Box-Muller, both values used). */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const v = this.spare;
      this.spare = NaN;
      return v;
    }
    let u = this.uniform();
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Fill an array with standard normals. */
  fillNormal(out: Float32Array): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = this.normal();
    return out;
  }

  /** Shuffle in place (Fisher-Yates). */
  shuffle<T extends { length: number; [i: number]: number }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
