/**
 * Symbolic tensors and the graph that holds them.
 *
 * A `Graph` is an append-only list of nodes in creation order (which is a topological order). Each
 * node applies one primitive op (see `primitives.ts`) to input tensors and yields one or more output
 * tensors with a static dtype and shape. A dimension of `-1` is dynamic (a batch size fixed only when
 * the model runs); every other dimension is known when the graph is built, so shape errors surface
 * while building, not inside onnxruntime.
 *
 * Identical nodes (same op, same inputs, same attributes) are built once: asking twice returns the
 * first node's tensors. Gradient graphs lean on this to stay small.
 */
import type { PrimitiveOp } from './primitives.ts';
import { onesInputName, type RowSource } from './rows.ts';

/** Element types a tensor can hold. Training and inference use float32; gradient checks use float64. */
export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'bool';

/** Static shape; `-1` marks a dynamic dimension (emitted as a symbolic dimension named `<input>_dim<axis>`). */
export type Shape = readonly number[];

/** Attribute values a node carries (ONNX attribute names where the op has an ONNX twin). */
export type AttrValue = number | string | boolean | readonly number[] | null | ConstantData;
export type Attrs = Readonly<Record<string, AttrValue>>;

/** Raw values of a constant tensor. */
export type ConstantData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

/** One application of a primitive op. */
export interface Node {
  readonly id: number;
  readonly op: PrimitiveOp;
  readonly inputs: readonly Tensor[];
  readonly attrs: Attrs;
  readonly outputs: readonly Tensor[];
}

/** A symbolic tensor: one output of one node. Build new tensors with the op functions in `ops*.ts`. */
export class Tensor {
  /** @internal set by Graph.addNode right after construction */
  node!: Node;
  constructor(
    readonly graph: Graph,
    readonly index: number,
    readonly dtype: DType,
    readonly shape: Shape,
  ) {}

  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /** Number of elements, or -1 when a dimension is dynamic. */
  get size(): number {
    return shapeSize(this.shape);
  }

  /** Unique id within the graph (node id and output index). */
  get id(): string {
    return this.index === 0 ? `t${this.node.id}` : `t${this.node.id}_${this.index}`;
  }

  /** True for float32/float64 tensors (the only ones gradients flow through). */
  get isFloat(): boolean {
    return this.dtype === 'float32' || this.dtype === 'float64';
  }

  toString(): string {
    return `${this.node.op} ${this.dtype}${formatShape(this.shape)}`;
  }
}

/** Thrown for shape, dtype and graph-construction errors; the message states expected vs actual. */
export class GraphError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GraphError';
  }
}

/** `[2,3]` / `[N,3]` rendering used in error messages. */
export function formatShape(shape: Shape): string {
  return `[${shape.map((d) => (d === -1 ? 'N' : String(d))).join(',')}]`;
}

/** Product of dimensions, or -1 if any dimension is dynamic. */
export function shapeSize(shape: Shape): number {
  let n = 1;
  for (const d of shape) {
    if (d === -1) return -1;
    n *= d;
  }
  return n;
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_.:/-]*$/;

/** Checks that a graph input/output name is usable in ONNX and by onnxruntime. */
export function checkName(name: string, what: string): void {
  if (!NAME_RE.test(name)) {
    throw new GraphError(
      `${what} name ${JSON.stringify(name)} is invalid: expected a letter or _ then letters, digits, _ . : / -`,
    );
  }
}

/**
 * The container of nodes. Create inputs with `input`, constants with `constant`/`scalar`, and
 * everything else with the op functions.
 *
 * @example
 * const g = new Graph();
 * const x = g.input('x', [-1, 3]);            // float32, dynamic batch
 * const y = mul(x, 2);                        // ops accept plain numbers as scalar constants
 */
export class Graph {
  readonly nodes: Node[] = [];
  private readonly cse = new Map<string, Node>();
  private readonly inputNames = new Set<string>();
  private readonly rowGroups = new Map<string, string>();

  /** A graph input (fed at run time). Names must be unique within the graph. */
  input(name: string, shape: Shape, dtype: DType = 'float32'): Tensor {
    checkName(name, 'input');
    if (this.inputNames.has(name)) throw new GraphError(`input ${JSON.stringify(name)} already exists`);
    checkShape(shape, `input ${name}`);
    this.inputNames.add(name);
    return this.addNode('Input', [], { name }, [{ dtype, shape }], false)[0];
  }

  /** A constant tensor (emitted as an initializer). `values` length must match the shape's size. */
  constant(values: ArrayLike<number> | ConstantData, shape: Shape, dtype: DType = 'float32'): Tensor {
    checkShape(shape, 'constant');
    if (shape.includes(-1)) throw new GraphError('a constant cannot have a dynamic dimension');
    const n = shapeSize(shape);
    if (values.length !== n) {
      throw new GraphError(
        `constant values: expected ${n} values for shape ${formatShape(shape)}, got ${values.length}`,
      );
    }
    const data = toConstantData(values, dtype);
    return this.addNode('Constant', [], { value: data }, [{ dtype, shape }], false)[0];
  }

