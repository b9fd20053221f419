import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCsv, parseCsv, readCsvFile, writeCsvFile } from '../../main/io/csv.ts';
import { tempDir } from '../store/helpers.ts';

describe('csv', () => {
  it('reads what pandas and numpy.savetxt write: header, CRLF, quotes, nan, exponents', () => {
    const t = parseCsv('\uFEFF"tau_w, ms",a,b\r\n1.5e2,-3,nan\r\n2,4.25E-3,inf\r\n\r\n');
    expect(t.columns).toEqual(['tau_w, ms', 'a', 'b']);
    expect(t.rows).toBe(2);
    expect(Array.from(t.data)).toEqual([150, -3, NaN, 2, 0.00425, Infinity]);
    expect(parseCsv('a\tb\n1\t2\n').columns).toEqual(['a', 'b']);
  });

  it('names the line and column of a bad value and of a short row', () => {
    expect(() => parseCsv('a,b\n1,2\n3,x\n', 'f.csv')).toThrow(
      "f.csv: line 3, column 'b': 'x' is not a number",
    );
    expect(() => parseCsv('a,b\n1,2\n3\n', 'f.csv')).toThrow('f.csv: line 3 has 1 fields, the header has 2');
    expect(() => parseCsv('1,2\n3,4\n', 'f.csv')).toThrow(
      /line 1 is numeric; the first row must name the columns/,
    );
    expect(() => parseCsv('', 'f.csv')).toThrow(/empty file/);
  });

  it('round-trips any finite table exactly', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.double({ noNaN: true }), { maxLength: 40 }),
        (cols, values) => {
          const data = values.slice(0, values.length - (values.length % cols));
          const names = Array.from({ length: cols }, (_, i) => `p${i}`);
          const back = parseCsv(formatCsv(names, data));
          expect(back.columns).toEqual(names);
          expect(Array.from(back.data)).toEqual(data);
        },
      ),
    );
  });

  it('writes files atomically and reads them back', () => {
    const path = join(tempDir(), 'p.csv');
    writeCsvFile(path, ['a', 'b'], Float32Array.of(0.5, 1, 2, 3));
    expect(readFileSync(path, 'utf8')).toBe('a,b\n0.5,1\n2,3\n');
    expect(readCsvFile(path).data).toEqual(Float64Array.of(0.5, 1, 2, 3));
  });

  it('prints float32 values in their shortest form that reads back to the same float32', () => {
    const values = Float32Array.of(0.1, 1 / 3, -2.5e-7, 29.4e6, 3.4028234663852886e38);
    const text = formatCsv(['v'], values);
    expect(text.split('\n')[1]).toBe('0.1');
    expect(Float32Array.from(parseCsv(text).data)).toEqual(values);
  });
});
