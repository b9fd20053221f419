/**
 * Seeded random numbers and weight initializers (PyTorch's defaults, so architectures ported from
 * the sbi toolbox start from the same distributions).
 */

/**
 * Seeded pseudo-random generator (xoshiro128**, seeded through splitmix32). Same seed, same stream,
 * on every platform.
 *
 * @example
 * const rng = new Rng(42);
 * rng.uniform(); rng.normal(); rng.int(10); rng.shuffle(indices);
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | null = null;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`Rng: seed must be a finite number, got ${seed}`);
    let x = Math.trunc(seed) >>> 0 || 0x9e3779b9;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** Next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Integer uniform in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Shuffles an array in place (Fisher-Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** Fills an array with standard normals and returns it. */
  fillNormal<T extends Float32Array | Float64Array>(out: T): T {
    for (let i = 0; i < out.length; i++) out[i] = this.normal();
    return out;
  }

  /** Fills an array with uniforms in [lo, hi) and returns it. */
  fillUniform<T extends Float32Array | Float64Array>(out: T, lo = 0, hi = 1): T {
    for (let i = 0; i < out.length; i++) out[i] = lo + (hi - lo) * this.uniform();
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Fills `out` with initial values for one parameter. */
export type Initializer = (out: Float32Array | Float64Array, rng: Rng) => void;

/** Uniform in [lo, hi). */
export const uniformInit =
  (lo: number, hi: number): Initializer =>
  (out, rng) =>
    rng.fillUniform(out, lo, hi);

/** Normal(mean, std). */
export const normalInit =
  (std: number, mean = 0): Initializer =>
  (out, rng) => {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * rng.normal();
  };

/** All `value` (default 0). */
export const constantInit =
  (value = 0): Initializer =>
  (out) =>
    out.fill(value);

/**
 * PyTorch's default for nn.Linear / nn.Conv1d weights and biases: kaiming_uniform(a = sqrt(5)),
 * i.e. U(-1/sqrt(fanIn), 1/sqrt(fanIn)).
 */
export const kaimingUniform = (fanIn: number): Initializer =>
  uniformInit(-1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn));

/**
 * He (Kaiming) uniform for weights feeding a ReLU: U(-b, b), b = sqrt(6 / fanIn) (PyTorch's
 * kaiming_uniform_ with nonlinearity 'relu'), so activations keep their variance through the layers.
 */
export const heUniform = (fanIn: number): Initializer =>
  uniformInit(-Math.sqrt(6 / fanIn), Math.sqrt(6 / fanIn));

/** Glorot/Xavier uniform: U(-a, a), a = gain * sqrt(6 / (fanIn + fanOut)). */
export function xavierUniform(fanIn: number, fanOut: number, gain = 1): Initializer {
  const a = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniformInit(-a, a);
}
