/**
 * The report's inline stylesheet: system fonts only (nothing to fetch), A4 print layout with a
 * page break before each major section, and figures and table rows that never split across pages.
 */
export const REPORT_CSS = `
@page { size: A4; margin: 14mm 12mm 16mm 12mm; }
:root { --fg: #1a1a1a; --muted: #5b5b5b; --rule: #d0d0d0; --accent: #1f5fa8; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font: 10.5pt/1.45 "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: var(--fg); margin: 0 auto; max-width: 190mm; padding: 10mm 6mm; background: #fff; }
h1 { font-size: 19pt; margin: 0 0 2mm; line-height: 1.2; }
h2 { font-size: 14pt; margin: 0 0 3mm; padding-bottom: 1.5mm; border-bottom: 2px solid var(--accent); }
h3 { font-size: 11.5pt; margin: 5mm 0 2mm; }
h4 { font-size: 10.5pt; margin: 3mm 0 1.5mm; color: var(--muted); }
p { margin: 1.5mm 0 2.5mm; }
.sub { color: var(--muted); margin: 0 0 5mm; }
.note { color: var(--muted); font-size: 9pt; }
section { margin-top: 9mm; }
section.major { break-before: page; }
section.major:first-of-type { break-before: auto; }
article.obs + article.obs { break-before: page; }
h3, h4 { break-after: avoid; page-break-after: avoid; }
.keep { break-inside: avoid; page-break-inside: avoid; }
figure { margin: 2mm 0 4mm; break-inside: avoid; page-break-inside: avoid; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption { font-size: 9pt; color: var(--muted); margin-top: 1mm; }
.row { display: flex; flex-wrap: wrap; gap: 3mm; align-items: flex-start; }
.row > figure { flex: 1 1 0; min-width: 0; margin: 1mm 0 2mm; }
.grid4 { display: grid; grid-template-columns: repeat(4, 1fr); gap: 1mm 3mm; }
.grid2 { display: grid; grid-template-columns: repeat(2, 1fr); gap: 1mm 4mm; }
.grid4 > figure, .grid2 > figure { margin: 0 0 1mm; }
table { border-collapse: collapse; margin: 1.5mm 0 4mm; font-size: 8.5pt; break-inside: auto; max-width: 100%; }
tr { break-inside: avoid; page-break-inside: avoid; }
thead { display: table-header-group; }
th, td { padding: 0.8mm 1.6mm; border-bottom: 1px solid var(--rule); text-align: left; vertical-align: top; }
th { background: #f2f4f7; font-weight: 600; }
tr.groups th { background: #fff; border-bottom: 2px solid var(--rule); text-align: center; }
caption { caption-side: bottom; text-align: left; padding-top: 1mm; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
td.mono, .mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 8.5pt; word-break: break-all; }
td.ok { color: #1d6b35; }
td.bad { color: #a4281b; font-weight: 600; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: -1px; border: 1px solid #0003; }
nav ol { margin: 1mm 0 0; padding-left: 0; list-style: none; columns: 2; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 0.6mm 5mm; margin: 2mm 0 4mm; font-size: 9.5pt; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin: 0; }
@media print {
  body { padding: 0; max-width: none; }
  a { color: inherit; text-decoration: none; }
}
`;
