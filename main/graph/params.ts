/**
 * Trainable parameters stored in ONE flat buffer.
 *
 * A `ParameterSet` owns a graph input (default name `params`) of shape [P]. Each `add` reserves a
 * parameter and returns a view tensor of the requested shape. The buffer is laid out in banks so
 * that views cost almost no nodes: all 1-D parameters (biases) form one bank, and all parameters
 * of rank >= 2 with the same last dimension form a bank viewed as a [rows, width] matrix. Within a
 * bank, parameters keep the order they were added in; banks are ordered by first appearance. The
 * layout depends only on the sequence of `add` calls, so every graph built the same way shares it.
 *
 * When emitted, views become one Split of the buffer into banks, one Reshape per matrix bank and
 * one Split per bank; `grad(loss, [set.flat])` assembles the gradient the reverse way (Concat per
 * bank, one Concat overall), so the optimizer updates the whole buffer with a handful of nodes.
 *
 * A parameter may carry a fixed 0/1 mask (MADE weights): its masked entries start at zero and the
 * training step multiplies the flat gradient by `gradientMask()` once, so they stay zero and the
 * graphs use the view as it is, with no per-layer mask multiplication forward or backward.
 *
 * @example
 * const params = new ParameterSet(g);
 * const w = params.add('l1.weight', [27, 50], kaimingUniform(27));
 * const b = params.add('l1.bias', [50], kaimingUniform(27));
 * const values = params.initialValues(new Rng(0));    // Float32Array of params.size
 * params.read(values, 'l1.weight');                    // that parameter's values, row-major
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

/** One parameter and its place in the flat buffer. */
export interface ParameterEntry {
  readonly name: string;
  readonly shape: Shape;
  /** Position in the flat buffer (final once all parameters are added). */
  readonly offset: number;
  readonly size: number;
  readonly init: Initializer;
  /** The view tensor used in the graph. */
  readonly view: Tensor;
  /** Index in `entries` (order of `add`). */
  readonly index: number;
  /** Fixed 0/1 mask (row-major, same size), or null. */
  readonly mask: Float32Array | null;
}

/** Options of `ParameterSet.add`. */
export interface ParameterOptions {
  /**
   * 0/1 values, one per element: entries where the mask is 0 are held at zero (initialized to
   * zero, gradient masked in the training step).
   */
  mask?: Float32Array;
}

/** A group of parameters stored contiguously: 1-D ones, or matrices sharing a last dimension. */
export interface ParameterBank {
  /** 0 for the bank of 1-D parameters, otherwise the shared last dimension. */
  readonly width: number;
  readonly offset: number;
  readonly size: number;
  readonly entries: readonly ParameterEntry[];
}

const sets = new WeakMap<Tensor, ParameterSet>();

/** The parameter set a flat buffer input belongs to (undefined for other tensors). */
export function parameterSetOf(flat: Tensor): ParameterSet | undefined {
  return sets.get(flat);
}

/** A flat parameter buffer and named views into it. */
export class ParameterSet {
  private readonly list: {
    name: string;
    shape: number[];
    size: number;
    init: Initializer;
    view: Tensor;
    mask: Float32Array | null;
  }[] = [];
  private readonly flatTensor: Tensor;
  private total = 0;
  private cache: { entries: ParameterEntry[]; banks: ParameterBank[] } | null = null;

  constructor(
    readonly graph: Graph,
    readonly name = 'params',
    readonly dtype: DType & ('float32' | 'float64') = 'float32',
  ) {
    checkName(name, 'parameter buffer');
    this.flatTensor = graph.input(name, [0], dtype);
    sets.set(this.flatTensor, this);
  }

  /**
   * Reserves a parameter and returns its view. All parameters must be added before the graph is
   * emitted or differentiated (the layout is fixed then).
   */
  add(name: string, shape: Shape, init: Initializer, opts: ParameterOptions = {}): Tensor {
    if (this.list.some((e) => e.name === name))
      throw new GraphError(`parameter ${JSON.stringify(name)} already exists`);
    const size = shapeSize(shape);
    if (size <= 0) {
      throw new GraphError(`parameter ${name}: shape ${formatShape(shape)} must be static and non-empty`);
    }
    let mask: Float32Array | null = null;
    if (opts.mask) {
      if (opts.mask.length !== size || opts.mask.some((v) => v !== 0 && v !== 1)) {
        throw new GraphError(
          `parameter ${name}: the mask must hold ${size} values, each 0 or 1 (got ${opts.mask.length})`,
        );
      }
      mask = opts.mask.slice();
    }
    const index = this.list.length;
    const view = this.graph.addNode(
      'ParamSlice',
      [this.flat],
      { index, shape: [...shape], set: this.name },
      [{ dtype: this.dtype, shape }],
      false,
    )[0];
    this.list.push({ name, shape: [...shape], size, init, view, mask });
    this.total += size;
    this.cache = null;
    // The buffer input's shape is this set's running total (the array is owned by this set).
    (this.flat.shape as number[])[0] = this.total;
    return view;
  }