  /** A scalar (rank-0) constant; identical scalars are shared. */
  scalar(value: number, dtype: DType = 'float32'): Tensor {
    const data = toConstantData([value], dtype);
    return this.addNode(
      'Constant',
      [],
      { value: data, scalar: `${dtype}:${value}` },
      [{ dtype, shape: [] }],
      true,
    )[0];
  }

  /**
   * Adds a node (used by the op functions). Returns its output tensors; with `dedupe` an identical
   * earlier node's outputs are returned instead of a new node.
   */
  addNode(
    op: PrimitiveOp,
    inputs: readonly Tensor[],
    attrs: Attrs,
    outputs: readonly { dtype: DType; shape: Shape }[],
    dedupe = true,
  ): Tensor[] {
    for (const t of inputs) {
      if (t.graph !== this) throw new GraphError(`${op}: input ${t} belongs to another graph`);
    }
    let key: string | undefined;
    if (dedupe) {
      key = `${op}|${inputs.map((t) => t.id).join(',')}|${attrKey(attrs)}`;
      const hit = this.cse.get(key);
      if (hit) return [...hit.outputs];
    }
    const id = this.nodes.length;
    const outs = outputs.map((o, i) => new Tensor(this, i, o.dtype, [...o.shape]));
    const node: Node = { id, op, inputs: [...inputs], attrs, outputs: outs };
    for (const t of outs) t.node = node;
    this.nodes.push(node);
    if (key !== undefined) this.cse.set(key, node);
    return outs;
  }

  /**
   * Declares that these dynamic-batch inputs always have the same number of rows (a training
   * batch's theta and x), so sums over their rows can share one row of ones (see rows.ts). The
   * group is named after the first input; feeding them with different row counts fails at run time.
   */
  sameRows(...inputs: Tensor[]): void {
    for (const t of inputs) {
      if (t.graph !== this || t.node.op !== 'Input' || t.shape[0] !== -1)
        throw new GraphError('sameRows: expected inputs of this graph with a dynamic leading axis');
    }
    const group = this.rowGroupOf(inputs[0].node.attrs.name as string);
    for (const t of inputs) this.rowGroups.set(t.node.attrs.name as string, group);
  }

  /** The row group of an input (its own name unless `sameRows` joined it to another). */
  rowGroupOf(name: string): string {
    return this.rowGroups.get(name) ?? name;
  }

  /**
   * The row of ones as long as `factor` times input `input`'s leading axis: graph input
   * `ones:<factor>:<input>` [-1], created on first use. `Session` feeds it when the caller does not
   * (see rows.ts).
   */
  onesFor(source: RowSource, dtype: DType = 'float32'): Tensor {
    const name = onesInputName(source);
    const existing = this.findInput(name);
    if (existing) {
      if (existing.dtype !== dtype)
        throw new GraphError(`${name} is ${existing.dtype}; a ${dtype} sum cannot share it`);
      return existing;
    }
    return this.input(name, [-1], dtype);
  }

  /** All graph inputs, in creation order. */
  get inputs(): Tensor[] {
    return this.nodes.filter((n) => n.op === 'Input').map((n) => n.outputs[0]);
  }

  /** Looks up an input by name. */
  findInput(name: string): Tensor | undefined {
    return this.inputs.find((t) => t.node.attrs.name === name);
  }
}

function checkShape(shape: Shape, what: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < -1) {
      throw new GraphError(`${what}: shape ${JSON.stringify(shape)} has an invalid dimension ${d}`);
    }
  }
}

function attrKey(attrs: Attrs): string {
  const parts: string[] = [];
  for (const k of Object.keys(attrs).sort()) {
    const v = attrs[k];
    if (ArrayBuffer.isView(v)) parts.push(`${k}=<data>`);
    else parts.push(`${k}=${JSON.stringify(v)}`);
  }
  return parts.join(';');
}

/** Converts numbers to the typed array a constant of `dtype` stores. */
export function toConstantData(values: ArrayLike<number> | ConstantData, dtype: DType): ConstantData {
  switch (dtype) {
    case 'float32':
      return values instanceof Float32Array ? values.slice() : Float32Array.from(values as ArrayLike<number>);
    case 'float64':
      return values instanceof Float64Array ? values.slice() : Float64Array.from(values as ArrayLike<number>);
    case 'int64': {
      if (values instanceof BigInt64Array) return values.slice();
      const out = new BigInt64Array(values.length);
      for (let i = 0; i < values.length; i++) out[i] = BigInt(Math.trunc(Number(values[i])));
      return out;
    }
    case 'int32':
      return values instanceof Int32Array
        ? values.slice()
        : Int32Array.from(values as ArrayLike<number>, (v) => Math.trunc(Number(v)));
    case 'bool': {
      const out = new Uint8Array(values.length);
      for (let i = 0; i < values.length; i++) out[i] = Number(values[i]) ? 1 : 0;
      return out;
    }
  }
}
