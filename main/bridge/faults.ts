/**
 * Fault injection for the virtual device: the faults real serial links have (flipped bytes, lost
 * frames, latency, an unplugged cable), reproducible from a seed.
 */

import { Transform, type TransformCallback } from 'node:stream';

/** Fault options; every rate is a per-frame probability in [0, 1]. */
export interface FaultOptions {
  /** Probability that a frame (in either direction) gets one byte flipped; default 0. */
  corruptRate?: number;
  /** Probability that a frame (in either direction) is lost; default 0. */
  dropRate?: number;
  /** Delay before each outgoing frame, ms; default 0. */
  delayMs?: number;
  /** Disconnect after sending this many frames (0 = never); default 0. */
  disconnectAfter?: number;
  /** Seed of the fault pattern; default 1. */
  seed?: number;
}

/** Counters of injected faults. */
export interface FaultStats {
  corrupted: number;
  dropped: number;
}

/** Validate fault options; throws RangeError naming the option. */
export function checkFaultOptions(f: FaultOptions): Required<FaultOptions> {
  const out = { corruptRate: 0, dropRate: 0, delayMs: 0, disconnectAfter: 0, seed: 1, ...f };
  for (const k of ['corruptRate', 'dropRate'] as const) {
    if (!(out[k] >= 0 && out[k] <= 1))
      throw new RangeError(`${k} must be a probability in [0, 1], got ${out[k]}`);
  }
  if (!(out.delayMs >= 0 && Number.isFinite(out.delayMs)))
    throw new RangeError(`delayMs must be >= 0, got ${out.delayMs}`);
  if (!Number.isInteger(out.disconnectAfter) || out.disconnectAfter < 0) {
    throw new RangeError(`disconnectAfter must be a non-negative integer, got ${out.disconnectAfter}`);
  }
  if (!Number.isInteger(out.seed)) throw new RangeError(`seed must be an integer, got ${out.seed}`);
  return out;
}

/** mulberry32: a small, fast, seedable PRNG; uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Applies drop/corrupt decisions to whole frames. */
export class FaultInjector {
  readonly stats: FaultStats = { corrupted: 0, dropped: 0 };
  private readonly random: () => number;

  constructor(private readonly opts: Required<FaultOptions>) {
    this.random = seededRandom(opts.seed);
  }

  /** True if any drop or corruption is configured. */
  get active(): boolean {
    return this.opts.corruptRate > 0 || this.opts.dropRate > 0;
  }

  /**
   * Apply faults to one frame: null if dropped, a corrupted copy, or the frame itself. With
   * `keepLast`, the final byte (the 0x00 delimiter of a wire frame) is never flipped.
   */
  apply(frame: Buffer, keepLast = false): Buffer | null {
    if (this.opts.dropRate > 0 && this.random() < this.opts.dropRate) {
      this.stats.dropped++;
      return null;
    }
    const span = frame.length - (keepLast ? 1 : 0);
    if (this.opts.corruptRate > 0 && span > 0 && this.random() < this.opts.corruptRate) {
      this.stats.corrupted++;
      const copy = Buffer.from(frame);
      const at = Math.floor(this.random() * span);
      copy[at] ^= 1 + Math.floor(this.random() * 255);
      return copy;
    }
    return frame;
  }

  /** Object-mode transform applying faults to raw inbound frames (faults pass through). */
  inboundTransform(): Transform {
    return new Transform({
      objectMode: true,
      transform: (item: unknown, _enc: BufferEncoding, done: TransformCallback) => {
        if (!Buffer.isBuffer(item)) return done(null, item);
        const out = this.apply(item);
        done(null, out ?? undefined);
      },
    });
  }
}
