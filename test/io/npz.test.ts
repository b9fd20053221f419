import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeNpz, readNpzFile, writeNpzFile } from '../../main/io/npz.ts';
import { listZip } from '../../main/io/zip.ts';
import { tempDir } from '../store/helpers.ts';

// Archives written the way numpy.savez / numpy.savez_compressed write them (Python zipfile with
// force_zip64=True: ZIP64 extra field in each local header, sizes 0xffffffff there), holding
// theta = float64 [[1.5, -2, 3.25], [4, 5.5, -6.75]] and codes = int16 [[100..400], [500, 600, 700, -800]].
const SAVEZ =
  'UEsDBC0AAAAAAAAAIQDqDFV8//////////8JABQAdGhldGEubnB5AQAQALAAAAAAAAAAsAAAAAAAAACTTlVNUFkBAHYAeydkZXNjcic6ICc8ZjgnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwgMyksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgCgAAAAAAAPg/AAAAAAAAAMAAAAAAAAAKQAAAAAAAABBAAAAAAAAAFkAAAAAAAAAbwFBLAwQtAAAAAAAAACEAk7Urn///////////CQAUAGNvZGVzLm5weQEAEACQAAAAAAAAAJAAAAAAAAAAk05VTVBZAQB2AHsnZGVzY3InOiAnPGkyJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDQpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIApkAMgALAGQAfQBWAK8AuD8UEsBAi0DLQAAAAAAAAAhAOoMVXywAAAAsAAAAAkAAAAAAAAAAAAAAIABAAAAAHRoZXRhLm5weVBLAQItAy0AAAAAAAAAIQCTtSufkAAAAJAAAAAJAAAAAAAAAAAAAACAAesAAABjb2Rlcy5ucHlQSwUGAAAAAAIAAgBuAAAAtgEAAAAA';
const SAVEZ_COMPRESSED =
  'UEsDBC0AAAAIAAAAIQDqDFV8//////////8JABQAdGhldGEubnB5AQAQALAAAAAAAAAAWwAAAAAAAACb7BfqGxDJyFDGUK2eklqcXKRupaBuk2ahrqOgnpZfVFKUmBefX5SSChJ3S8wpTgWKF2ckFqQC+RpGOgrGmjoKtQpkAy4GMPhhD6EZDkAoLgcILQClxaC09AEAUEsDBC0AAAAIAAAAIQCTtSuf//////////8JABQAY29kZXMubnB5AQAQAJAAAAAAAAAAVwAAAAAAAACb7BfqGxDJyFDGUK2eklqcXKRupaBuk2mkrqOgnpZfVFKUmBefX5SSChJ3S8wpTgWKF2ckFqQC+RpGOgommjoKtQpkA64UhhMMOowTGL8wRjDtYXrwBwBQSwECLQMtAAAACAAAACEA6gxVfFsAAACwAAAACQAAAAAAAAAAAAAAgAEAAAAAdGhldGEubnB5UEsBAi0DLQAAAAgAAAAhAJO1K59XAAAAkAAAAAkAAAAAAAAAAAAAAIABlgAAAGNvZGVzLm5weVBLBQYAAAAAAgACAG4AAAAoAQAAAAA=';

describe('npz', () => {
  for (const [label, b64] of [
    ['numpy.savez', SAVEZ],
    ['numpy.savez_compressed', SAVEZ_COMPRESSED],
  ]) {
    it(`reads an archive as ${label} writes it`, () => {
      const z = decodeNpz(Buffer.from(b64, 'base64'), label);
      expect(Object.keys(z)).toEqual(['theta', 'codes']);
      expect(z.theta).toEqual({
        dtype: 'float64',
        shape: [2, 3],
        data: Float64Array.of(1.5, -2, 3.25, 4, 5.5, -6.75),
      });
      expect(z.codes).toEqual({
        dtype: 'int16',
        shape: [2, 4],
        data: Int16Array.of(100, 200, 300, 400, 500, 600, 700, -800),
      });
    });
  }

  it('round-trips arrays of every shape through writeNpzFile, stored and compressed', () => {
    const dir = tempDir();
    const arrays = {
      theta: {
        dtype: 'float32' as const,
        shape: [3, 2],
        data: Float32Array.of(0.1, 0.2, 0.3, 0.4, 0.5, 0.6),
      },
      codes: { dtype: 'int16' as const, shape: [2, 2], data: Int16Array.of(1, -2, 3, 1023) },
      rate: { dtype: 'float64' as const, shape: [], data: Float64Array.of(29.4e6) },
      empty: { dtype: 'int32' as const, shape: [0], data: new Int32Array(0) },
    };
    for (const compress of [false, true]) {
      const path = join(dir, `a-${compress}.npz`);
      writeNpzFile(path, arrays, { compress });
      expect(readNpzFile(path)).toEqual(arrays);
      expect(listZip(readFileSync(path)).every((e) => e.method === (compress ? 8 : 0))).toBe(true);
    }
  });

  it('names the archive and member of a broken array', () => {
    const path = join(tempDir(), 'bad.npz');
    writeFileSync(path, Buffer.from(SAVEZ, 'base64').subarray(0, 300));
    expect(() => readNpzFile(path)).toThrow(/bad\.npz/);
    expect(() => readNpzFile(join(tempDir(), 'missing.npz'))).toThrow(/cannot read .*missing\.npz: ENOENT/);
  });
});
