/**
 * The ONNX contract of exported estimators (docs/onnx-contract.md): metadata encoding and decoding,
 * stamping metadata into model bytes, and the checks applied when a file is loaded.
 *
 * @example
 * const bytes = stampModel(modelBytes, 'sampler', meta);
 * const { meta } = readContractModel(bytes, 'est/sampler.onnx', 'sampler');
 */
import onnxProto from 'onnx-proto';
import type { ZScore } from './data.ts';
import type { Bounds } from './prior.ts';

const { onnx } = onnxProto;

/** Version of the contract written into `adexwb.contract`. */
export const CONTRACT_VERSION = 1;

/** Kinds of density estimator. */
export const ESTIMATOR_KINDS = ['maf', 'nsf', 'mdn'] as const;
export type EstimatorKind = (typeof ESTIMATOR_KINDS)[number];

/** Which of the two exported graphs a file holds. */
export type ContractGraph = 'sampler' | 'log_prob';

/** Everything an exported estimator declares about itself. */
export interface PosteriorMetadata {
  estimator: EstimatorKind;
  thetaDim: number;
  xDim: number;
  noiseDim: number;
  parameterNames: string[];
  parameterUnits: string[];
  bounds: Bounds | null;
  zscoreTheta: ZScore;
  zscoreX: ZScore;
  config: Record<string, unknown>;
  training: Record<string, unknown>;
  trainingDataSha256: string;
  workbenchVersion: string;
}

/** Graph inputs and outputs each file must have, with their ranks. */
export const CONTRACT_IO: Record<
  ContractGraph,
  { inputs: Record<string, number>; outputs: Record<string, number> }
> = {
  sampler: { inputs: { x: 2, noise: 3 }, outputs: { theta: 3 } },
  log_prob: { inputs: { theta: 3, x: 2 }, outputs: { log_prob: 2 } },
};

/** Error for an estimator file that is missing, corrupt, foreign or does not match the data. */
export class ContractError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContractError';
  }
}

/** Metadata as the string map stored in `ModelProto.metadata_props`. */
export function encodeMetadata(meta: PosteriorMetadata, graph: ContractGraph): Record<string, string> {
  return {
    'adexwb.contract': String(CONTRACT_VERSION),
    'adexwb.graph': graph,
    'adexwb.estimator': meta.estimator,
    'adexwb.theta_dim': String(meta.thetaDim),
    'adexwb.x_dim': String(meta.xDim),
    'adexwb.noise_dim': String(meta.noiseDim),
    'adexwb.parameter_names': JSON.stringify(meta.parameterNames),
    'adexwb.parameter_units': JSON.stringify(meta.parameterUnits),
    'adexwb.prior_bounds': JSON.stringify(meta.bounds),
    'adexwb.zscore_theta': JSON.stringify(meta.zscoreTheta),
    'adexwb.zscore_x': JSON.stringify(meta.zscoreX),
    'adexwb.config': JSON.stringify(meta.config),
    'adexwb.training': JSON.stringify(meta.training),
    'adexwb.training_data_sha256': meta.trainingDataSha256,
    'adexwb.workbench_version': meta.workbenchVersion,
  };
}

