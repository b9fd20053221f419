/**
 * onnxruntime-node sessions over emitted (or loaded) models, fed with typed arrays and checked
 * against the model's signature before anything reaches onnxruntime.
 */
import ort from 'onnxruntime-node';
import type { CompiledModel, TensorSpec } from './onnx-model.ts';
import { readModelInfo } from './onnx-model.ts';
import { ONES_PREFIX, parseOnesInput } from './rows.ts';
import { gated } from './run-gate.mjs';
import { type DType, GraphError, formatShape } from './tensor.ts';

/** Typed array matching a dtype. */
export type TypedArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

/** A feed: a typed array (static shapes) or data with explicit dims, or an onnxruntime tensor. */
export type Feed = TypedArray | { data: TypedArray; dims: readonly number[] } | ort.Tensor;

/** Options for `Session.create`. */
export interface SessionOptions {
  /** Intra-op threads (default 1: at these model sizes one thread is fastest, see docs/graph.md). */
  threads?: number;
}

/** The onnxruntime options of every session (here and in a SessionPool's workers). */
export function sessionOptions(threads: number): ort.InferenceSession.SessionOptions {
  return {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  };
}

const ORT_TYPE: Record<DType, ort.Tensor.Type> = {
  float32: 'float32',
  float64: 'float64',
  int64: 'int64',
  int32: 'int32',
  bool: 'bool',
};

/** The dtype of a typed array (or, for anything else, its type's name). */
export function arrayDtype(a: unknown): DType | string {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof BigInt64Array) return 'int64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint8Array) return 'bool';
  return (a as object)?.constructor?.name ?? typeof a;
}

/**
 * An onnxruntime inference session with signature checks.
 *
 * @example
 * const s = await Session.create(emitModel({ outputs: { y } }));
 * const { y } = await s.run({ x: new Float32Array(6) });   // y is an ort.Tensor; y.data is a Float32Array
 */
export class Session {
  /** The `ones:<factor>:<input>` inputs, and the rows of ones fed to them, by dtype and length. */
  private readonly onesInputs: readonly TensorSpec[];
  private readonly ones = new Map<string, ort.Tensor>();

  private constructor(
    readonly ort: ort.InferenceSession,
    readonly inputs: readonly TensorSpec[],
    readonly outputs: readonly TensorSpec[],
    readonly metadata: Readonly<Record<string, string>>,
  ) {
    this.onesInputs = inputs.filter((i) => i.name.startsWith(ONES_PREFIX));
  }

