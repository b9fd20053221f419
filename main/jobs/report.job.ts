/**
 * Background job: compose a report of the project's comparison (chosen observations and
 * estimators), write the self-contained HTML (and on request the PDF through headless Chromium
 * and the CSV summaries) next to each other, and keep the HTML in the project.
 */
import { chromiumPrinter } from '../report/pdf.ts';
import { buildReportModel } from '../report/project-model.ts';
import { renderReportHtml } from '../report/html.ts';
import { writeReport, type ReportFiles } from '../report/write.ts';
import { openProject } from '../store/index.ts';
import type { JobFunction } from './types.ts';

export interface ReportJobParams {
  projectPath: string;
  out: string;
  title?: string;
  observationIds?: number[];
  estimatorIds?: number[];
  pdf: boolean;
  csv: boolean;
}

export const reportJob: JobFunction<ReportJobParams, { reportId: number; files: ReportFiles }> = async (
  p,
  ctx,
) => {
  const project = openProject(p.projectPath);
  try {
    ctx.progress({ fraction: 0.1, message: 'collecting results from the project' });
    const model = buildReportModel(project, {
      observations: p.observationIds,
      estimators: p.estimatorIds,
      title: p.title,
    });
    ctx.progress({ fraction: 0.3, message: 'rendering plots and tables' });
    const html = renderReportHtml(model);
    if (ctx.signal.aborted) throw ctx.signal.reason;
    ctx.progress({ fraction: 0.5, message: p.pdf ? 'printing the PDF' : 'writing files' });
    const files = await writeReport(model, {
      out: p.out,
      html,
      pdf: p.pdf ? chromiumPrinter() : undefined,
      csv: p.csv,
    });
    const report = project.reports.create({ title: model.title, html });
    return { reportId: report.id, files };
  } finally {
    project.close();
  }
};