/** Parse and check the metadata map of one file. @throws ContractError naming the file and key. */
export function decodeMetadata(props: Record<string, string>, file: string): PosteriorMetadata {
  const get = (k: string): string => {
    const v = props[`adexwb.${k}`];
    if (v === undefined) throw new ContractError(`${file}: metadata adexwb.${k} is missing`);
    return v;
  };
  const json = <T>(k: string): T => {
    try {
      return JSON.parse(get(k)) as T;
    } catch (err) {
      if (err instanceof ContractError) throw err;
      throw new ContractError(`${file}: metadata adexwb.${k} is not valid JSON`);
    }
  };
  const int = (k: string): number => {
    const v = Number(get(k));
    if (!Number.isInteger(v) || v < 1)
      throw new ContractError(`${file}: metadata adexwb.${k} is not a positive integer`);
    return v;
  };
  const estimator = get('estimator');
  if (!(ESTIMATOR_KINDS as readonly string[]).includes(estimator)) {
    throw new ContractError(`${file}: unknown estimator type '${estimator}'`);
  }
  const meta: PosteriorMetadata = {
    estimator: estimator as EstimatorKind,
    thetaDim: int('theta_dim'),
    xDim: int('x_dim'),
    noiseDim: int('noise_dim'),
    parameterNames: json<string[]>('parameter_names'),
    parameterUnits: json<string[]>('parameter_units'),
    bounds: json<Bounds | null>('prior_bounds'),
    zscoreTheta: json<ZScore>('zscore_theta'),
    zscoreX: json<ZScore>('zscore_x'),
    config: json<Record<string, unknown>>('config'),
    training: json<Record<string, unknown>>('training'),
    trainingDataSha256: get('training_data_sha256'),
    workbenchVersion: get('workbench_version'),
  };
  const d = meta.thetaDim;
  if (!Array.isArray(meta.parameterNames) || meta.parameterNames.length !== d) {
    throw new ContractError(`${file}: adexwb.parameter_names must list ${d} names`);
  }
  if (!Array.isArray(meta.parameterUnits) || meta.parameterUnits.length !== d) {
    throw new ContractError(`${file}: adexwb.parameter_units must list ${d} units`);
  }
  if (meta.bounds !== null && (meta.bounds.low?.length !== d || meta.bounds.high?.length !== d)) {
    throw new ContractError(`${file}: adexwb.prior_bounds must have ${d} low and high values`);
  }
  return meta;
}

/** Set graph name and contract metadata on serialized model bytes (replacing earlier metadata). */
export function stampModel(bytes: Uint8Array, graph: ContractGraph, meta: PosteriorMetadata): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const props = encodeMetadata(meta, graph);
  model.metadataProps = Object.entries(props).map(([key, value]) =>
    onnx.StringStringEntryProto.create({ key, value }),
  );
  if (model.graph) model.graph.name = `adexwb_${graph}`;
  model.producerName = 'adex-workbench';
  model.producerVersion = meta.workbenchVersion;
  return onnx.ModelProto.encode(model).finish();
}

/**
 * Decode model bytes and check that they are a contract file of the expected kind.
 * @throws ContractError for bytes that are not ONNX (corrupt) or lack the contract (foreign).
 */
export function readContractModel(
  bytes: Uint8Array,
  file: string,
  graph: ContractGraph,
): { meta: PosteriorMetadata } {
  let model: InstanceType<typeof onnx.ModelProto>;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new ContractError(`${file}: not a readable ONNX model (${(err as Error).message})`);
  }
  if (!model.graph || !model.opsetImport || model.opsetImport.length === 0) {
    throw new ContractError(`${file}: not a readable ONNX model (no graph or opset)`);
  }
  const props: Record<string, string> = {};
  for (const p of model.metadataProps ?? []) props[p.key ?? ''] = p.value ?? '';
  if (props['adexwb.contract'] === undefined) {
    throw new ContractError(`${file}: not an adex-workbench estimator (no adexwb.contract metadata)`);
  }
  if (props['adexwb.contract'] !== String(CONTRACT_VERSION)) {
    throw new ContractError(
      `${file}: contract version ${props['adexwb.contract']} is not supported (this workbench reads ${CONTRACT_VERSION})`,
    );
  }
  if (props['adexwb.graph'] !== graph) {
    throw new ContractError(`${file}: holds the '${props['adexwb.graph']}' graph, expected '${graph}'`);
  }
  const io = CONTRACT_IO[graph];
  const check = (
    list: { name?: string | null }[] | null | undefined,
    want: Record<string, number>,
    what: string,
  ) => {
    const names = (list ?? []).map((v) => v.name ?? '');
    for (const n of Object.keys(want)) {
      if (!names.includes(n))
        throw new ContractError(`${file}: graph ${what} '${n}' is missing (has ${names.join(', ')})`);
    }
  };
  const initNames = new Set((model.graph.initializer ?? []).map((t) => t.name));
  check(
    (model.graph.input ?? []).filter((v) => !initNames.has(v.name ?? '')),
    io.inputs,
    'input',
  );
  check(model.graph.output, io.outputs, 'output');
  return { meta: decodeMetadata(props, file) };
}

/** Metadata of the two files must agree (apart from `adexwb.graph`). */
export function checkSameEstimator(a: PosteriorMetadata, b: PosteriorMetadata, dir: string): void {
  if (JSON.stringify(a) !== JSON.stringify(b)) {
    throw new ContractError(
      `${dir}: sampler.onnx and log_prob.onnx come from different estimators (metadata differs)`,
    );
  }
}
