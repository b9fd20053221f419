/**
 * A small ZIP reader and writer (PKWARE APPNOTE 6.3), enough for NumPy `.npz` archives: stored
 * (method 0) and deflated (method 8) members, CRC-32 checked on read, ZIP64 sizes and offsets (as
 * `numpy.savez` writes them, with a ZIP64 extra field in every local header) in both directions.
 *
 * Record layouts used here (all little-endian):
 *   local header   0x04034b50 | ver u16 | flags u16 | method u16 | time u16 | date u16 | crc u32 |
 *                  csize u32 | usize u32 | name len u16 | extra len u16 | name | extra | data
 *   central entry  0x02014b50 | made u16 | ver u16 | flags | method | time | date | crc | csize |
 *                  usize | name len | extra len | comment len | disk u16 | int attr u16 |
 *                  ext attr u32 | local offset u32 | name | extra | comment
 *   end record     0x06054b50 | disk u16 | cd disk u16 | entries here u16 | entries u16 |
 *                  cd size u32 | cd offset u32 | comment len u16
 * A 32-bit field of 0xffffffff (16-bit: 0xffff) means "see the ZIP64 extra field / end record".
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { deflateRawSync, inflateRawSync } from 'node:zlib';

/** Error for a malformed or unsupported archive; the message names the archive and the member. */
export class ZipFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipFormatError';
  }
}

const CRC_TABLE = (() => {
  const t = new Int32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  // Slicing-by-8 tables.
  for (let n = 0; n < 256; n++) {
    let c = t[n];
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff] ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

/** CRC-32 (IEEE, as in ZIP and gzip) of `data`, continuing from `crc` (default 0). */
export function crc32(data: Uint8Array, crc = 0): number {
  let c = ~crc;
  const t = CRC_TABLE;
  let i = 0;
  const n = data.length;
  for (; i + 8 <= n; i += 8) {
    const a = c ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
    c =
      t[1792 + (a & 0xff)] ^
      t[1536 + ((a >>> 8) & 0xff)] ^
      t[1280 + ((a >>> 16) & 0xff)] ^
      t[1024 + (a >>> 24)] ^
      t[768 + data[i + 4]] ^
      t[512 + data[i + 5]] ^
      t[256 + data[i + 6]] ^
      t[data[i + 7]];
  }
  for (; i < n; i++) c = t[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** One member of an archive, as listed by its central directory. */
export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const u64 = (b: Buffer, o: number): number => Number(b.readBigUInt64LE(o));

/** List the members of a ZIP archive held in memory. `name` is used in error messages. */
export function listZip(buf: Buffer, name = 'archive'): ZipEntry[] {
  const min = Math.max(0, buf.length - 65557);
  let eocd = -1;
  for (let i = buf.length - 22; i >= min; i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0)
    throw new ZipFormatError(
      `${name} is not a ZIP/.npz archive (no end-of-central-directory record; truncated?)`,
    );
  let count = buf.readUInt16LE(eocd + 10);
  let cdSize = buf.readUInt32LE(eocd + 12);
  let cdOff = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOff === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || buf.readUInt32LE(loc) !== 0x07064b50)
      throw new ZipFormatError(`${name}: ZIP64 end-of-central-directory locator missing`);
    const z = u64(buf, loc + 8);
    if (z + 56 > buf.length || buf.readUInt32LE(z) !== 0x06064b50)
      throw new ZipFormatError(`${name}: ZIP64 end-of-central-directory record missing`);
    count = u64(buf, z + 32);
    cdSize = u64(buf, z + 40);
    cdOff = u64(buf, z + 48);
  }
  if (cdOff + cdSize > buf.length)
    throw new ZipFormatError(`${name}: truncated archive (central directory beyond the end of the file)`);
  const entries: ZipEntry[] = [];
  let p = cdOff;
  for (let k = 0; k < count; k++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== 0x02014b50)
      throw new ZipFormatError(`${name}: damaged central directory (entry ${k})`);
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    let csize = buf.readUInt32LE(p + 20);
    let usize = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    let off = buf.readUInt32LE(p + 42);
    const entryName = buf.subarray(p + 46, p + 46 + nameLen).toString(flags & 0x800 ? 'utf8' : 'latin1');
    // ZIP64 extra field (id 1): the 64-bit values of the saturated fields, in this order.
    let e = p + 46 + nameLen;
    const eEnd = e + extraLen;
    while (e + 4 <= eEnd) {
      const id = buf.readUInt16LE(e);
      const len = buf.readUInt16LE(e + 2);
      if (id === 1) {
        let q = e + 4;
        if (usize === 0xffffffff) {
          usize = u64(buf, q);
          q += 8;
        }
        if (csize === 0xffffffff) {
          csize = u64(buf, q);
          q += 8;
        }
        if (off === 0xffffffff) off = u64(buf, q);
      }
      e += 4 + len;
    }
    if (flags & 1) throw new ZipFormatError(`${name}: member '${entryName}' is encrypted`);
    if (method !== 0 && method !== 8)
      throw new ZipFormatError(
        `${name}: member '${entryName}' uses compression method ${method} (only stored and deflate are supported)`,
      );
    entries.push({
      name: entryName,
      method,
      crc32: crc,
      compressedSize: csize,
      size: usize,
      localHeaderOffset: off,
    });
    p = eEnd + commentLen;
  }
  return entries;
}

/** The uncompressed bytes of one member, CRC-checked. */
export function readZipEntry(buf: Buffer, entry: ZipEntry, name = 'archive'): Buffer {
  const h = entry.localHeaderOffset;
  if (h + 30 > buf.length || buf.readUInt32LE(h) !== 0x04034b50)
    throw new ZipFormatError(`${name}: member '${entry.name}' has no local header`);
  const start = h + 30 + buf.readUInt16LE(h + 26) + buf.readUInt16LE(h + 28);
  const end = start + entry.compressedSize;
  if (end > buf.length) throw new ZipFormatError(`${name}: member '${entry.name}' is truncated`);
  const raw = buf.subarray(start, end);
  let data: Buffer;
  if (entry.method === 0) {
    data = raw;
  } else {
    try {
      data = inflateRawSync(raw);
    } catch (err) {
      throw new ZipFormatError(
        `${name}: member '${entry.name}' does not inflate (${(err as Error).message})`,
      );
    }
  }
  if (data.length !== entry.size)
    throw new ZipFormatError(
      `${name}: member '${entry.name}' has ${data.length} bytes, the directory says ${entry.size}`,
    );
  if (crc32(data) !== entry.crc32)
    throw new ZipFormatError(`${name}: member '${entry.name}' fails its CRC-32 check (damaged archive)`);
  return data;
}

/** Every member of an archive by name. */
export function readZip(buf: Buffer, name = 'archive'): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const e of listZip(buf, name)) out.set(e.name, readZipEntry(buf, e, name));
  return out;
}

