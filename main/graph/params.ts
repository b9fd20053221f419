/**
 * Trainable parameters stored in ONE flat buffer.
 *
 * A `ParameterSet` owns a graph input (default name `params`) of shape [P]. Each `add` reserves a
 * contiguous range and returns a view tensor of the requested shape. When emitted, all views of a
 * buffer become a single ONNX Split plus a Reshape per multi-dimensional view, and `grad(loss,
 * [set.flat])` returns the gradient of the whole buffer as one Concat, so the optimizer updates
 * the whole buffer with a handful of nodes.
 *
 * @example
 * const params = new ParameterSet(g);
 * const w = params.add('l1.weight', [27, 50], kaimingUniform(27));
 * const b = params.add('l1.bias', [50], kaimingUniform(27));
 * const values = params.initialValues(new Rng(0));    // Float32Array of params.size
 */
import {
  type DType,
  type Shape,
  Tensor,
  type Graph,
  GraphError,
  checkName,
  formatShape,
  shapeSize,
} from './tensor.ts';
import { type Initializer, Rng } from './init.ts';

/** One parameter's place in the flat buffer. */
export interface ParameterEntry {
  readonly name: string;
  readonly shape: Shape;
  readonly offset: number;
  readonly size: number;
  readonly init: Initializer;
  /** The view tensor used in the graph. */
  readonly view: Tensor;
}

/** A flat parameter buffer and named views into it. */
export class ParameterSet {
  readonly entries: ParameterEntry[] = [];
  private readonly flatTensor: Tensor;
  private total = 0;
  private readonly byName = new Map<string, ParameterEntry>();

  constructor(
    readonly graph: Graph,
    readonly name = 'params',
    readonly dtype: DType & ('float32' | 'float64') = 'float32',
  ) {
    checkName(name, 'parameter buffer');
    this.flatTensor = graph.input(name, [0], dtype);
  }

  /**
   * Reserves a parameter and returns its view. All parameters must be added before the graph is
   * emitted (the buffer size is fixed at emission).
   */
  add(name: string, shape: Shape, init: Initializer): Tensor {
    if (this.byName.has(name)) throw new GraphError(`parameter ${JSON.stringify(name)} already exists`);
    const size = shapeSize(shape);
    if (size <= 0)
      throw new GraphError(`parameter ${name}: shape ${formatShape(shape)} must be static and non-empty`);
    const view = this.graph.addNode(
      'ParamSlice',
      [this.flat],
      { offset: this.total, size, shape: [...shape], set: this.name },
      [{ dtype: this.dtype, shape }],
      false,
    )[0];
    const entry: ParameterEntry = { name, shape: [...shape], offset: this.total, size, init, view };
    this.entries.push(entry);
    this.byName.set(name, entry);
    this.total += size;
    // The buffer input's shape is this set's running total (the array is owned by this set).
    (this.flat.shape as number[])[0] = this.total;
    return view;
  }

  /** The flat buffer input [P] (P grows while parameters are added). */
  get flat(): Tensor {
    return this.flatTensor;
  }

  /** Total number of scalars. */
  get size(): number {
    return this.total;
  }

  /** The entry for a parameter name. */
  get(name: string): ParameterEntry {
    const e = this.byName.get(name);
    if (!e) throw new GraphError(`unknown parameter ${JSON.stringify(name)}`);
    return e;
  }

  /** Fresh initial values from each parameter's initializer, in order, using one seeded stream. */
  initialValues(rng: Rng | number): Float32Array {
    const r = typeof rng === 'number' ? new Rng(rng) : rng;
    const out = new Float32Array(this.total);
    for (const e of this.entries) e.init(out.subarray(e.offset, e.offset + e.size), r);
    return out;
  }

  /** Same as `initialValues` but float64 (for gradient checks). */
  initialValues64(rng: Rng | number): Float64Array {
    return Float64Array.from(this.initialValues(rng));
  }

  /** Copies one named parameter out of a flat buffer. */
  read(values: Float32Array | Float64Array, name: string): Float32Array | Float64Array {
    const e = this.get(name);
    this.checkBuffer(values);
    return values.slice(e.offset, e.offset + e.size);
  }

  /** Throws unless `values` has exactly `size` elements. */
  checkBuffer(values: ArrayLike<number>): void {
    if (values.length !== this.total) {
      throw new GraphError(
        `parameter buffer ${this.name}: expected ${this.total} values, got ${values.length}`,
      );
    }
  }
}
