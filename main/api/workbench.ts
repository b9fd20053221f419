/**
 * The workbench behind the API: owns the job runner, settings and the open project, implements
 * every call of the contract, and fans events out to all connected UIs. Transports wrap one
 * `Workbench` and differ only in how bytes travel.
 */
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { appRoot } from '../paths.ts';
import type { SimulationStats } from '../jobs/simulate.job.ts';
import { DEFAULT_EXPERIMENT, INFERRED_PARAMETERS } from '../emulator/index.ts';
import { DEFAULT_REGIME } from '../pipeline/regime.ts';
import type { SimulationDefaults } from './contract.ts';
import { renderPdf, type PdfPrinter } from '../report/pdf.ts';
import { reportBase } from '../report/write.ts';
import { writeFileAtomic } from '../io/npy.ts';
import type { ReportFiles } from '../report/write.ts';

function simulationDefaults(): SimulationDefaults {
  return {
    parameters: INFERRED_PARAMETERS.map((p) => ({
      name: p.name,
      label: p.label,
      unit: p.unit,
      low: p.modelRange[0],
      high: p.modelRange[1],
      capmemRange: [p.capmemRange[0], p.capmemRange[1]],
    })),
    regime: { minSpikes: DEFAULT_REGIME.minSpikes, maxSpikes: DEFAULT_REGIME.maxSpikes },
    samples: DEFAULT_EXPERIMENT.samples,
    sampleRate: DEFAULT_EXPERIMENT.sampleRate,
    duration: DEFAULT_EXPERIMENT.duration,
    stimulus: {
      onset: DEFAULT_EXPERIMENT.stimulus.onset,
      duration: DEFAULT_EXPERIMENT.stimulus.duration,
      amplitude: DEFAULT_EXPERIMENT.stimulus.amplitude,
    },
  };
}
import { JobRunner } from '../jobs/runner.ts';
import type { JobStatus } from '../jobs/types.ts';
import { WORKBENCH_VERSION } from '../version.ts';
import type { ApiEvent, AppInfo, Envelope } from './contract.ts';
import { ApiError } from './contract.ts';
import { dispatch, type Handlers } from './dispatch.ts';
import { defaultDataDir, SettingsStore } from './settings.ts';
import {
  importObservationFile,
  observationData,
  previewObservation,
  ProjectSession,
  summarize,
} from './project.handlers.ts';
import { hwConnect, hwDisconnect, hwPorts, hwRecord } from './hardware.handlers.ts';
import { currentDevice } from '../bridge/index.ts';
import { PipelineRuns } from './pipeline.handlers.ts';
import {
  comparison,
  diagnostics,
  estimatorDetails,
  notFound,
  restrictionDetails,
} from './results.handlers.ts';

export interface WorkbenchOptions {
  /** Folder for settings (default: see defaultDataDir). */
  dataDir?: string;
  transport: AppInfo['transport'];
  /**
   * Prints report HTML to PDF in this process (the desktop app passes Electron's printToPDF).
   * Without it, report jobs print with headless Chromium.
   */
  pdfPrinter?: PdfPrinter;
}

export class Workbench {
  readonly runner = new JobRunner();
  readonly settings: SettingsStore;
  private readonly events = new EventEmitter();
  private readonly handlers: Handlers;
  readonly session: ProjectSession;
  private readonly pipelineRuns: PipelineRuns;

  constructor(readonly options: WorkbenchOptions) {
    this.settings = new SettingsStore(options.dataDir ?? defaultDataDir());
    this.events.setMaxListeners(100);
    this.runner.on('status', (status: JobStatus) => this.emit({ type: 'job', status }));
    this.session = new ProjectSession((file) => this.settings.touchRecent(file));
    this.pipelineRuns = new PipelineRuns(this.runner, (...a) => this.startJob(...a));
    this.handlers = this.createHandlers();
  }

  /** Validate and run one call; never throws. */
  call(name: unknown, payload: unknown): Promise<Envelope<unknown>> {
    return dispatch(this.handlers, name, payload);
  }

  /** Subscribe to events; returns the unsubscribe function. */
  onEvent(listener: (event: ApiEvent) => void): () => void {
    this.events.on('event', listener);
    return () => this.events.off('event', listener);
  }

  emit(event: ApiEvent): void {
    this.events.emit('event', event);
  }

  /** Start a job whose function lives in main/jobs/<file>. */
  startJob(kind: string, label: string, file: string, fn: string, params: unknown) {
    return this.runner.start({
      kind,
      label,
      module: path.join(appRoot(), 'main', 'jobs', file),
      export: fn,
      params,
    });
  }

  async close(): Promise<void> {
    await this.runner.shutdown();
    this.session.close();
    this.events.removeAllListeners();
  }

