import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeNpy, readNpyFile, writeNpyFile } from '../../main/io/npy.ts';
import { openNpyFile, writeNpyStreamed } from '../../main/io/npy-stream.ts';
import { tempDir } from '../store/helpers.ts';

describe('piecewise .npy access', () => {
  it('reads any rows of a 2-d array without loading it', () => {
    const path = join(tempDir(), 'x.npy');
    const data = Int16Array.from({ length: 50 * 7 }, (_, i) => i - 100);
    writeNpyFile(path, { dtype: 'int16', shape: [50, 7], data });
    const f = openNpyFile(path);
    expect(f.shape).toEqual([50, 7]);
    expect(f.rowSize).toBe(7);
    expect(f.readRows(10, 3)).toEqual({ dtype: 'int16', shape: [3, 7], data: data.slice(70, 91) });
    expect(() => f.readRows(48, 3)).toThrow(/rows 48\.\.50 outside \[0, 50\)/);
    f.close();
  });

  it('refuses a truncated file when opening it', () => {
    const path = join(tempDir(), 'x.npy');
    const bytes = encodeNpy({ dtype: 'float32', shape: [10, 4], data: new Float32Array(40) });
    writeFileSync(path, bytes.subarray(0, bytes.length - 4));
    expect(() => openNpyFile(path)).toThrow(/x\.npy: file is truncated \(needs 160 data bytes, has 156\)/);
    writeFileSync(path, 'hello world, not numpy');
    expect(() => openNpyFile(path)).toThrow(/not a NumPy \.npy file/);
  });

  it('writes an array piecewise, and nothing at all when the pieces do not add up', () => {
    const dir = tempDir();
    const path = join(dir, 'y.npy');
    writeNpyStreamed(path, 'float32', [4, 2], (write) => {
      write(Float32Array.of(1, 2, 3, 4));
      write(Float32Array.of(5, 6, 7, 8));
    });
    expect(readNpyFile(path).data).toEqual(Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    const bad = join(dir, 'z.npy');
    expect(() => writeNpyStreamed(bad, 'float32', [4, 2], (write) => write(Float32Array.of(1)))).toThrow(
      /produced 4 data bytes, shape \[4, 2\] needs 32/,
    );
    expect(existsSync(bad)).toBe(false);
    expect(readdirSync(dir)).toEqual(['y.npy']);
  });
});
