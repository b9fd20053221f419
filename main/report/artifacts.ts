/**
 * The project artifacts a report reads, with one builder per kind (for the pipeline that writes
 * them) and one reader (for `buildReportModel`). Each kind is stored through
 * `project.artifacts.create(...)` as JSON metadata plus little-endian typed-array bytes:
 *
 * | kind                | links                          | json                                                   | bytes                                   |
 * |---------------------|--------------------------------|--------------------------------------------------------|-----------------------------------------|
 * | `predictive-traces` | posteriorId (+ obs, estimator) | { n, samples, sampleRate, unit, spikeOffsets?, spikeTimes? } | n x samples Int16 codes or Float32 volts |
 * | `summary-agreement` | posteriorId (+ obs, estimator) | { rows: SummaryAgreementRow[], units?: string[] }      | none                                    |
 * | `calibration`       | estimatorId (+ held-out set)   | { nObs, nSamples, paramNames, coverage, seed? }        | nObs x nParams Int32 SBC ranks          |
 * | `chip-map`          | estimatorId                    | { circuits, paramNames, chipSeed?, grid? }             | Float32 medians then stds (circuits x nParams each) |
 *
 * Posterior diagnostics (`posterior.diagnostics`) may carry `seed` and `logProbTrue`; an
 * observation's `meta.spikeTimes` (µs) marks its spikes; a restriction classifier's `stats` carry the
 * restriction numbers (see `readRestrictionStats`).
 */
import { z } from 'zod';
import type { SummaryAgreementRow } from '../diagnostics/predictive.ts';
import type { CoverageCurve } from '../diagnostics/coverage.ts';
import type { Artifact, ArtifactInput, Links } from '../store/index.ts';
import type { SimulationSetInfo, Trace } from './model.ts';

/** Artifact kinds read by reports. */
export const REPORT_ARTIFACT_KINDS = {
  predictive: 'predictive-traces',
  agreement: 'summary-agreement',
  calibration: 'calibration',
  chipMap: 'chip-map',
} as const;

/** An artifact that does not have the layout of its kind; the message names the artifact and field. */
export class ReportArtifactError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportArtifactError';
  }
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

