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

  /**
   * Fill an array with standard normals: the same values, in the same order, as calling `normal()`
   * out.length times (and the same state afterwards), with the generator state held in locals.
   */
  fillNormal(out: Float32Array): Float32Array {
    const n = out.length;
    let i = 0;
    if (n === 0) return out;
    if (!Number.isNaN(this.spare)) {
      out[i++] = this.spare;
      this.spare = NaN;
    }
    const st = this.s;
    // int32 locals (same bits as the Uint32Array words); results are read as unsigned.
    let s0 = st[0] | 0;
    let s1 = st[1] | 0;
    let s2 = st[2] | 0;
    let s3 = st[3] | 0;
    const twoPi = 2 * Math.PI;
    while (i < n) {
      let u = 0;
      let v = 0;
      for (let k = 0; k < 2;) {
        const x = Math.imul(s1, 5);
        const res = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
        const t = s1 << 9;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = (s3 << 11) | (s3 >>> 21);
        const w = res / 4294967296;
        if (k === 0) {
          if (w === 0) continue; // as normal(): redraw u while it is 0
          u = w;
        } else v = w;
        k++;
      }
      const r = Math.sqrt(-2 * Math.log(u));
      out[i++] = r * Math.cos(twoPi * v);
      const second = r * Math.sin(twoPi * v);
      if (i < n) out[i++] = second;
      else this.spare = second;
    }
    st[0] = s0;
    st[1] = s1;
    st[2] = s2;
    st[3] = s3;
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
