import { resolve } from 'node:path';
import { UsageError, type CliCommand } from '../cli/command.ts';
import { openProject, ProjectOpenError, ProjectLockedError, type Project } from '../store/index.ts';
import { ReportArtifactError } from './artifacts.ts';
import { renderReportHtml } from './html.ts';
import { ReportModelError } from './model.ts';
import { chromiumPrinter, DEFAULT_CHROMIUM } from './pdf.ts';
import { buildReportModel, ReportSelectionError } from './project-model.ts';
import { writeReport, type ReportFiles } from './write.ts';

/** `adexwb report`: a self-contained HTML report (and optionally PDF and CSV) from a project. */
export const reportCommand: CliCommand = {
  name: 'report',
  summary: 'Write a self-contained HTML (and PDF, CSV) report comparing estimators on observations',
  details: [
    'Observations are given by id or name (repeat the option or separate by commas; give the id of a',
    'name that contains a comma); by default every',
    'observation with a posterior from a selected estimator. Estimators by id; by default all trained ones.',
    'With --pdf, report.pdf is printed by headless Chromium; with --csv, report.samples.csv (every draw)',
    'and report.summary.csv (mean, std, median, 2.5/5/95/97.5% quantiles) are written next to the HTML.',
  ].join('\n'),
  options: {
    project: { type: 'string', description: 'Project file', required: true },
    observations: { type: 'string', multiple: true, description: 'Observation ids or names' },
    estimators: { type: 'string', multiple: true, description: 'Estimator ids' },
    out: { type: 'string', description: 'Output HTML file', default: 'report.html', short: 'o' },
    pdf: { type: 'boolean', description: 'Also print a PDF next to the HTML' },
    csv: { type: 'boolean', description: 'Also write posterior samples and summaries as CSV' },
    title: { type: 'string', description: 'Report title (default: experiment and estimator names)' },
    save: { type: 'boolean', description: 'Also store the HTML in the project (opens it for writing)' },
    chromium: { type: 'string', description: 'Chromium executable for --pdf', default: DEFAULT_CHROMIUM },
  },
  async run(args, io) {
    const estimators = ((args.estimators as string[] | undefined) ?? []).map((s) => {
      if (!/^\d+$/.test(s.trim()))
        throw new UsageError(`--estimators takes estimator ids (whole numbers), got '${s}'`);
      return Number(s);
    });
    const out = resolve(String(args.out));
    if (!/\.html?$/i.test(out))
      throw new UsageError(`--out must name an .html file, got '${String(args.out)}'`);
    let project: Project;
    try {
      project = openProject(String(args.project), { readonly: !args.save });
    } catch (err) {
      if (err instanceof ProjectOpenError || err instanceof ProjectLockedError)
        throw new UsageError(err.message);
      throw err;
    }
    try {
      const model = (() => {
        try {
          return buildReportModel(project, {
            observations: args.observations as string[] | undefined,
            estimators,
            title: args.title as string | undefined,
          });
        } catch (err) {
          if (
            err instanceof ReportSelectionError ||
            err instanceof ReportArtifactError ||
            err instanceof ReportModelError
          ) {
            throw new UsageError(err.message);
          }
          throw err;
        }
      })();
      io.info(`report: ${model.observations.length} observation(s), ${model.estimators.length} estimator(s)`);
      const html = renderReportHtml(model);
      const files: ReportFiles = await writeReport(model, {
        out,
        html,
        pdf: args.pdf ? chromiumPrinter(String(args.chromium)) : undefined,
        csv: !!args.csv,
      });
      if (args.save) {
        const stored = project.reports.create({ title: model.title, html });
        io.info(`stored in the project as report ${stored.id}`);
      }
      io.result(
        { ...files, observations: model.observations.length, estimators: model.estimators.length },
        (r: ReportFiles) => [r.html, r.pdf, r.samplesCsv, r.summaryCsv].filter(Boolean).join('\n'),
      );
      return 0;
    } finally {
      project.close();
    }
  },
};
