/**
 * The one API contract between the UI and the workbench: every call's name, argument schema and
 * result type, plus the event stream. The three transports (Electron IPC through the preload,
 * HTTP + WebSocket for the browser mode, in-process for the CLI and tests) all carry exactly this.
 *
 * Arguments are validated with these schemas on the main side before anything is touched
 * (`dispatch.ts`); results are produced by trusted main-side code and only typed.
 */
import { z } from 'zod';
import type { JobStatus } from '../jobs/types.ts';
import type {
  ComparisonData,
  DiagnosticsData,
  EstimatorDetails,
  ObservationData,
  ProjectSummary,
  RestrictionDetails,
} from './project.types.ts';

import type { DeviceInfo, PortInfo } from '../bridge/index.ts';
import type { RecordedTrace } from './hardware.handlers.ts';

export type {
  ComparisonData,
  DiagnosticsData,
  EstimatorDetails,
  ObservationData,
  ProjectSummary,
  RestrictionDetails,
} from './project.types.ts';
export type { DeviceInfo, PortInfo } from '../bridge/index.ts';
export type { RecordedTrace } from './hardware.handlers.ts';
import type { SimulationStats } from '../jobs/simulate.job.ts';
export type { SimulationStats } from '../jobs/simulate.job.ts';
import type { RunManifest } from '../jobs/pipeline-runs.ts';

/** A pipeline run that stopped (cancelled or failed) with training checkpoints to resume from. */
export type StoppedRun = RunManifest;

/** What an observation file holds, before importing it. */
export interface ObservationPreview {
  path: string;
  traces: number;
  samples: number;
  unit: 'codes' | 'volts';
  sampleRate: number | null;
  circuitId: number | null;
  hasTrueTheta: boolean;
  /** The first trace. */
  trace: number[];
}

/** What the Simulate view offers by default: the seven inferred parameters and their prior box. */
export interface SimulationDefaults {
  parameters: {
    name: string;
    label: string;
    unit: string;
    low: number;
    high: number;
    capmemRange: [number, number];
  }[];
  regime: { minSpikes: number; maxSpikes: number };
  samples: number;
  sampleRate: number;
  duration: number;
  stimulus: { onset: number; duration: number; amplitude: number };
}

/** Longest string accepted anywhere in a payload unless a schema says otherwise. */
export const MAX_STRING = 4096;
/** Largest JSON payload a transport accepts, in bytes. */
export const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

const str = (max = MAX_STRING) => z.string().max(max, `must be at most ${max} characters`);
const none = z.object({}).strict();
const filePath = str().min(1, 'must not be empty');
const runId = z.string().regex(/^[\w-]{1,64}$/, 'must be a run id (letters, digits, - and _)');
const id = z.number().int('must be a whole number').positive('must be positive');
const seed = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31);
/** Box prior over the seven inferred parameters, model units. */
const priorBox = z
  .object({ low: z.array(z.number()).length(7), high: z.array(z.number()).length(7) })
  .strict();
/** Spike-count range of the regime of interest. */
const regimeRange = z
  .object({ minSpikes: z.number().int().min(0), maxSpikes: z.number().int().min(0) })
  .strict();

function call<A extends z.ZodType>(args: A) {
  return { args, returns: <R>() => ({ args, result: undefined as unknown as R }) };
}

export type Theme = 'system' | 'light' | 'dark';

export interface Settings {
  theme: Theme;
  /** Most recently opened project files, newest first. */
  recentProjects: string[];
}

export interface AppInfo {
  name: 'adex-workbench';
  version: string;
  node: string;
  platform: string;
  /** How this UI talks to the workbench. */
  transport: 'ipc' | 'http' | 'local';
}

export const settingsPatch = z
  .object({
    theme: z.enum(['system', 'light', 'dark']).optional(),
    recentProjects: z.array(str()).max(20, 'at most 20 recent projects').optional(),
  })
  .strict();

