/**
 * Training checkpoints: everything needed to continue a stopped run exactly (parameters, Adam
 * moments and step, epoch, shuffling RNG state, best parameters so far, early-stopping counters),
 * in one file written atomically.
 *
 * Layout: `ADXCKPT1` (8 bytes), uint32 LE header length, UTF-8 JSON header, then float32 LE arrays
 * `params`, `m`, `v`, `best` of `header.size` values each.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../io/npy.ts';

const MAGIC = 'ADXCKPT1';

/** One progress report per finished epoch. */
export interface EpochReport {
  epoch: number;
  trainLoss: number;
  validationLoss: number;
  bestValidationLoss: number;
  epochsSinceImprovement: number;
  /** Optimizer steps per second during this epoch. */
  stepsPerSecond: number;
  /** Seconds this epoch took (training steps plus validation). */
  seconds: number;
  /** Adam step size of this epoch (lower after a fine-tuning restart). */
  learningRate?: number;
}

/** The resumable state of a training run. */
export interface Checkpoint {
  /** Identifies the data and settings the run belongs to (resuming elsewhere is refused). */
  dataHash: string;
  settings: Record<string, unknown>;
  epoch: number;
  step: number;
  rngState: (number | null)[];
  bestValidationLoss: number;
  bestEpoch: number;
  epochsSinceImprovement: number;
  /** Fine-tuning restarts done so far (each divides the learning rate by 10); absent means 0. */
  fineTuneRound?: number;
  history: EpochReport[];
  params: Float32Array;
  m: Float32Array;
  v: Float32Array;
  best: Float32Array;
}

/** Write a checkpoint atomically (temporary file, then rename). */
export function writeCheckpoint(path: string, c: Checkpoint): void {
  const size = c.params.length;
  for (const [k, a] of [
    ['m', c.m],
    ['v', c.v],
    ['best', c.best],
  ] as const) {
    if (a.length !== size) throw new RangeError(`checkpoint ${k}: expected ${size} values, got ${a.length}`);
  }
  const { params: _p, m: _m, v: _v, best: _b, ...rest } = c;
  const bestLoss = Number.isFinite(c.bestValidationLoss) ? c.bestValidationLoss : null;
  const header = Buffer.from(JSON.stringify({ ...rest, bestValidationLoss: bestLoss, size }), 'utf8');
  const head = Buffer.alloc(12);
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt32LE(header.length, 8);
  const arrays = [c.params, c.m, c.v, c.best].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  writeFileAtomic(path, Buffer.concat([head, header, ...arrays]));
}

/** Read a checkpoint. @throws Error naming the file when it is missing or not a checkpoint. */
export function readCheckpoint(path: string): Checkpoint {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new Error(
      `cannot read checkpoint ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  if (bytes.length < 12 || bytes.toString('latin1', 0, 8) !== MAGIC) {
    throw new Error(`${path} is not a training checkpoint`);
  }
  const hlen = bytes.readUInt32LE(8);
  let header: Omit<Checkpoint, 'params' | 'm' | 'v' | 'best'> & {
    size: number;
    bestValidationLoss: number | null;
  };
  try {
    header = JSON.parse(bytes.toString('utf8', 12, 12 + hlen));
  } catch {
    throw new Error(`${path}: checkpoint header is corrupt`);
  }
  const size = header.size;
  if (bytes.length !== 12 + hlen + 16 * size) throw new Error(`${path}: checkpoint is truncated or corrupt`);
  const body = bytes.subarray(12 + hlen);
  const arr = (i: number) => {
    const out = new Float32Array(size);
    Buffer.from(out.buffer).set(body.subarray(i * 4 * size, (i + 1) * 4 * size));
    return out;
  };
  const { size: _s, ...rest } = header;
  return {
    ...rest,
    bestValidationLoss: header.bestValidationLoss ?? Infinity,
    params: arr(0),
    m: arr(1),
    v: arr(2),
    best: arr(3),
  };
}