  /** The flat buffer input [P]. */
  get flat(): Tensor {
    return this.flatTensor;
  }

  /** Total number of scalars. */
  get size(): number {
    return this.total;
  }

  /** All parameters in the order they were added, with their offsets. */
  get entries(): readonly ParameterEntry[] {
    return this.layout().entries;
  }

  /** The banks of the buffer layout, in buffer order. */
  get banks(): readonly ParameterBank[] {
    return this.layout().banks;
  }

  private layout(): { entries: ParameterEntry[]; banks: ParameterBank[] } {
    if (this.cache) return this.cache;
    const groups = new Map<number, number[]>();
    this.list.forEach((e, i) => {
      const width = e.shape.length === 1 ? 0 : e.shape[e.shape.length - 1];
      const g = groups.get(width);
      if (g) g.push(i);
      else groups.set(width, [i]);
    });
    const entries = new Array<ParameterEntry>(this.list.length);
    const banks: ParameterBank[] = [];
    let at = 0;
    for (const [width, idx] of groups) {
      const start = at;
      const members: ParameterEntry[] = [];
      for (const i of idx) {
        const e = this.list[i];
        const entry: ParameterEntry = { ...e, offset: at, index: i };
        entries[i] = entry;
        members.push(entry);
        at += e.size;
      }
      banks.push({ width, offset: start, size: at - start, entries: members });
    }
    this.cache = { entries, banks };
    return this.cache;
  }

  /** The entry for a parameter name. */
  get(name: string): ParameterEntry {
    const e = this.entries.find((x) => x.name === name);
    if (!e) throw new GraphError(`unknown parameter ${JSON.stringify(name)}`);
    return e;
  }

  /** Fresh initial values from each parameter's initializer, in `add` order, using one seeded stream. */
  initialValues(rng: Rng | number): Float32Array {
    const r = typeof rng === 'number' ? new Rng(rng) : rng;
    const out = new Float32Array(this.total);
    for (const e of this.entries) {
      const part = out.subarray(e.offset, e.offset + e.size);
      e.init(part, r);
      if (e.mask) for (let i = 0; i < part.length; i++) if (e.mask[i] === 0) part[i] = 0;
    }
    return out;
  }

  /** The flat 0/1 gradient mask [P] of all masked parameters, or null when no parameter is masked. */
  gradientMask(): Float32Array | null {
    if (!this.entries.some((e) => e.mask)) return null;
    const out = new Float32Array(this.total).fill(1);
    for (const e of this.entries) if (e.mask) out.set(e.mask, e.offset);
    return out;
  }

  /**
   * Throws unless every masked entry of `values` is zero (a buffer trained under the masks).
   * Named in the error: the first parameter that breaks its mask.
   */
  checkMasks(values: ArrayLike<number>): void {
    this.checkBuffer(values);
    for (const e of this.entries) {
      if (!e.mask) continue;
      for (let i = 0; i < e.size; i++) {
        if (e.mask[i] === 0 && values[e.offset + i] !== 0) {
          throw new GraphError(
            `parameter ${e.name}: element ${i} is ${values[e.offset + i]} where its mask holds it at zero`,
          );
        }
      }
    }
  }

  /** Same as `initialValues` but float64 (for gradient checks). */
  initialValues64(rng: Rng | number): Float64Array {
    return Float64Array.from(this.initialValues(rng));
  }

  /** Copies one named parameter (row-major, its own shape) out of a flat buffer. */
  read(values: Float32Array | Float64Array, name: string): Float32Array | Float64Array {
    const e = this.get(name);
    this.checkBuffer(values);
    return values.slice(e.offset, e.offset + e.size);
  }

  /** Writes one named parameter's values into a flat buffer. */
  write(values: Float32Array | Float64Array, name: string, data: ArrayLike<number>): void {
    const e = this.get(name);
    this.checkBuffer(values);
    if (data.length !== e.size) {
      throw new GraphError(
        `parameter ${name}: expected ${e.size} values for ${formatShape(e.shape)}, got ${data.length}`,
      );
    }
    values.set(data, e.offset);
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
