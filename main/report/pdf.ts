/**
 * PDF from the report HTML. The layout (A4, margins, page breaks) lives in the HTML's print CSS,
 * so every printer only has to load the HTML and print it with CSS page size honoured and
 * backgrounds on. Two printers share `renderPdf`:
 *
 * - headless: `chromiumPrinter()` drives Debian's Chromium through playwright-core;
 * - in the app: the Electron main process passes its own printer, e.g.
 *   `async (html, o) => { const w = new BrowserWindow({ show: false, webPreferences: { javascript: false } });
 *     await w.loadURL('data:text/html;charset=utf-8,' + encodeURIComponent(html));
 *     try { return await w.webContents.printToPDF({ preferCSSPageSize: o.preferCSSPageSize, printBackground: o.printBackground,
 *       displayHeaderFooter: o.displayHeaderFooter, headerTemplate: o.headerTemplate, footerTemplate: o.footerTemplate }); }
 *     finally { w.destroy(); } }`.
 *
 * @example
 * const pdf = await renderPdf(html, chromiumPrinter());
 * writeFileSync('report.pdf', pdf);
 */
import { existsSync } from 'node:fs';

/** What a printer is asked to do; names follow Electron's `printToPDF` and Playwright's `page.pdf`. */
export interface PdfPrintOptions {
  /** Use the `@page` size and margins of the HTML (A4, 14/12/16/12 mm). */
  preferCSSPageSize: true;
  printBackground: true;
  displayHeaderFooter: boolean;
  headerTemplate: string;
  /** Page numbers via Chromium's `pageNumber` / `totalPages` classes. */
  footerTemplate: string;
}

/** Turns HTML into PDF bytes. */
export type PdfPrinter = (html: string, options: PdfPrintOptions) => Promise<Uint8Array>;

/** The PDF could not be produced or is not a PDF; the message says which step failed. */
export class PdfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PdfError';
  }
}

/** Print options for a report titled `title` (shown small in the footer with the page number). */
export function pdfPrintOptions(title: string): PdfPrintOptions {
  const safe = title.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return {
    preferCSSPageSize: true,
    printBackground: true,
    displayHeaderFooter: true,
    headerTemplate: '<span></span>',
    footerTemplate:
      '<div style="font:7.5pt sans-serif;color:#666;width:100%;padding:0 12mm;display:flex;justify-content:space-between">' +
      `<span>${safe}</span><span><span class="pageNumber"></span> / <span class="totalPages"></span></span></div>`,
  };
}

/** Number of pages of a PDF, counted from its `/Type /Page` objects (not `/Pages`). */
export function countPdfPages(pdf: Uint8Array): number {
  const text = Buffer.from(pdf.buffer, pdf.byteOffset, pdf.byteLength).toString('latin1');
  return (text.match(/\/Type\s*\/Page(?![a-zA-Z])/g) ?? []).length;
}

/**
 * Print report HTML to PDF with `printer`, checking that what comes back is a PDF with at least
 * one page. `title` goes into the footer.
 */
export async function renderPdf(
  html: string,
  printer: PdfPrinter,
  title = 'adex-workbench report',
): Promise<Uint8Array> {
  let pdf: Uint8Array;
  try {
    pdf = await printer(html, pdfPrintOptions(title));
  } catch (err) {
    throw new PdfError(`printing the report to PDF failed: ${(err as Error).message.split('\n')[0]}`);
  }
  const head = Buffer.from(pdf.buffer, pdf.byteOffset, Math.min(5, pdf.byteLength)).toString('latin1');
  if (head !== '%PDF-')
    throw new PdfError(`the PDF printer returned ${pdf.byteLength} bytes that are not a PDF`);
  return pdf;
}

/** Where Debian and most Linux distributions install Chromium. */
export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/**
 * A printer using headless Chromium through playwright-core. The page gets the HTML directly
 * (`setContent`), JavaScript is disabled and every network request is refused, so the PDF shows
 * exactly the self-contained document.
 */
export function chromiumPrinter(
  executablePath = process.env.ADEXWB_CHROMIUM ?? DEFAULT_CHROMIUM,
): PdfPrinter {
  return async (html, o) => {
    if (!existsSync(executablePath)) {
      throw new PdfError(
        `Chromium not found at ${executablePath} (install the 'chromium' package or set ADEXWB_CHROMIUM)`,
      );
    }
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    try {
      const context = await browser.newContext({ javaScriptEnabled: false, offline: true });
      const page = await context.newPage();
      await page.route('**/*', (route) => route.abort());
      await page.setContent(html, { waitUntil: 'load' });
      const pdf = await page.pdf({
        preferCSSPageSize: o.preferCSSPageSize,
        printBackground: o.printBackground,
        displayHeaderFooter: o.displayHeaderFooter,
        headerTemplate: o.headerTemplate,
        footerTemplate: o.footerTemplate,
      });
      return new Uint8Array(pdf);
    } finally {
      await browser.close();
    }
  };
}
