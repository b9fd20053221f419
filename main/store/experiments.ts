/**
 * Experiments: what was simulated or recorded and what is inferred. An experiment holds the
 * stimulus protocol, the values of the fixed (not inferred) parameters, the prior (names, units,
 * bounds) and the backend (emulator mode and chip seed, or a hardware device id).
 */
import { z } from 'zod';
import type { EmulatorMode, ParamSpace, StimulusProtocol } from '../emulator/backend.ts';
import {
  NotFoundError,
  contentHash,
  parseJson,
  rowProvenance,
  stamp,
  type Provenance,
  type StoreDb,
} from './db.ts';

/** A box-uniform prior over the inferred parameters, in the experiment's parameter space. */
export interface PriorSpec {
  names: string[];
  /** Unit of each parameter, e.g. 'nS', 'mV', 'ms', 'LSB'. */
  units: string[];
  low: number[];
  high: number[];
}

/** Where simulations of the experiment run. */
export type BackendSpec =
  { kind: 'emulator'; mode: EmulatorMode; chipSeed?: number } | { kind: 'hardware'; deviceId: string };

/** Everything that defines an experiment. */
export interface ExperimentSpec {
  name: string;
  stimulus: StimulusProtocol;
  /** Values of the parameters that are not inferred, by name, in `space` units. */
  fixed: Record<string, number>;
  prior: PriorSpec;
  backend: BackendSpec;
  space: ParamSpace;
  /** Recording length in hardware microseconds. */
  duration: number;
  notes?: string;
}

/** A stored experiment. */
export interface Experiment extends ExperimentSpec, Provenance {
  id: number;
}

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const stimulusSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('step'),
    onset: finite,
    duration: finite.refine((v) => v >= 0, 'must be >= 0'),
    amplitude: finite,
  }),
  z.object({
    kind: z.literal('piecewise'),
    segments: z.array(z.object({ start: finite, amplitude: finite })).min(1),
  }),
]);
const experimentSchema = z.object({
  name: z.string().min(1),
  stimulus: stimulusSchema,
  fixed: z.record(z.string(), finite),
  prior: z
    .object({
      names: z.array(z.string().min(1)).min(1),
      units: z.array(z.string()),
      low: z.array(finite),
      high: z.array(finite),
    })
    .superRefine((p, ctx) => {
      const n = p.names.length;
      for (const k of ['units', 'low', 'high'] as const) {
        if (p[k].length !== n)
          ctx.addIssue({
            code: 'custom',
            path: [k],
            message: `has ${p[k].length} entries, prior.names has ${n}`,
          });
      }
      p.low.forEach((lo, i) => {
        if (!(lo < p.high[i]))
          ctx.addIssue({
            code: 'custom',
            path: ['low', i],
            message: `${p.names[i]}: low ${lo} is not below high ${p.high[i]}`,
          });
      });
      if (new Set(p.names).size !== n)
        ctx.addIssue({ code: 'custom', path: ['names'], message: 'names repeat' });
    }),
  backend: z.discriminatedUnion('kind', [
    z.object({
      kind: z.literal('emulator'),
      mode: z.enum(['ideal', 'hardware']),
      chipSeed: z.number().int().optional(),
    }),
    z.object({ kind: z.literal('hardware'), deviceId: z.string().min(1) }),
  ]),
  space: z.enum(['model', 'capmem']),
  duration: finite.refine((v) => v > 0, 'must be positive'),
  notes: z.string().optional(),
});

/** Validate an experiment specification; throws a RangeError listing every problem by field. */
export function validateExperimentSpec(spec: unknown): ExperimentSpec {
  const r = experimentSchema.safeParse(spec);
  if (!r.success) {
    const msg = r.error.issues.map((i) => `${i.path.join('.') || 'experiment'}: ${i.message}`).join('; ');
    throw new RangeError(`invalid experiment: ${msg}`);
  }
  return r.data as ExperimentSpec;
}

interface Row {
  id: number;
  name: string;
  stimulus: string;
  fixed: string;
  prior: string;
  backend: string;
  settings: string;
  created_at: string;
  content_hash: string;
  workbench_version: string;
}

function fromRow(r: Row): Experiment {
  const settings = parseJson<{ space: ParamSpace; duration: number; notes?: string }>(r.settings);
  return {
    id: r.id,
    name: r.name,
    stimulus: parseJson(r.stimulus),
    fixed: parseJson(r.fixed),
    prior: parseJson(r.prior),
    backend: parseJson(r.backend),
    space: settings.space,
    duration: settings.duration,
    ...(settings.notes !== undefined ? { notes: settings.notes } : {}),
    ...rowProvenance(r),
  };
}

/** Typed access to the experiments of a project. */
export class ExperimentRepository {
  constructor(private readonly s: StoreDb) {}

  /** Store a new experiment (validated first) and return it with its id and provenance. */
  create(spec: ExperimentSpec): Experiment {
    this.s.assertWritable('create an experiment');
    const v = validateExperimentSpec(spec);
    const p = stamp(contentHash({ ...v, name: undefined }));
    const settings = {
      space: v.space,
      duration: v.duration,
      ...(v.notes !== undefined ? { notes: v.notes } : {}),
    };
    const { lastInsertRowid } = this.s
      .stmt(
        `INSERT INTO experiments (name, stimulus, fixed, prior, backend, settings, created_at, content_hash, workbench_version)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        v.name,
        JSON.stringify(v.stimulus),
        JSON.stringify(v.fixed),
        JSON.stringify(v.prior),
        JSON.stringify(v.backend),
        JSON.stringify(settings),
        p.createdAt,
        p.contentHash,
        p.workbenchVersion,
      );
    return this.get(Number(lastInsertRowid));
  }

  /** The experiment with this id; throws NotFoundError. */
  get(id: number): Experiment {
    const r = this.s.stmt('SELECT * FROM experiments WHERE id = ?').get(id) as Row | undefined;
    if (!r) throw new NotFoundError('experiment', id);
    return fromRow(r);
  }

  /** All experiments, oldest first. */
  list(): Experiment[] {
    return (this.s.stmt('SELECT * FROM experiments ORDER BY id').all() as Row[]).map(fromRow);
  }

  /** Delete an experiment; refused (with the reason) while simulation sets still belong to it. */
  delete(id: number): void {
    this.s.assertWritable('delete an experiment');
    const n = (
      this.s.stmt('SELECT count(*) AS n FROM simulation_sets WHERE experiment_id = ?').get(id) as {
        n: number;
      }
    ).n;
    if (n > 0) throw new Error(`experiment ${id} still has ${n} simulation set(s); delete them first`);
    if (this.s.stmt('DELETE FROM experiments WHERE id = ?').run(id).changes === 0)
      throw new NotFoundError('experiment', id);
  }
}