  /** Creates a session from an emitted model or raw ONNX bytes (graphOptimizationLevel 'all'). */
  static async create(model: CompiledModel | Uint8Array, opts: SessionOptions = {}): Promise<Session> {
    const bytes = model instanceof Uint8Array ? model : model.bytes;
    const info = model instanceof Uint8Array ? readModelInfo(bytes) : model;
    const threads = opts.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1)
      throw new RangeError(`threads must be a positive integer, got ${threads}`);
    let session: ort.InferenceSession;
    try {
      session = await gated(() => ort.InferenceSession.create(bytes, sessionOptions(threads)));
    } catch (e) {
      throw new GraphError(`onnxruntime could not load the model: ${(e as Error).message}`);
    }
    return new Session(session, info.inputs, info.outputs, info.metadata);
  }

  /** Converts and checks one feed against the input spec of the same name. */
  toTensor(name: string, feed: Feed): ort.Tensor {
    const spec = this.inputs.find((i) => i.name === name);
    if (!spec)
      throw new GraphError(
        `unknown input ${name}; the model takes ${this.inputs.map((i) => i.name).join(', ')}`,
      );
    let t: ort.Tensor;
    if (feed instanceof ort.Tensor) t = feed;
    else {
      const data = (ArrayBuffer.isView(feed) ? feed : feed.data) as TypedArray;
      let dims = ArrayBuffer.isView(feed) ? null : [...feed.dims];
      const dt = arrayDtype(data);
      if (dt !== spec.dtype) throw new GraphError(`input ${name}: expected ${spec.dtype} data, got ${dt}`);
      if (!dims) {
        if (spec.shape.includes(-1)) {
          const known = spec.shape.reduce((p, d) => (d === -1 ? p : p * d), 1);
          if (spec.shape.filter((d) => d === -1).length !== 1 || known === 0 || data.length % known !== 0) {
            throw new GraphError(
              `input ${name}: ${data.length} values do not fit shape ${formatShape(spec.shape)}`,
            );
          }
          dims = spec.shape.map((d) => (d === -1 ? data.length / known : d));
        } else dims = [...spec.shape];
      }
      const n = dims.reduce((p, d) => p * d, 1);
      if (n !== data.length) {
        throw new GraphError(
          `input ${name}: shape ${formatShape(dims)} needs ${n} values, got ${data.length}`,
        );
      }
      t = new ort.Tensor(ORT_TYPE[spec.dtype], data as never, dims);
    }
    if (t.type !== ORT_TYPE[spec.dtype])
      throw new GraphError(`input ${name}: expected ${spec.dtype}, got ${t.type}`);
    const ok =
      t.dims.length === spec.shape.length &&
      t.dims.every((d, i) => spec.shape[i] === -1 || spec.shape[i] === d);
    if (!ok)
      throw new GraphError(
        `input ${name}: expected shape ${formatShape(spec.shape)}, got ${formatShape(t.dims)}`,
      );
    return t;
  }

  /**
   * Adds the `ones:<factor>:<input>` inputs (rows of ones that sum bias gradients, see rows.ts) to
   * checked feeds when the model takes them and they are not fed: factor times as long as that
   * input's leading axis. Returns a new record when it adds any (the caller's is left as it was).
   */
  withOnes(tensors: Record<string, ort.Tensor>): Record<string, ort.Tensor> {
    let out = tensors;
    for (const spec of this.onesInputs) {
      if (tensors[spec.name]) continue;
      const src = parseOnesInput(spec.name);
      const source = src ? tensors[src.input] : undefined;
      if (!src || !source)
        throw new GraphError(
          `input ${spec.name} is derived from input ${src?.input ?? '?'}, which is not fed`,
        );
      const n = source.dims[0] * src.factor;
      const key = `${spec.dtype}:${n}`;
      let ones = this.ones.get(key);
      if (!ones) {
        const data = spec.dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
        ones = new ort.Tensor(ORT_TYPE[spec.dtype], data.fill(1), [n]);
        // Training feeds one or two batch sizes (the full batch and the last one); a caller with
        // ever-changing sizes must not grow the cache without bound.
        if (this.ones.size >= 8) this.ones.clear();
        this.ones.set(key, ones);
      }
      if (out === tensors) out = { ...tensors };
      out[spec.name] = ones;
    }
    return out;
  }

  /** Runs the model. Every input must be fed; returns all outputs (or the requested ones). */
  async run(feeds: Record<string, Feed>, outputs?: readonly string[]): Promise<Record<string, ort.Tensor>> {
    const tensors: Record<string, ort.Tensor> = {};
    for (const spec of this.inputs) {
      const f = feeds[spec.name];
      if (f === undefined && spec.name.startsWith(ONES_PREFIX)) continue;
      if (f === undefined)
        throw new GraphError(`missing input ${spec.name} ${spec.dtype}${formatShape(spec.shape)}`);
      tensors[spec.name] = this.toTensor(spec.name, f);
    }
    for (const k of Object.keys(feeds)) {
      if (!(k in tensors))
        throw new GraphError(
          `unknown input ${k}; the model takes ${this.inputs.map((i) => i.name).join(', ')}`,
        );
    }
    const all = this.withOnes(tensors);
    const res = await gated(() => (outputs ? this.ort.run(all, [...outputs]) : this.ort.run(all)));
    return res as Record<string, ort.Tensor>;
  }

  /** Runs with already-checked onnxruntime tensors (the hot path of training loops). */
  async runRaw(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
    return (await gated(() => this.ort.run(this.withOnes(feeds)))) as Record<string, ort.Tensor>;
  }

  /** Frees the native session. */
  async release(): Promise<void> {
    await gated(() => this.ort.release());
  }
}

export { ort };
