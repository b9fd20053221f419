/**
 * Small HTML builders for the report sections. Cell and value arguments of type `Html` are
 * already-safe markup; plain strings and numbers are escaped or formatted here, so user text
 * cannot inject markup.
 */
import { esc, fmt } from './svg/core.ts';

/** Markup that has been escaped or built from escaped pieces. */
export class Html {
  constructor(readonly html: string) {}
  toString(): string {
    return this.html;
  }
}

/** Wrap trusted markup (built by the report code itself, never user text). */
export function raw(html: string): Html {
  return new Html(html);
}

/** Escape text or format a number; pass Html through. */
export function cell(v: Html | string | number | boolean | undefined | null): string {
  if (v instanceof Html) return v.html;
  if (v === undefined || v === null) return '–';
  if (typeof v === 'number') return fmt(v);
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return esc(v);
}

/** A table column: header text and whether it holds numbers (right-aligned). */
export interface Column {
  head: string | Html;
  num?: boolean;
}

/**
 * A table with escaped header and cells; `cls` per cell via `{ v, cls }`; optional `groups` add a
 * header row above the column heads, each group spanning `span` columns.
 */
export function table(
  columns: Column[],
  rows: (
    | Html
    | string
    | number
    | boolean
    | undefined
    | null
    | { v: Html | string | number | undefined; cls: string }
  )[][],
  caption?: string,
  groups?: { head: string | Html; span: number }[],
): string {
  const head = columns.map((c) => `<th${c.num ? ' class="num"' : ''}>${cell(c.head)}</th>`).join('');
  const groupRow = groups
    ? `<tr class="groups">${groups.map((g) => `<th colspan="${g.span}">${cell(g.head)}</th>`).join('')}</tr>`
    : '';
  const body = rows
    .map(
      (r) =>
        '<tr>' +
        r
          .map((v, i) => {
            const isObj = v !== null && typeof v === 'object' && !(v instanceof Html);
            const cls = [columns[i]?.num ? 'num' : '', isObj ? v.cls : ''].filter(Boolean).join(' ');
            return `<td${cls ? ` class="${cls}"` : ''}>${cell(isObj ? v.v : v)}</td>`;
          })
          .join('') +
        '</tr>',
    )
    .join('');
  const cap = caption ? `<caption class="note">${esc(caption)}</caption>` : '';
  return `<table>${cap}<thead>${groupRow}<tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** A definition list of key/value pairs (keys escaped, values via `cell`). */
export function kv(pairs: [string, Html | string | number | boolean | undefined][]): string {
  const items = pairs
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${cell(v)}</dd>`)
    .join('');
  return `<dl class="kv">${items}</dl>`;
}

/** A figure around an SVG string with an escaped caption. */
export function figure(svg: string, caption?: string): string {
  return `<figure>${svg}${caption ? `<figcaption>${esc(caption)}</figcaption>` : ''}</figure>`;
}

/** A fraction 0..1 as a percentage with one decimal, e.g. `12.5%`. */
export function pct(v: number | undefined): string | undefined {
  return v === undefined ? undefined : Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : '–';
}

/** A colour swatch followed by escaped text. */
export function swatch(color: string, text: string): Html {
  return raw(`<span class="swatch" style="background:${color}"></span>${esc(text)}`);
}

/** Monospace (hashes, ids). */
export function mono(text: string | undefined): Html | undefined {
  return text === undefined ? undefined : raw(`<span class="mono">${esc(text)}</span>`);
}