function typed<T extends Int16Array | Int32Array | Float32Array>(
  a: Artifact,
  Ctor: { new (buf: ArrayBuffer): T; BYTES_PER_ELEMENT: number },
  count: number,
): T {
  const b = a.bytes;
  if (!b) throw new ReportArtifactError(`artifact ${a.id} (${a.kind}) has no data bytes`);
  if (b.byteLength !== count * Ctor.BYTES_PER_ELEMENT) {
    throw new ReportArtifactError(
      `artifact ${a.id} (${a.kind}) has ${b.byteLength} data bytes, expected ${count} values of ${Ctor.BYTES_PER_ELEMENT} bytes`,
    );
  }
  return new Ctor(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
}

function parse<T>(a: Artifact, schema: z.ZodType<T>): T {
  const r = schema.safeParse(a.json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ReportArtifactError(`artifact ${a.id} (${a.kind}): ${i.path.join('.') || 'json'} ${i.message}`);
  }
  return r.data;
}

const count = z.number().int().nonnegative();

// --- predictive traces --------------------------------------------------------------------

const predictiveSchema = z.object({
  n: count.optional(),
  samples: z.number().int().positive(),
  sampleRate: z.number().positive().optional(),
  unit: z.enum(['codes', 'volts']).optional(),
  spikeOffsets: z.array(count).optional(),
  spikeTimes: z.array(z.number()).optional(),
});

/** Posterior-predictive traces of one posterior, as an artifact to store. */
export function predictiveTracesArtifact(
  links: Links,
  t: {
    data: Int16Array | Float32Array;
    n: number;
    samples: number;
    sampleRate: number;
    spikeTimes?: Float32Array;
    spikeOffsets?: Int32Array;
  },
): ArtifactInput {
  if (t.data.length !== t.n * t.samples) {
    throw new RangeError(
      `predictive traces: data has ${t.data.length} values, expected ${t.n} x ${t.samples}`,
    );
  }
  return {
    kind: REPORT_ARTIFACT_KINDS.predictive,
    ...links,
    json: {
      n: t.n,
      samples: t.samples,
      sampleRate: t.sampleRate,
      unit: t.data instanceof Int16Array ? 'codes' : 'volts',
      ...(t.spikeOffsets && t.spikeTimes
        ? { spikeOffsets: [...t.spikeOffsets], spikeTimes: [...t.spikeTimes] }
        : {}),
    },
    bytes: bytesOf(t.data),
  };
}

/** Display unit of stored trace data. */
export function traceUnit(unit: 'codes' | 'volts'): string {
  return unit === 'codes' ? 'MADC LSB' : 'V';
}

/**
 * The traces of a `predictive-traces` artifact. The pipeline's layout (json `{ samples }` and Int16
 * codes only) is read too: the trace count then follows from the byte length and the sampling rate
 * from `fallbackSampleRate` (the observation's).
 */
export function readPredictiveTraces(a: Artifact, fallbackSampleRate?: number): Trace[] {
  const j = parse(a, predictiveSchema);
  const unit = j.unit ?? 'codes';
  const width = unit === 'codes' ? 2 : 4;
  const n = j.n ?? Math.floor((a.bytes?.byteLength ?? 0) / (width * j.samples));
  const sampleRate = j.sampleRate ?? fallbackSampleRate;
  if (!sampleRate) throw new ReportArtifactError(`artifact ${a.id} (${a.kind}) gives no sampling rate`);
  const data = unit === 'codes' ? typed(a, Int16Array, n * j.samples) : typed(a, Float32Array, n * j.samples);
  if (j.spikeOffsets && j.spikeOffsets.length !== n + 1) {
    throw new ReportArtifactError(
      `artifact ${a.id} (${a.kind}): spikeOffsets has ${j.spikeOffsets.length} entries, expected ${n + 1}`,
    );
  }
  return Array.from({ length: n }, (_, i) => ({
    values: Float32Array.from(data.subarray(i * j.samples, (i + 1) * j.samples)),
    sampleRate,
    unit: traceUnit(unit),
    spikeTimes:
      j.spikeOffsets && j.spikeTimes
        ? j.spikeTimes.slice(j.spikeOffsets[i], j.spikeOffsets[i + 1])
        : undefined,
  }));
}

// --- summary agreement --------------------------------------------------------------------

const num = z.union([z.number(), z.null()]).transform((v) => (v === null ? NaN : v));
const agreementSchema = z.object({
  rows: z.array(z.object({ name: z.string(), observed: num, q05: num, q50: num, q95: num })),
  units: z.array(z.string()).optional(),
});

/** Summary-statistic agreement rows (from `summaryAgreement`) of one posterior, as an artifact. JSON has no NaN: they become null. */
export function summaryAgreementArtifact(
  links: Links,
  rows: SummaryAgreementRow[],
  units?: string[],
): ArtifactInput {
  const clean = (v: number) => (Number.isFinite(v) ? v : null);
  return {
    kind: REPORT_ARTIFACT_KINDS.agreement,
    ...links,
    json: {
      rows: rows.map((r) => ({
        ...r,
        observed: clean(r.observed),
        mean: clean(r.mean),
        std: clean(r.std),
        q05: clean(r.q05),
        q50: clean(r.q50),
        q95: clean(r.q95),
        z: clean(r.z),
      })),
      ...(units ? { units } : {}),
    },
  };
}

/** One row of a summary agreement as the report shows it. */
export interface AgreementRow {
  name: string;
  unit: string;
  observed: number;
  median: number;
  q05: number;
  q95: number;
}

/**
 * Summary agreement rows stored in a posterior's diagnostics by the pipeline
 * (`diagnostics.summaries`: `SummaryAgreementRow[]`, NaN written as null); `unitOf` names each
 * statistic's unit. Undefined when the diagnostics hold no such rows.
 */
export function agreementFromDiagnostics(
  rows: unknown,
  unitOf: (name: string) => string,
): AgreementRow[] | undefined {
  const r = agreementSchema.shape.rows.safeParse(rows);
  if (!r.success || r.data.length === 0) return undefined;
  return r.data.map((x) => ({
    name: x.name,
    unit: unitOf(x.name),
    observed: x.observed,
    median: x.q50,
    q05: x.q05,
    q95: x.q95,
  }));
}

/** Rows of a `summary-agreement` artifact: name, unit, observed value and predictive median/q05/q95. */
export function readSummaryAgreement(a: Artifact): AgreementRow[] {
  const j = parse(a, agreementSchema);
  return j.rows.map((r, k) => ({
    name: r.name,
    unit: j.units?.[k] ?? '',
    observed: r.observed,
    median: r.q50,
    q05: r.q05,
    q95: r.q95,
  }));
}

// --- calibration --------------------------------------------------------------------------

const calibrationSchema = z.object({
  nObs: z.number().int().positive(),
  nSamples: z.number().int().positive(),
  paramNames: z.array(z.string()).min(1),
  coverage: z.object({
    levels: z.array(z.number()),
    coverage: z.array(z.number()),
    kind: z.string().optional(),
  }),
  seed: z.number().optional(),
});

/** SBC ranks and a coverage curve of one estimator, as an artifact (ranks nObs x nParams Int32). */
export function calibrationArtifact(
  links: Links,
  c: {
    ranks: Int32Array;
    nObs: number;
    nSamples: number;
    paramNames: string[];
    coverage: Pick<CoverageCurve, 'levels' | 'coverage'>;
    coverageKind?: string;
    seed?: number;
  },
): ArtifactInput {
  if (c.ranks.length !== c.nObs * c.paramNames.length) {
    throw new RangeError(
      `calibration: ranks has ${c.ranks.length} values, expected ${c.nObs} x ${c.paramNames.length}`,
    );
  }
  return {
    kind: REPORT_ARTIFACT_KINDS.calibration,
    ...links,
    json: {
      nObs: c.nObs,
      nSamples: c.nSamples,
      paramNames: c.paramNames,
      coverage: {
        levels: c.coverage.levels,
        coverage: c.coverage.coverage,
        ...(c.coverageKind ? { kind: c.coverageKind } : {}),
      },
      ...(c.seed !== undefined ? { seed: c.seed } : {}),
    },
    bytes: bytesOf(c.ranks),
  };
}

/** What a calibration artifact holds, in the report's terms. */
export interface CalibrationContent {
  nObs: number;
  nSamples: number;
  paramNames: string[];
  ranks: Int32Array;
  levels: number[];
  coverage: number[];
  kind?: string;
  seed?: number;
}

const curveSchema = z.object({ levels: z.array(z.number()), coverage: z.array(z.number()) });
const pipelineCalibrationSchema = z.object({
  hpd: curveSchema.nullable().optional(),
  marginal: z.array(curveSchema).optional(),
});
const sbcRanksSchema = z.object({
  nObs: z.number().int().positive(),
  nSamples: z.number().int().positive(),
  thetaDim: z.number().int().positive(),
});

/**
 * A calibration in the pipeline's layout: a `calibration` artifact with json `{ hpd, marginal, ... }`
 * (coverage curves) and an `sbc-ranks` artifact (json `{ nObs, nSamples, thetaDim }`, Int32 ranks)
 * whose columns follow the experiment's parameter order `paramNames`. The joint HPD curve is used
 * when present, else the mean of the marginal curves.
 */
function readPipelineCalibration(
  a: Artifact,
  ranksArt: Artifact | undefined,
  paramNames: string[],
): CalibrationContent {
  const j = parse(a, pipelineCalibrationSchema);
  if (!ranksArt)
    throw new ReportArtifactError(
      `calibration artifact ${a.id} has no 'sbc-ranks' artifact for the same estimator`,
    );
  const r = parse(ranksArt, sbcRanksSchema);
  if (r.thetaDim !== paramNames.length) {
    throw new ReportArtifactError(
      `artifact ${ranksArt.id} (sbc-ranks) has ${r.thetaDim} parameters, the experiment ${paramNames.length}`,
    );
  }
  const ranks = typed(ranksArt, Int32Array, r.nObs * r.thetaDim);
  let levels: number[] = [];
  let coverage: number[] = [];
  let kind: string | undefined;
  if (j.hpd) [levels, coverage, kind] = [j.hpd.levels, j.hpd.coverage, 'joint HPD'];
  else if (j.marginal && j.marginal.length) {
    levels = j.marginal[0].levels;
    coverage = levels.map(
      (_, i) => j.marginal!.reduce((acc, c) => acc + c.coverage[i], 0) / j.marginal!.length,
    );
    kind = 'marginal (mean over parameters)';
  }
  if (levels.length !== coverage.length) {
    throw new ReportArtifactError(
      `artifact ${a.id} (${a.kind}): coverage has ${levels.length} levels but ${coverage.length} values`,
    );
  }
  return { nObs: r.nObs, nSamples: r.nSamples, paramNames, ranks, levels, coverage, kind };
}

/**
 * A calibration artifact's content, in the report's layout (json with `paramNames` and `coverage`,
 * Int32 ranks as bytes) or the pipeline's (see `readPipelineCalibration`; needs its `sbc-ranks`
 * artifact and the experiment's parameter names).
 */
export function readCalibration(
  a: Artifact,
  pipeline?: { ranks?: Artifact; paramNames: string[] },
): CalibrationContent {
  const json = a.json as Record<string, unknown> | null;
  if (
    pipeline &&
    json &&
    typeof json === 'object' &&
    ('hpd' in json || 'marginal' in json) &&
    !('paramNames' in json)
  ) {
    return readPipelineCalibration(a, pipeline.ranks, pipeline.paramNames);
  }
  const j = parse(a, calibrationSchema);
  if (j.coverage.levels.length !== j.coverage.coverage.length) {
    throw new ReportArtifactError(
      `artifact ${a.id} (${a.kind}): coverage has ${j.coverage.levels.length} levels but ${j.coverage.coverage.length} values`,
    );
  }
  const ranks = typed(a, Int32Array, j.nObs * j.paramNames.length);
  return {
    nObs: j.nObs,
    nSamples: j.nSamples,
    paramNames: j.paramNames,
    ranks,
    levels: j.coverage.levels,
    coverage: j.coverage.coverage,
    kind: j.coverage.kind,
    seed: j.seed,
  };
}

// --- chip map -----------------------------------------------------------------------------

const chipSchema = z.object({
  circuits: z.number().int().positive(),
  paramNames: z.array(z.string()).min(1),
  /** Which per-circuit centre the first block holds; the pipeline stores means (and says `nominal`). */
  statistic: z.enum(['median', 'mean']).optional(),
  nominal: z.array(z.number()).optional(),
  chipSeed: z.number().optional(),
  grid: z.object({ rows: z.number().int().positive(), cols: z.number().int().positive() }).optional(),
});

/** Per-circuit posterior medians and stds of one estimator over a chip, as an artifact. */
export function chipMapArtifact(
  links: Links,
  c: {
    circuits: number;
    paramNames: string[];
    medians: Float32Array;
    stds: Float32Array;
    chipSeed?: number;
    grid?: { rows: number; cols: number };
  },
): ArtifactInput {
  const n = c.circuits * c.paramNames.length;
  if (c.medians.length !== n || c.stds.length !== n) {
    throw new RangeError(
      `chip map: medians/stds have ${c.medians.length}/${c.stds.length} values, expected ${c.circuits} x ${c.paramNames.length}`,
    );
  }
  const both = new Float32Array(2 * n);
  both.set(c.medians, 0);
  both.set(c.stds, n);
  return {
    kind: REPORT_ARTIFACT_KINDS.chipMap,
    ...links,
    json: {
      circuits: c.circuits,
      paramNames: c.paramNames,
      statistic: 'median',
      ...(c.chipSeed !== undefined ? { chipSeed: c.chipSeed } : {}),
      ...(c.grid ? { grid: c.grid } : {}),
    },
    bytes: bytesOf(both),
  };
}

/**
 * A `chip-map` artifact's content: per-circuit centres (`statistic`: medians, or means in the
 * pipeline's layout) and standard deviations; circuits without a usable trace hold NaN.
 */
export function readChipMap(a: Artifact): {
  circuits: number;
  paramNames: string[];
  statistic: 'median' | 'mean';
  medians: Float32Array;
  stds: Float32Array;
  chipSeed?: number;
  grid?: { rows: number; cols: number };
} {
  const j = parse(a, chipSchema);
  const n = j.circuits * j.paramNames.length;
  const both = typed(a, Float32Array, 2 * n);
  const statistic = j.statistic ?? (j.nominal ? 'mean' : 'median');
  return {
    circuits: j.circuits,
    paramNames: j.paramNames,
    statistic,
    chipSeed: j.chipSeed,
    grid: j.grid,
    medians: both.slice(0, n),
    stds: both.slice(n),
  };
}

// --- restriction statistics ---------------------------------------------------------------

const maybeNum = z.number().optional();
const statsSchema = z.object({
  initialCount: maybeNum,
  initialSims: maybeNum,
  spikeCountRange: z.tuple([z.number(), z.number()]).optional(),
  regime: z.object({ minSpikes: z.number(), maxSpikes: z.number() }).partial().optional(),
  usefulBefore: maybeNum,
  usefulAfter: maybeNum,
  usefulAfterEstimate: maybeNum,
  falseNegativeRate: maybeNum,
  acceptanceRate: maybeNum,
  invalidCount: maybeNum,
  validationFalseNegativeRate: maybeNum,
  spikeCounts: z.object({ invalid: z.number() }).partial().optional(),
  spikeCountHistogram: z.object({ invalid: z.number() }).partial().optional(),
});

/**
 * Restriction numbers from a classifier's `stats` JSON. Accepts the names of the pipeline's
 * `RestrictionResult` and stored stats (usefulAfterEstimate, spikeCounts.invalid or
 * spikeCountHistogram.invalid, validationFalseNegativeRate, regime.minSpikes/maxSpikes, initialSims) and the report's own (usefulAfter, invalidCount, spikeCountRange, initialCount);
 * numbers that are absent come back as NaN and show as '–'.
 */
export function readRestrictionStats(
  stats: unknown,
  threshold: number,
  classifierHash?: string,
): NonNullable<SimulationSetInfo['restriction']> {
  const r = statsSchema.safeParse(stats ?? {});
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ReportArtifactError(`restriction classifier stats: ${i.path.join('.')} ${i.message}`);
  }
  const s = r.data;
  const range: [number, number] = s.spikeCountRange ?? [
    s.regime?.minSpikes ?? NaN,
    s.regime?.maxSpikes ?? NaN,
  ];
  return {
    initialCount: s.initialCount ?? s.initialSims ?? NaN,
    spikeCountRange: range,
    usefulBefore: s.usefulBefore ?? NaN,
    usefulAfter: s.usefulAfter ?? s.usefulAfterEstimate ?? NaN,
    falseNegativeRate: s.falseNegativeRate ?? NaN,
    threshold,
    acceptanceRate: s.acceptanceRate,
    invalidCount: s.invalidCount ?? s.spikeCounts?.invalid ?? s.spikeCountHistogram?.invalid,
    validationFalseNegativeRate: s.validationFalseNegativeRate,
    classifierHash,
  };
}
