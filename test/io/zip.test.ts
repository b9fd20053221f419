import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ZipFileWriter, ZipFormatError, crc32, listZip, readZip } from '../../main/io/zip.ts';
import { tempDir } from '../store/helpers.ts';

describe('crc32', () => {
  it('matches the standard check values', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(Buffer.from('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
  });

  it('continues across pieces', () => {
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 37) & 255));
    expect(crc32(data.subarray(300), crc32(data.subarray(0, 300)))).toBe(crc32(data));
  });
});

describe('zip writer and reader', () => {
  it('round-trips stored, deflated and streamed members', () => {
    const path = join(tempDir(), 'a.zip');
    const big = Buffer.alloc(300_000, 7);
    const zip = new ZipFileWriter(path);
    zip.add('stored.bin', Buffer.from('hello'));
    zip.add('deflated.bin', big, { deflate: true });
    zip.addStreamed('streamed.bin', 10, (write) => {
      write(Buffer.from('01234'));
      write(Buffer.from('56789'));
    });
    zip.finish();
    const bytes = readFileSync(path);
    expect(bytes.length).toBeLessThan(big.length / 10);
    const entries = listZip(bytes, path);
    expect(entries.map((e) => [e.name, e.method])).toEqual([
      ['stored.bin', 0],
      ['deflated.bin', 8],
      ['streamed.bin', 0],
    ]);
    const m = readZip(bytes, path);
    expect(m.get('stored.bin')!.toString()).toBe('hello');
    expect(m.get('deflated.bin')!.equals(big)).toBe(true);
    expect(m.get('streamed.bin')!.toString()).toBe('0123456789');
  });

  it('detects a damaged member by its CRC and a truncated archive', () => {
    const path = join(tempDir(), 'a.zip');
    const zip = new ZipFileWriter(path);
    zip.add('x.bin', Buffer.from('abcdefgh'));
    zip.finish();
    const bytes = readFileSync(path);
    const damaged = Buffer.from(bytes);
    damaged[30 + 5 + 2] ^= 0xff; // a byte of the data
    expect(() => readZip(damaged, 'd.zip')).toThrow(/d\.zip: member 'x\.bin' fails its CRC-32 check/);
    expect(() => readZip(bytes.subarray(0, bytes.length - 30), 't.zip')).toThrow(ZipFormatError);
    expect(() => readZip(Buffer.from('not a zip at all, just text'), 'n.zip')).toThrow(/n\.zip is not a ZIP/);
  });

  it('leaves nothing behind when a streamed member comes out short', () => {
    const dir = tempDir();
    const zip = new ZipFileWriter(join(dir, 'a.zip'));
    expect(() => zip.addStreamed('s', 10, (write) => write(Buffer.from('123')))).toThrow(
      /produced 3 bytes, announced 10/,
    );
    zip.abort();
    expect(readdirSync(dir)).toEqual([]);
  });
});