function dosTime(d: Date): { time: number; date: number } {
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
    date: ((Math.max(1980, d.getFullYear()) - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

const MAX32 = 0xffffffff;

interface Written extends ZipEntry {
  zip64: boolean;
}

/**
 * Writes a ZIP archive to `path` atomically (temporary file, fsync, rename on `finish`). Members are
 * written as they are added, so an archive larger than memory can be produced with `addStreamed`.
 *
 * @example
 * const zip = new ZipFileWriter('out.npz');
 * try { zip.add('theta.npy', bytes, { deflate: true }); zip.finish(); } catch (e) { zip.abort(); throw e; }
 */
export class ZipFileWriter {
  private readonly tmp: string;
  private fd: number | undefined;
  private pos = 0;
  private readonly entries: Written[] = [];
  private readonly stamp = dosTime(new Date());

  constructor(readonly path: string) {
    this.tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
    this.fd = openSync(this.tmp, 'w');
  }

  private write(b: Uint8Array, at?: number): void {
    let off = 0;
    while (off < b.length)
      off += writeSync(this.fd!, b, off, b.length - off, at === undefined ? null : at + off);
    if (at === undefined) this.pos += b.length;
  }

  private localHeader(
    name: Buffer,
    method: number,
    crc: number,
    csize: number,
    usize: number,
    zip64: boolean,
  ): Buffer {
    const h = Buffer.alloc(30 + name.length + (zip64 ? 20 : 0));
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(zip64 ? 45 : 20, 4);
    h.writeUInt16LE(0x800, 6);
    h.writeUInt16LE(method, 8);
    h.writeUInt16LE(this.stamp.time, 10);
    h.writeUInt16LE(this.stamp.date, 12);
    h.writeUInt32LE(crc, 14);
    h.writeUInt32LE(zip64 ? MAX32 : csize, 18);
    h.writeUInt32LE(zip64 ? MAX32 : usize, 22);
    h.writeUInt16LE(name.length, 26);
    h.writeUInt16LE(zip64 ? 20 : 0, 28);
    name.copy(h, 30);
    if (zip64) {
      const e = 30 + name.length;
      h.writeUInt16LE(1, e);
      h.writeUInt16LE(16, e + 2);
      h.writeBigUInt64LE(BigInt(usize), e + 4);
      h.writeBigUInt64LE(BigInt(csize), e + 12);
    }
    return h;
  }

  /** Add a member held in memory, stored or (with `deflate`) compressed. */
  add(name: string, data: Uint8Array, opts: { deflate?: boolean } = {}): void {
    const crc = crc32(data);
    const body = opts.deflate ? deflateRawSync(data) : data;
    const method = opts.deflate ? 8 : 0;
    const nameBuf = Buffer.from(name, 'utf8');
    const zip64 = data.length >= MAX32 || body.length >= MAX32;
    const offset = this.pos;
    this.write(this.localHeader(nameBuf, method, crc, body.length, data.length, zip64));
    this.write(body);
    this.entries.push({
      name,
      method,
      crc32: crc,
      compressedSize: body.length,
      size: data.length,
      localHeaderOffset: offset,
      zip64,
    });
  }

  /**
   * Add a stored member of exactly `size` bytes produced piecewise by `produce`, without holding it
   * in memory; the CRC is patched into the local header afterwards.
   */
  addStreamed(name: string, size: number, produce: (write: (chunk: Uint8Array) => void) => void): void {
    const nameBuf = Buffer.from(name, 'utf8');
    const zip64 = size >= MAX32;
    const offset = this.pos;
    this.write(this.localHeader(nameBuf, 0, 0, size, size, zip64));
    let crc = 0;
    let n = 0;
    produce((chunk) => {
      crc = crc32(chunk, crc);
      n += chunk.length;
      this.write(chunk);
    });
    if (n !== size) throw new Error(`zip member '${name}': produced ${n} bytes, announced ${size}`);
    const c = Buffer.alloc(4);
    c.writeUInt32LE(crc);
    this.write(c, offset + 14);
    this.entries.push({
      name,
      method: 0,
      crc32: crc,
      compressedSize: size,
      size,
      localHeaderOffset: offset,
      zip64,
    });
  }

  /** Write the central directory, sync and move the archive into place. */
  finish(): void {
    const cdStart = this.pos;
    for (const e of this.entries) {
      const name = Buffer.from(e.name, 'utf8');
      const big = e.size >= MAX32 || e.compressedSize >= MAX32 || e.localHeaderOffset >= MAX32;
      const h = Buffer.alloc(46 + name.length + (big ? 28 : 0));
      h.writeUInt32LE(0x02014b50, 0);
      h.writeUInt16LE(big || e.zip64 ? 45 : 20, 4);
      h.writeUInt16LE(big || e.zip64 ? 45 : 20, 6);
      h.writeUInt16LE(0x800, 8);
      h.writeUInt16LE(e.method, 10);
      h.writeUInt16LE(this.stamp.time, 12);
      h.writeUInt16LE(this.stamp.date, 14);
      h.writeUInt32LE(e.crc32, 16);
      h.writeUInt32LE(big ? MAX32 : e.compressedSize, 20);
      h.writeUInt32LE(big ? MAX32 : e.size, 24);
      h.writeUInt16LE(name.length, 28);
      h.writeUInt16LE(big ? 28 : 0, 30);
      h.writeUInt32LE(0o100644 * 65536, 38);
      h.writeUInt32LE(big ? MAX32 : e.localHeaderOffset, 42);
      name.copy(h, 46);
      if (big) {
        const x = 46 + name.length;
        h.writeUInt16LE(1, x);
        h.writeUInt16LE(24, x + 2);
        h.writeBigUInt64LE(BigInt(e.size), x + 4);
        h.writeBigUInt64LE(BigInt(e.compressedSize), x + 12);
        h.writeBigUInt64LE(BigInt(e.localHeaderOffset), x + 20);
      }
      this.write(h);
    }
    const cdSize = this.pos - cdStart;
    const n = this.entries.length;
    const need64 = n >= 0xffff || cdStart >= MAX32 || cdSize >= MAX32;
    if (need64) {
      const z = Buffer.alloc(56 + 20);
      const zPos = this.pos;
      z.writeUInt32LE(0x06064b50, 0);
      z.writeBigUInt64LE(44n, 4);
      z.writeUInt16LE(45, 12);
      z.writeUInt16LE(45, 14);
      z.writeBigUInt64LE(BigInt(n), 24);
      z.writeBigUInt64LE(BigInt(n), 32);
      z.writeBigUInt64LE(BigInt(cdSize), 40);
      z.writeBigUInt64LE(BigInt(cdStart), 48);
      z.writeUInt32LE(0x07064b50, 56);
      z.writeBigUInt64LE(BigInt(zPos), 64);
      z.writeUInt32LE(1, 72);
      this.write(z);
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(need64 ? 0xffff : n, 8);
    end.writeUInt16LE(need64 ? 0xffff : n, 10);
    end.writeUInt32LE(need64 ? MAX32 : cdSize, 12);
    end.writeUInt32LE(need64 ? MAX32 : cdStart, 16);
    this.write(end);
    fsyncSync(this.fd!);
    closeSync(this.fd!);
    this.fd = undefined;
    renameSync(this.tmp, this.path);
  }

  /** Discard the partial archive (nothing appears under `path`). */
  abort(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    rmSync(this.tmp, { force: true });
  }
}
