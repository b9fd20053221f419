/**
 * Write a report and its companions (PDF, CSV) to disk. Everything is rendered in memory first and
 * each file is then written atomically (temporary file, fsync, rename), so a failure (bad model,
 * missing Chromium) leaves no file behind and an interrupted write never leaves a half file.
 *
 * @example
 * const files = await writeReport(model, { out: 'report.html', pdf: chromiumPrinter(), csv: true });
 * // files = { html: 'report.html', pdf: 'report.pdf', samplesCsv: 'report.samples.csv', summaryCsv: 'report.summary.csv' }
 */
import { writeFileAtomic } from '../io/npy.ts';
import { samplesCsv, summaryCsv } from './csv.ts';
import { renderReportHtml, type RenderOptions } from './html.ts';
import type { ReportModel } from './model.ts';
import { renderPdf, type PdfPrinter } from './pdf.ts';

/** Options of `writeReport`. */
export interface WriteReportOptions extends RenderOptions {
  /** Path of the HTML file; the PDF and CSV files go next to it with the same base name. */
  out: string;
  /** Also print a PDF with this printer (e.g. `chromiumPrinter()`). */
  pdf?: PdfPrinter;
  /** Also write `<base>.samples.csv` and `<base>.summary.csv`. */
  csv?: boolean;
  /** The HTML when already rendered from this model (skips rendering again). */
  html?: string;
}

/** Paths of the files written. */
export interface ReportFiles {
  html: string;
  pdf?: string;
  samplesCsv?: string;
  summaryCsv?: string;
  /** Size of the HTML in bytes. */
  htmlBytes: number;
}

/** `report.html` -> `report`; other names keep their full path as the base. */
export function reportBase(out: string): string {
  return out.replace(/\.html?$/i, '');
}

/** Render the report (and optionally PDF and CSV) and write the files; returns their paths. */
export async function writeReport(model: ReportModel, opts: WriteReportOptions): Promise<ReportFiles> {
  const html = opts.html ?? renderReportHtml(model, opts);
  const base = reportBase(opts.out);
  const pending: [string, string | Uint8Array][] = [[opts.out, html]];
  const files: ReportFiles = { html: opts.out, htmlBytes: Buffer.byteLength(html) };
  if (opts.pdf) {
    files.pdf = `${base}.pdf`;
    pending.push([files.pdf, await renderPdf(html, opts.pdf, model.title)]);
  }
  if (opts.csv) {
    files.samplesCsv = `${base}.samples.csv`;
    files.summaryCsv = `${base}.summary.csv`;
    pending.push([files.samplesCsv, samplesCsv(model)], [files.summaryCsv, summaryCsv(model)]);
  }
  for (const [path, data] of pending)
    writeFileAtomic(path, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  return files;
}