  private createHandlers(): Handlers {
    return {
      'app:info': async () => ({
        name: 'adex-workbench',
        version: WORKBENCH_VERSION,
        node: process.versions.node,
        platform: `${process.platform}-${process.arch}`,
        transport: this.options.transport,
      }),
      'settings:get': async () => this.settings.get(),
      'settings:set': async (patch) => this.settings.set(patch),
      'jobs:list': async () => this.runner.list(),
      'jobs:cancel': async ({ id }) => {
        if (!this.runner.get(id)) throw new ApiError('not_found', `no job with id ${id}`);
        return { cancelled: this.runner.cancel(id) };
      },
      'project:create': async ({ path, name }) => summarize(this.session.create(path, name)),
      'project:open': async ({ path }) => summarize(this.session.open(path)),
      'project:close': async () => ({ closed: this.session.close() }),
      'project:summary': async () => (this.session.project ? summarize(this.session.project) : null),
      'observation:get': async ({ id }) => observationData(this.session.require(), id),
      'observation:preview': async ({ path: file, unit }) => previewObservation(file, unit),
      'observation:import': async (args) => importObservationFile(this.session.require(), args),
      'hw:ports': () => hwPorts(),
      'hw:connect': ({ path }) => hwConnect(path),
      'hw:disconnect': () => hwDisconnect(),
      'hw:device': async () => currentDevice(),
      'hw:record': (opts) => hwRecord(opts, () => this.session.require()),
      'sim:start': async (args) => {
        const p = this.session.require();
        if (args.box) {
          for (let j = 0; j < 7; j++) {
            if (!(args.box.low[j] < args.box.high[j])) {
              throw new ApiError(
                'invalid_argument',
                `prior bounds of parameter ${j + 1}: low (${args.box.low[j]}) must be below high (${args.box.high[j]})`,
              );
            }
          }
        }
        if (args.regime && args.regime.maxSpikes < args.regime.minSpikes) {
          throw new ApiError('invalid_argument', 'regime: maxSpikes must be at least minSpikes');
        }
        const { id } = this.startJob(
          'simulate',
          `Simulate ${args.n.toLocaleString('en')} traces`,
          'simulate.job.ts',
          'simulateJob',
          {
            projectPath: p.path,
            ...args,
          },
        );
        return { jobId: id };
      },
      'sim:defaults': async () => simulationDefaults(),
      'pipeline:start': async (args) => this.pipelineRuns.start(this.session.require(), args),
      'pipeline:runs': async () => this.pipelineRuns.list(this.session.require()),
      'pipeline:resume': async ({ runId }) => this.pipelineRuns.resume(this.session.require(), runId),
      'pipeline:discard': async ({ runId }) => this.pipelineRuns.discard(this.session.require(), runId),
      'restriction:start': async (args) =>
        this.pipelineRuns.restriction(this.session.require(), args, (...a) => this.startJob(...a)),
      'infer:start': async (args) => {
        const p = this.session.require();
        // Estimators of the pipeline carry how traces become their inputs; only those can infer a recording.
        const trained = p.estimators
          .list()
          .filter(
            (e) => e.status === 'trained' && (e.config as { features?: unknown }).features !== undefined,
          );
        const ids = args.estimatorIds ?? trained.map((e) => e.id);
        if (!ids.length)
          throw new ApiError(
            'conflict',
            'no trained estimator in this project: train one in the Train view first',
          );
        for (const eid of ids) {
          if (!trained.some((e) => e.id === eid))
            throw new ApiError('not_found', `no trained estimator with id ${eid}`);
        }
        const obs = notFound(() => p.observations.get(args.observationId));
        const { id } = this.startJob(
          'infer',
          `Infer observation ${obs.id} (${obs.name})`,
          'infer.job.ts',
          'inferJob',
          {
            projectPath: p.path,
            ...args,
            estimatorIds: ids,
          },
        );
        return { jobId: id };
      },
      'report:start': async (args) => {
        const p = this.session.require();
        const out = path.resolve(args.out);
        if (!existsSync(path.dirname(out)))
          throw new ApiError('invalid_argument', `folder ${path.dirname(out)} does not exist`);
        const printer = args.pdf ? this.options.pdfPrinter : undefined;
        const { id, result } = this.startJob(
          'report',
          `Report ${path.basename(out)}`,
          'report.job.ts',
          'reportJob',
          {
            projectPath: p.path,
            ...args,
            out,
            pdf: args.pdf && !printer,
          },
        );
        if (printer) {
          // The desktop app prints in its own Chromium once the job has written the HTML.
          void (result as Promise<{ files: ReportFiles }>)
            .then(async ({ files }) => {
              const pdf = await renderPdf(readFileSync(files.html, 'utf8'), printer, args.title);
              writeFileAtomic(`${reportBase(files.html)}.pdf`, pdf);
              this.emit({
                type: 'log',
                level: 'info',
                message: `PDF written to ${reportBase(files.html)}.pdf`,
              });
            })
            .catch((err: Error) => this.emit({ type: 'log', level: 'error', message: err.message }));
        }
        return { jobId: id };
      },
      'report:html': async ({ id }) => {
        const r = notFound(() => this.session.require().reports.get(id));
        return { id: r.id, title: r.title, html: r.html };
      },
      'results:estimators': async () => estimatorDetails(this.session.require()),
      'results:restriction': async () => restrictionDetails(this.session.require()),
      'results:comparison': async ({ observationId }) =>
        notFound(() => comparison(this.session.require(), observationId)),
      'results:diagnostics': async () => diagnostics(this.session.require()),
      'sim:stats': async () =>
        this.session
          .require()
          .artifacts.list({ kind: 'simulation-stats' })
          .map((a) => a.json as SimulationStats),
    };
  }
}
