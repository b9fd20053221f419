/**
 * NumPy `.npy` reading and writing (format versions 1.0-3.0, little-endian, C order), for the
 * arrays a lab's Python side exchanges with the workbench: `numpy.load` reads what `writeNpy`
 * writes, and `readNpy` reads what `numpy.save` writes.
 *
 * @example
 * writeNpyFile('theta.npy', { dtype: 'float32', shape: [n, 7], data: theta });
 * const { shape, data } = readNpyFile('x.npy');
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';

export type NpyDtype =
  'float32' | 'float64' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'int8' | 'bool';

export type NpyData =
  | Float32Array
  | Float64Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Int8Array;

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  data: NpyData;
}

const DESCR: Record<NpyDtype, string> = {
  float32: '<f4',
  float64: '<f8',
  int16: '<i2',
  int32: '<i4',
  int64: '<i8',
  uint8: '|u1',
  uint16: '<u2',
  int8: '|i1',
  bool: '|b1',
};

const CTOR: Record<
  NpyDtype,
  { new (buf: ArrayBuffer, off: number, len: number): NpyData; BYTES_PER_ELEMENT: number }
> = {
  float32: Float32Array,
  float64: Float64Array,
  int16: Int16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  int8: Int8Array,
  bool: Uint8Array,
};

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

/** Error for a file that is not a readable .npy array; the message names the file and the problem. */
export class NpyFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NpyFormatError';
  }
}

/** Encode an array as the bytes of a .npy file (version 1.0, or 2.0 for very long headers). */
export function encodeNpy(arr: NpyArray): Buffer {
  const count = arr.shape.reduce((a, b) => a * b, 1);
  if (arr.data.length !== count) {
    throw new RangeError(
      `npy: data has ${arr.data.length} elements but shape [${arr.shape.join(', ')}] needs ${count}`,
    );
  }
  const body = Buffer.from(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength);
  return Buffer.concat([encodeNpyHeader(arr.dtype, arr.shape), body]);
}

/**
 * The header bytes (magic, version, length, padded dict) of a .npy file holding `shape` of
 * `dtype`; the raw little-endian data follows. For writing arrays piecewise.
 */
export function encodeNpyHeader(dtype: NpyDtype, shape: readonly number[]): Buffer {
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  let version = 1;
  let prefix = 10;
  if (header.length + 1 + prefix > 65535) {
    version = 2;
    prefix = 12;
  }
  const pad = 64 - ((prefix + header.length + 1) % 64);
  header = header + ' '.repeat(pad % 64) + '\n';
  const head = Buffer.alloc(prefix);
  MAGIC.copy(head, 0);
  head[6] = version;
  head[7] = 0;
  if (version === 1) head.writeUInt16LE(header.length, 8);
  else head.writeUInt32LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1')]);
}

/** Parse .npy bytes. `name` is used in error messages (a file path or archive member). */
export function decodeNpy(bytes: Uint8Array, name = 'array'): NpyArray {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) {
    throw new NpyFormatError(`${name} is not a NumPy .npy file (missing the \\x93NUMPY magic)`);
  }
  const major = buf[6];
  let headerLen: number;
  let off: number;
  if (major === 1) {
    headerLen = buf.readUInt16LE(8);
    off = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) throw new NpyFormatError(`${name}: truncated .npy header`);
    headerLen = buf.readUInt32LE(8);
    off = 12;
  } else {
    throw new NpyFormatError(`${name}: unsupported .npy format version ${major}`);
  }
  if (off + headerLen > buf.length) throw new NpyFormatError(`${name}: truncated .npy header`);
  const header = buf.subarray(off, off + headerLen).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeMatch = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeMatch)
    throw new NpyFormatError(`${name}: malformed .npy header '${header.trim()}'`);
  if (fortran === 'True') {
    throw new NpyFormatError(
      `${name}: Fortran-ordered arrays are not supported; save with numpy.ascontiguousarray`,
    );
  }
  const shape = shapeMatch[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => Number(s.replace(/L$/, '')));
  if (shape.some((d) => !Number.isInteger(d) || d < 0))
    throw new NpyFormatError(`${name}: bad shape (${shapeMatch[1]})`);
  const dtype = dtypeFromDescr(descr, name);
  const count = shape.reduce((a, b) => a * b, 1);
  const dataOff = off + headerLen;
  const C = CTOR[dtype];
  const nbytes = count * C.BYTES_PER_ELEMENT;
  if (buf.length - dataOff < nbytes) {
    throw new NpyFormatError(
      `${name}: file is truncated (needs ${nbytes} data bytes, has ${buf.length - dataOff})`,
    );
  }
  // Copy into a fresh, aligned buffer that the array owns.
  const own = new ArrayBuffer(nbytes);
  new Uint8Array(own).set(buf.subarray(dataOff, dataOff + nbytes));
  return { dtype, shape, data: new C(own, 0, count) };
}

function dtypeFromDescr(descr: string, name: string): NpyDtype {
  for (const [k, v] of Object.entries(DESCR)) {
    if (v === descr || (v.startsWith('<') && descr === '=' + v.slice(1))) return k as NpyDtype;
  }
  if (descr.startsWith('>'))
    throw new NpyFormatError(`${name}: big-endian arrays (${descr}) are not supported`);
  throw new NpyFormatError(`${name}: unsupported dtype '${descr}'`);
}

/** Read a .npy file. */
export function readNpyFile(path: string): NpyArray {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new NpyFormatError(
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  return decodeNpy(bytes, path);
}

/**
 * Write a .npy file atomically: the bytes go to a temporary file next to the target, are synced,
 * then renamed into place, so a crash never leaves a half-written array under the final name.
 */
export function writeNpyFile(path: string, arr: NpyArray): void {
  writeFileAtomic(path, encodeNpy(arr));
}

/** Write bytes to `path` through a temporary file and rename (no partial file under `path`). */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w');
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** View an array as a Float32Array (converting integer and float64 data), e.g. for training inputs. */
export function toFloat32(arr: NpyArray): Float32Array {
  if (arr.data instanceof Float32Array) return arr.data;
  const out = new Float32Array(arr.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Number(arr.data[i]);
  return out;
}
