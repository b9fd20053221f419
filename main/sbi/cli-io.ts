/**
 * Shared helpers of the SBI commands: reading (theta, x) arrays from .npy files with shape checks,
 * and parsing number lists given on the command line.
 */
import { UsageError } from '../cli/command.ts';
import { readNpyFile, toFloat32 } from '../io/npy.ts';

/** A 2-D float32 matrix read from .npy (1-D arrays count as one column unless `rowVector`). */
export interface Matrix {
  data: Float32Array;
  rows: number;
  cols: number;
  shape: number[];
}

/**
 * Read a .npy file as a float32 matrix: shape [rows, cols], or [n] as n rows of one column
 * (`rowVector`: one row of n columns), or [a, b, cols] flattened to a*b rows.
 * @throws UsageError naming the file and the shape problem.
 */
export function readMatrix(
  path: string,
  what: string,
  opts: { rowVector?: boolean; allow3d?: boolean } = {},
): Matrix {
  const arr = readNpyFile(path);
  if (arr.dtype === 'bool') throw new UsageError(`${what} ${path}: expected a numeric array, got bool`);
  const data = toFloat32(arr);
  const s = arr.shape;
  if (s.length === 1) {
    return opts.rowVector ? { data, rows: 1, cols: s[0], shape: s } : { data, rows: s[0], cols: 1, shape: s };
  }
  if (s.length === 2) return { data, rows: s[0], cols: s[1], shape: s };
  if (s.length === 3 && opts.allow3d) return { data, rows: s[0] * s[1], cols: s[2], shape: s };
  throw new UsageError(`${what} ${path}: expected a 2-D array [rows, columns], got shape [${s.join(', ')}]`);
}

/** Parse a list of numbers (from repeated or comma-separated options). */
export function numberList(values: unknown, option: string): number[] | undefined {
  if (values === undefined) return undefined;
  return (values as string[]).map((v) => {
    const n = Number(v);
    if (v.trim() === '' || Number.isNaN(n)) throw new UsageError(`--${option}: '${v}' is not a number`);
    return n;
  });
}

/** Run `fn`, turning bad-input errors (data, contract, .npy format) into UsageErrors (exit code 2). */
export async function badInputAsUsage<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const name = (err as Error)?.name;
    if (name === 'DataError' || name === 'ContractError' || name === 'NpyFormatError') {
      throw new UsageError((err as Error).message);
    }
    throw err;
  }
}

/** The `--warmup N` option of the training commands (train.ts `warmupEpochs`). */
export const warmupOption = {
  type: 'number',
  default: 0,
  description: 'raise the step size linearly from near zero over the first N epochs',
} as const;

/** The checked `--warmup` value. @throws UsageError for a negative or non-finite value. */
export function warmupEpochsArg(value: unknown): number {
  const w = value as number;
  if (!(w >= 0) || !Number.isFinite(w))
    throw new UsageError(`--warmup must be a number of epochs >= 0, got ${w}`);
  return w;
}
