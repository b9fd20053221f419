/**
 * NumPy `.npz` archives: a ZIP of `.npy` members, as written by `numpy.savez` (stored) and
 * `numpy.savez_compressed` (deflated). Member names are given without the `.npy` suffix, as
 * `numpy.load(...)[name]` shows them.
 *
 * @example
 * writeNpzFile('sims.npz', { theta: { dtype: 'float32', shape: [n, 4], data: theta } }, { compress: true });
 * const { theta } = readNpzFile('sims.npz');
 */
import { readFileSync, statSync } from 'node:fs';
import { NpyFormatError, decodeNpy, encodeNpy, type NpyArray } from './npy.ts';
import { ZipFileWriter, listZip, readZipEntry } from './zip.ts';

/** Decode every array of an .npz archive held in memory, by member name without `.npy`. */
export function decodeNpz(bytes: Buffer, name = 'archive'): Record<string, NpyArray> {
  const out: Record<string, NpyArray> = {};
  for (const e of listZip(bytes, name)) {
    if (!e.name.endsWith('.npy')) continue;
    const key = e.name.slice(0, -4);
    out[key] = decodeNpy(readZipEntry(bytes, e, name), `${name}[${key}]`);
  }
  return out;
}

/** Read an .npz file. Archives over 2 GB are refused with a message (read their .npy members instead). */
export function readNpzFile(path: string): Record<string, NpyArray> {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (err) {
    throw new NpyFormatError(
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  if (size > 2 ** 31 - 1)
    throw new NpyFormatError(
      `${path}: .npz archives over 2 GB cannot be read whole; save the arrays as separate .npy files`,
    );
  return decodeNpz(readFileSync(path), path);
}

/** Write arrays as an .npz file atomically; `compress` deflates members like numpy.savez_compressed. */
export function writeNpzFile(
  path: string,
  arrays: Record<string, NpyArray>,
  opts: { compress?: boolean } = {},
): void {
  const zip = new ZipFileWriter(path);
  try {
    for (const [key, arr] of Object.entries(arrays))
      zip.add(`${key}.npy`, encodeNpy(arr), { deflate: opts.compress });
    zip.finish();
  } catch (err) {
    zip.abort();
    throw err;
  }
}
