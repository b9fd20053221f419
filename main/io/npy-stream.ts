/**
 * Piecewise access to .npy files larger than memory: read rows of an array on disk without loading
 * it (imports of million-trace sets), and write an array row block by row block to a temporary
 * file that is renamed into place only when complete.
 *
 * @example
 * const x = openNpyFile('x.npy');               // shape [n, samples], int16
 * const rows = x.readRows(1000, 500);           // NpyArray of shape [500, samples]
 * x.close();
 */
import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import {
  NpyFormatError,
  decodeNpy,
  encodeNpyHeader,
  type NpyArray,
  type NpyData,
  type NpyDtype,
} from './npy.ts';

const BYTES: Record<NpyDtype, number> = {
  float32: 4,
  float64: 8,
  int16: 2,
  int32: 4,
  int64: 8,
  uint8: 1,
  uint16: 2,
  int8: 1,
  bool: 1,
};

/** An .npy file opened for reading rows (first axis) on demand. */
export interface NpyFileReader {
  readonly path: string;
  readonly dtype: NpyDtype;
  readonly shape: readonly number[];
  /** Elements per row (product of all axes but the first; 1 for a 1-d array). */
  readonly rowSize: number;
  /** Rows [start, start + count) as an array of shape [count, ...shape.slice(1)]. */
  readRows(start: number, count: number): NpyArray;
  close(): void;
}

/** Open an .npy file and parse its header; data is read only by `readRows`. */
export function openNpyFile(path: string): NpyFileReader {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new NpyFormatError(
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  try {
    const size = fstatSync(fd).size;
    const pre = Buffer.alloc(12);
    readSync(fd, pre, 0, 12, 0);
    if (size < 10 || pre.readUInt32BE(0) !== 0x934e554d || pre[4] !== 0x50 || pre[5] !== 0x59) {
      throw new NpyFormatError(`${path} is not a NumPy .npy file (missing the \\x93NUMPY magic)`);
    }
    const major = pre[6];
    if (major < 1 || major > 3) throw new NpyFormatError(`${path}: unsupported .npy format version ${major}`);
    const headerEnd = major === 1 ? 10 + pre.readUInt16LE(8) : 12 + pre.readUInt32LE(8);
    if (headerEnd > size || headerEnd > 16 * 1024 * 1024)
      throw new NpyFormatError(`${path}: truncated .npy header`);
    const head = Buffer.alloc(headerEnd);
    readSync(fd, head, 0, headerEnd, 0);
    // Parse the header with the in-memory decoder on a zero-length copy of the array.
    const probe = decodeNpy(patchShapeToEmpty(head, path), path);
    const shape = parseShape(head, path);
    const dtype = probe.dtype;
    const rowSize = shape.slice(1).reduce((a, b) => a * b, 1);
    const rows = shape.length === 0 ? 1 : shape[0];
    const need = rows * rowSize * BYTES[dtype];
    if (size - headerEnd < need)
      throw new NpyFormatError(
        `${path}: file is truncated (needs ${need} data bytes, has ${size - headerEnd})`,
      );
    return {
      path,
      dtype,
      shape,
      rowSize,
      readRows(start, count) {
        if (start < 0 || count < 0 || start + count > rows)
          throw new RangeError(`${path}: rows ${start}..${start + count - 1} outside [0, ${rows})`);
        const nbytes = count * rowSize * BYTES[dtype];
        const buf = new ArrayBuffer(nbytes);
        const u8 = new Uint8Array(buf);
        let off = 0;
        const pos = headerEnd + start * rowSize * BYTES[dtype];
        while (off < nbytes) {
          const n = readSync(fd, u8, off, Math.min(nbytes - off, 1 << 30), pos + off);
          if (n === 0) throw new NpyFormatError(`${path}: unexpected end of file`);
          off += n;
        }
        return { dtype, shape: [count, ...shape.slice(1)], data: makeArray(dtype, buf) };
      },
      close() {
        closeSync(fd);
      },
    };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

function parseShape(head: Buffer, path: string): number[] {
  const m = /'shape'\s*:\s*\(([^)]*)\)/.exec(head.toString('latin1'));
  if (!m) throw new NpyFormatError(`${path}: malformed .npy header`);
  return m[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => Number(s.replace(/L$/, '')));
}

/** The header with its shape replaced by (0,), so decodeNpy validates it without data. */
function patchShapeToEmpty(head: Buffer, path: string): Buffer {
  if (head.length < 10 || head.readUInt32BE(0) !== 0x934e554d)
    throw new NpyFormatError(`${path} is not a NumPy .npy file (missing the \\x93NUMPY magic)`);
  const major = head[6];
  const prefix = major === 1 ? 10 : 12;
  const text = head
    .subarray(prefix)
    .toString('latin1')
    .replace(/'shape'\s*:\s*\([^)]*\)/, "'shape': (0,)");
  const out = Buffer.alloc(prefix + text.length);
  head.copy(out, 0, 0, prefix);
  if (major === 1) out.writeUInt16LE(text.length, 8);
  else out.writeUInt32LE(text.length, 8);
  out.write(text, prefix, 'latin1');
  return out;
}

function makeArray(dtype: NpyDtype, buf: ArrayBuffer): NpyData {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buf);
    case 'float64':
      return new Float64Array(buf);
    case 'int16':
      return new Int16Array(buf);
    case 'int32':
      return new Int32Array(buf);
    case 'int64':
      return new BigInt64Array(buf);
    case 'uint16':
      return new Uint16Array(buf);
    case 'int8':
      return new Int8Array(buf);
    default:
      return new Uint8Array(buf);
  }
}

/**
 * Write an .npy file of `shape`/`dtype` whose data `produce` hands over in pieces (in C order),
 * atomically: nothing appears under `path` unless every byte was written.
 */
export function writeNpyStreamed(
  path: string,
  dtype: NpyDtype,
  shape: readonly number[],
  produce: (write: (chunk: NpyData) => void) => void,
): void {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  const expected = shape.reduce((a, b) => a * b, 1) * BYTES[dtype];
  const fd = openSync(tmp, 'w');
  try {
    const put = (b: Uint8Array) => {
      let off = 0;
      while (off < b.length) off += writeSync(fd, b, off, b.length - off);
    };
    put(encodeNpyHeader(dtype, shape));
    let n = 0;
    produce((chunk) => {
      n += chunk.byteLength;
      put(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    });
    if (n !== expected)
      throw new Error(`${path}: produced ${n} data bytes, shape [${shape.join(', ')}] needs ${expected}`);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Bytes per element of a dtype. */
export function npyItemSize(dtype: NpyDtype): number {
  return BYTES[dtype];
}
