/**
 * Numeric CSV tables with a header row, the plain-text exchange format of a lab's Python side
 * (`pandas.read_csv`, `numpy.savetxt(..., header=..., comments='')`). Comma-separated (tab or
 * semicolon accepted when the header has no comma), '.' decimal point, `nan`/`inf` accepted.
 *
 * @example
 * const t = readCsvFile('posterior.csv');   // { columns: ['a', 'b'], rows: 1000, data: Float64Array }
 * writeCsvFile('out.csv', ['a', 'b'], samples, 2);
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from './npy.ts';

/** A numeric table: `rows` x `columns.length` values, row-major. */
export interface CsvTable {
  columns: string[];
  rows: number;
  data: Float64Array;
}

/** Error for a CSV file that is not a numeric table; names the file, line and column. */
export class CsvFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CsvFormatError';
  }
}

function splitLine(line: string, sep: string): string[] {
  if (!line.includes('"')) return line.split(sep);
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === sep) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function parseValue(s: string): number {
  const t = s.trim().toLowerCase();
  if (t === 'nan') return NaN;
  if (t === 'inf' || t === '+inf' || t === 'infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  return t === '' ? NaN : Number(t);
}

/** Parse CSV text with a header row into a numeric table. `name` is used in error messages. */
export function parseCsv(text: string, name = 'csv'): CsvTable {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let first = 0;
  while (first < lines.length && (lines[first].trim() === '' || lines[first].startsWith('#'))) first++;
  if (first >= lines.length)
    throw new CsvFormatError(`${name}: empty file (a header row and numeric rows are needed)`);
  const head = lines[first];
  const sep = head.includes(',') ? ',' : head.includes('\t') ? '\t' : head.includes(';') ? ';' : ',';
  const columns = splitLine(head, sep).map((c) => c.trim());
  if (columns.every((c) => c !== '' && Number.isFinite(Number(c)))) {
    throw new CsvFormatError(`${name}: line ${first + 1} is numeric; the first row must name the columns`);
  }
  const cols = columns.length;
  const values: number[] = [];
  let rows = 0;
  for (let i = first + 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    const cells = splitLine(line, sep);
    if (cells.length !== cols)
      throw new CsvFormatError(`${name}: line ${i + 1} has ${cells.length} fields, the header has ${cols}`);
    for (let c = 0; c < cols; c++) {
      const v = parseValue(cells[c]);
      if (Number.isNaN(v) && !/^\s*nan\s*$/i.test(cells[c])) {
        throw new CsvFormatError(
          `${name}: line ${i + 1}, column '${columns[c]}': '${cells[c].trim()}' is not a number`,
        );
      }
      values.push(v);
    }
    rows++;
  }
  return { columns, rows, data: Float64Array.from(values) };
}

/** Read a CSV file into a numeric table. */
export function readCsvFile(path: string): CsvTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CsvFormatError(
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  return parseCsv(text, path);
}

function quote(name: string): string {
  return /[",\n\r]/.test(name) ? `"${name.replace(/"/g, '""')}"` : name;
}

/** The shortest decimal that reads back as the same float32 (0.1f prints as 0.1, not 0.10000000149011612). */
function shortestFloat32(v: number): string {
  for (let p = 1; p < 9; p++) {
    const s = String(Number(v.toPrecision(p)));
    if (Math.fround(Number(s)) === v) return s;
  }
  return String(v);
}

/** Format `data` (rows x columns.length, row-major) as CSV text with a header row. */
export function formatCsv(columns: readonly string[], data: ArrayLike<number>): string {
  const cols = columns.length;
  if (cols === 0 || data.length % cols !== 0)
    throw new RangeError(`csv: ${data.length} values do not fill rows of ${cols} columns`);
  const parts: string[] = [columns.map(quote).join(',')];
  const row = new Array<string>(cols);
  const single = data instanceof Float32Array;
  for (let r = 0; r < data.length / cols; r++) {
    for (let c = 0; c < cols; c++) {
      const v = data[r * cols + c];
      if (Number.isNaN(v)) row[c] = 'nan';
      else if (v === Infinity || v === -Infinity) row[c] = v > 0 ? 'inf' : '-inf';
      else if (Object.is(v, -0)) row[c] = '-0';
      else row[c] = single ? shortestFloat32(v) : String(v);
    }
    parts.push(row.join(','));
  }
  return parts.join('\n') + '\n';
}

/** Write a numeric table as CSV, atomically. */
export function writeCsvFile(path: string, columns: readonly string[], data: ArrayLike<number>): void {
  writeFileAtomic(path, Buffer.from(formatCsv(columns, data), 'utf8'));
}