/** Every call the UI can make. Channel names are `area:verb`. */
export const calls = {
  'app:info': call(none).returns<AppInfo>(),
  'settings:get': call(none).returns<Settings>(),
  'settings:set': call(settingsPatch).returns<Settings>(),
  'jobs:list': call(none).returns<JobStatus[]>(),
  'jobs:cancel': call(z.object({ id: z.uuid('must be a job id') }).strict()).returns<{
    cancelled: boolean;
  }>(),
  'project:create': call(
    z.object({ path: filePath, name: str(200).optional() }).strict(),
  ).returns<ProjectSummary>(),
  'project:open': call(z.object({ path: filePath }).strict()).returns<ProjectSummary>(),
  'project:close': call(none).returns<{ closed: boolean }>(),
  'project:summary': call(none).returns<ProjectSummary | null>(),
  'observation:get': call(z.object({ id }).strict()).returns<ObservationData>(),
  'observation:preview': call(
    z.object({ path: filePath, unit: z.enum(['codes', 'volts', 'auto']).default('auto') }).strict(),
  ).returns<ObservationPreview>(),
  'observation:import': call(
    z
      .object({
        path: filePath,
        name: str(200).optional(),
        sampleRate: z.number().positive().max(1e10).optional(),
        unit: z.enum(['codes', 'volts', 'auto']).default('auto'),
        circuitId: z.number().int().min(0).max(511).optional(),
      })
      .strict(),
  ).returns<ObservationData>(),
  'hw:ports': call(none).returns<PortInfo[]>(),
  'hw:connect': call(z.object({ path: filePath }).strict()).returns<DeviceInfo>(),
  'hw:disconnect': call(none).returns<{ disconnected: boolean }>(),
  'hw:device': call(none).returns<DeviceInfo | null>(),
  'hw:record': call(
    z
      .object({
        circuit: z.number().int().min(0).max(511).optional(),
        params: z.record(str(64), z.number().int().min(0).max(1022)).optional(),
        duration: z.number().positive().max(2200).optional(),
        seed: z.number().int().min(0).optional(),
        save: z.boolean().optional(),
        name: str(200).optional(),
      })
      .strict(),
  ).returns<RecordedTrace>(),
  'sim:start': call(
    z
      .object({
        name: str(200).min(1),
        n: z.number().int().min(1).max(2_000_000, 'at most 2,000,000 simulations per set'),
        seed,
        mode: z.enum(['ideal', 'hardware']),
        chipSeed: seed,
        box: priorBox.optional(),
        regime: regimeRange.optional(),
      })
      .strict(),
  ).returns<{ jobId: string }>(),
  'sim:stats': call(none).returns<SimulationStats[]>(),
  'sim:defaults': call(none).returns<SimulationDefaults>(),
  'pipeline:start': call(
    z
      .object({
        sims: z.number().int().min(200, 'at least 200 simulations').max(1_000_000),
        seed,
        mode: z.enum(['ideal', 'hardware']),
        chipSeed: seed,
        estimator: z.enum(['maf', 'nsf', 'mdn']),
        ensemble: z.number().int().min(1).max(8),
        maxEpochs: z.number().int().min(1).max(1000),
        chipSamples: z.number().int().min(0).max(100_000),
        box: priorBox.optional(),
        regime: regimeRange.optional(),
        restrictionId: id.optional(),
      })
      .strict(),
  ).returns<{ jobId: string; runId: string }>(),
  'pipeline:runs': call(none).returns<StoppedRun[]>(),
  'pipeline:resume': call(z.object({ runId }).strict()).returns<{ jobId: string; runId: string }>(),
  'pipeline:discard': call(z.object({ runId }).strict()).returns<{ discarded: boolean }>(),
  'restriction:start': call(
    z
      .object({
        setId: id,
        regime: regimeRange,
        falseNegativeRate: z
          .number()
          .min(0, 'must be at least 0')
          .max(0.5, 'must be at most 0.5 (a fraction, not a percentage)'),
        checkSims: z.number().int().min(100, 'at least 100 simulations').max(100_000).default(1000),
        seed: seed.default(1),
      })
      .strict(),
  ).returns<{ jobId: string }>(),
  'infer:start': call(
    z
      .object({
        observationId: id,
        estimatorIds: z.array(id).min(1).max(8).optional(),
        nSamples: z.number().int().min(100).max(100_000).default(1000),
        nPredictive: z.number().int().min(0).max(1000).default(50),
        seed: z
          .number()
          .int()
          .min(0)
          .max(2 ** 31)
          .default(1),
      })
      .strict(),
  ).returns<{ jobId: string }>(),
  'report:start': call(
    z
      .object({
        out: filePath.refine((v) => /\.html?$/i.test(v), 'must end in .html'),
        title: str(300).optional(),
        observationIds: z.array(id).max(200).optional(),
        estimatorIds: z.array(id).max(20).optional(),
        pdf: z.boolean().default(false),
        csv: z.boolean().default(false),
      })
      .strict(),
  ).returns<{ jobId: string }>(),
  'report:html': call(z.object({ id }).strict()).returns<{ id: number; title: string; html: string }>(),
  'results:estimators': call(none).returns<EstimatorDetails[]>(),
  'results:restriction': call(none).returns<RestrictionDetails[]>(),
  'results:comparison': call(z.object({ observationId: id }).strict()).returns<ComparisonData>(),
  'results:diagnostics': call(none).returns<DiagnosticsData>(),
} as const;

export type CallName = keyof typeof calls;
export type CallArgs<K extends CallName> = z.input<(typeof calls)[K]['args']>;
export type ParsedArgs<K extends CallName> = z.output<(typeof calls)[K]['args']>;
export type CallResult<K extends CallName> = (typeof calls)[K]['result'];

/** Events pushed from the workbench to every connected UI. */
export type ApiEvent =
  { type: 'job'; status: JobStatus } | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

/** The client-side view of the API: one async function per call, plus the event stream. */
export type WorkbenchApi = { [K in CallName]: (args: CallArgs<K>) => Promise<CallResult<K>> } & {
  onEvent(listener: (event: ApiEvent) => void): () => void;
};

/** The wire envelope of a call's outcome (IPC and HTTP): errors travel as data, not exceptions. */
export type Envelope<R> =
  { ok: true; value: R } | { ok: false; error: { code: ApiErrorCode; message: string } };

export type ApiErrorCode =
  'unknown_call' | 'invalid_argument' | 'not_found' | 'conflict' | 'failed' | 'cancelled';

/** An error that reaches the UI with its code and a message a person can act on. */
export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}
