/**
 * Writes a graph (the part reachable from the requested outputs) as an ONNX model, and reads the
 * signature and metadata back from ONNX bytes.
 */
import onnxProto from 'onnx-proto';
import {
  EMITTERS,
  attrInt,
  ONNX_DTYPE,
  scalarData,
  tensorProto,
  type EmitContext,
  type INodeProto,
} from './onnx-emit.ts';
import { ONNX_IR_VERSION, ONNX_OPSET } from './primitives.ts';
import { parameterSetOf, type ParameterEntry } from './params.ts';
import {
  type ConstantData,
  type DType,
  type Node,
  type Shape,
  Tensor,
  GraphError,
  checkName,
  formatShape,
  toConstantData,
  shapeSize,
} from './tensor.ts';

const { onnx } = onnxProto;

/** Name, dtype and shape (-1 = dynamic) of a model input or output. */
export interface TensorSpec {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
}

/** An emitted model: the ONNX bytes plus its signature. */
export interface CompiledModel {
  readonly bytes: Uint8Array;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** Number of ONNX nodes (before onnxruntime's own optimizations). */
  readonly nodeCount: number;
  readonly metadata: Readonly<Record<string, string>>;
}

/** What to emit. */
export interface EmitOptions {
  /** Graph outputs by name, in this order. */
  outputs: Record<string, Tensor>;
  /**
   * Graph inputs to bind to fixed values (name -> values): they become initializers, e.g. the
   * trained parameter buffer in an exported estimator.
   */
  bind?: Record<string, ArrayLike<number> | ConstantData>;
  /** Key/value strings stored in the model's metadata_props. */
  metadata?: Record<string, string>;
  /** Graph name (default `adexwb`). */
  name?: string;
}

/**
 * Emits the nodes needed for `outputs` as an ONNX model (opset `ONNX_OPSET`). Graph inputs are the
 * reachable `Input` tensors that are not bound, in creation order.
 *
 * @example
 * const model = emitModel({ outputs: { y }, bind: { params: trained }, metadata: { kind: 'maf' } });
 * writeFileSync('est.onnx', model.bytes);
 */
export function emitModel(opts: EmitOptions): CompiledModel {
  const outEntries = Object.entries(opts.outputs);
  if (outEntries.length === 0) throw new GraphError('emitModel: at least one output is required');
  const graph = outEntries[0][1].graph;
  for (const [name, t] of outEntries) {
    checkName(name, 'output');
    if (t.graph !== graph) throw new GraphError(`emitModel: output ${name} belongs to another graph`);
  }
  const reach = reachable(outEntries.map(([, t]) => t));
  const bind = opts.bind ?? {};
  const names = new Map<Tensor, string>();
  const nodes: INodeProto[] = [];
  const initializers: onnxProto.onnx.ITensorProto[] = [];
  const int64Cache = new Map<string, string>();
  const inputs: TensorSpec[] = [];
  const usedNames = new Set<string>();

  const ctx: EmitContext = {
    node(opType, ins, outs, attrs) {
      nodes.push({
        opType,
        input: [...ins],
        output: [...outs],
        attribute: attrs ?? [],
        name: `n${nodes.length}`,
      });
    },
    int64(values, scalar = false) {
      const key = `${scalar ? 's' : 'v'}${values.join(',')}`;
      let name = int64Cache.get(key);
      if (!name) {
        name = `c_i64_${int64Cache.size}`;
        int64Cache.set(key, name);
        initializers.push(
          tensorProto(name, 'int64', scalar ? [] : [values.length], toConstantData(values, 'int64')),
        );
      }
      return name;
    },
    scalar(dtype, value) {
      const key = `${dtype}:${value}`;
      let name = int64Cache.get(key);
      if (!name) {
        name = `c_s_${int64Cache.size}`;
        int64Cache.set(key, name);
        initializers.push(tensorProto(name, dtype, [], scalarData(dtype, value)));
      }
      return name;
    },
  };

  const nameOf = (t: Tensor): string => {
    const n = names.get(t);
    if (n === undefined) throw new GraphError(`emitModel: internal error, ${t} used before it was emitted`);
    return n;
  };
  // Output names are given to the producing node directly when that is unambiguous.
  const outputName = new Map<Tensor, string>();
  for (const [name, t] of outEntries) {
    if (usedNames.has(name)) throw new GraphError(`emitModel: duplicate output name ${name}`);
    usedNames.add(name);
    const op = t.node.op;
    if (
      !outputName.has(t) &&
      op !== 'Input' &&
      op !== 'Constant' &&
      op !== 'StopGradient' &&
      op !== 'ParamSlice'
    ) {
      outputName.set(t, name);
    }
  }
  const internal = (t: Tensor): string => outputName.get(t) ?? t.id;

  for (const node of graph.nodes) {
    if (!reach.has(node)) continue;
    switch (node.op) {
      case 'Input': {
        const t = node.outputs[0];
        const name = node.attrs.name as string;
        if (outEntries.some(([o]) => o === name))
          throw new GraphError(`emitModel: output name ${name} is also an input`);
        names.set(t, name);
        if (name in bind) {
          const values = bind[name];
          const n = shapeSize(t.shape);
          if (n === -1 || values.length !== n) {
            throw new GraphError(
              `emitModel: bound input ${name} expects ${n} values for ${formatShape(t.shape)}, got ${values.length}`,
            );
          }
          initializers.push(
            tensorProto(name, t.dtype, t.shape, toConstantData(values as ArrayLike<number>, t.dtype)),
          );
        } else {
          inputs.push({ name, dtype: t.dtype, shape: [...t.shape] });
        }
        break;
      }
      case 'Constant': {
        const t = node.outputs[0];
        names.set(t, t.id);
        initializers.push(tensorProto(t.id, t.dtype, t.shape, node.attrs.value as ConstantData));
        break;
      }
      case 'StopGradient':
        names.set(node.outputs[0], nameOf(node.inputs[0]));
        break;
      case 'ParamSlice':
        emitParamViews(ctx, node, names, internal);
        break;
      default: {
        const outs = node.outputs.map(internal);
        node.outputs.forEach((t, i) => names.set(t, outs[i]));
        EMITTERS[node.op](ctx, node, node.inputs.map(nameOf), outs);
      }
    }
  }
  for (const [name, t] of outEntries) {
    if (nameOf(t) !== name) ctx.node('Identity', [nameOf(t)], [name]);
  }
  for (const k of Object.keys(bind)) {
    if (!inputs.some((i) => i.name === k) && !initializers.some((i) => i.name === k)) {
      throw new GraphError(`emitModel: bound input ${k} is not an input of the emitted graph`);
    }
  }

  const outputs: TensorSpec[] = outEntries.map(([name, t]) => ({
    name,
    dtype: t.dtype,
    shape: [...t.shape],
  }));
  const metadata = { ...(opts.metadata ?? {}) };
  const model = onnx.ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    producerName: 'adex-workbench',
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    graph: {
      name: opts.name ?? 'adexwb',
      node: nodes,
      initializer: initializers,
      input: inputs.map(valueInfo),
      output: outputs.map(valueInfo),
    },
  });
  const bytes = onnx.ModelProto.encode(model).finish();
  return { bytes, inputs, outputs, nodeCount: nodes.length, metadata };
}

/**
 * All views of one flat buffer are emitted together when the first reachable one is met: Split
 * into banks, Reshape each matrix bank to [rows, width], Split each bank into its parameters
 * (a Reshape only for parameters of rank > 2). See params.ts for the layout.
 */
function emitParamViews(
  ctx: EmitContext,
  first: Node,
  names: Map<Tensor, string>,
  internal: (t: Tensor) => string,
): void {
  if (names.has(first.outputs[0])) return;
  const flat = first.inputs[0];
  const set = parameterSetOf(flat);
  if (!set) throw new GraphError('emitModel: a parameter view is not attached to a ParameterSet');
  const flatName = names.get(flat)!;
  const axis0 = [attrInt('axis', 0)];
  const banks = set.banks;
  const bankNames = banks.map((_, i) => (banks.length === 1 ? flatName : `${flatName}__bank${i}`));
  if (banks.length > 1) ctx.node('Split', [flatName, ctx.int64(banks.map((b) => b.size))], bankNames, axis0);
  banks.forEach((b, bi) => {
    let src = bankNames[bi];
    if (b.width !== 0) {
      const m = `${flatName}__matrix${bi}`;
      ctx.node('Reshape', [src, ctx.int64([b.size / b.width, b.width])], [m]);
      src = m;
    }
    const direct = (e: ParameterEntry): boolean => (b.width === 0 ? true : e.shape.length === 2);
    const pieceNames = b.entries.map((e) => (direct(e) ? internal(e.view) : `${e.view.id}__piece`));
    const sizes = b.entries.map((e) => (b.width === 0 ? e.size : e.size / b.width));
    if (b.entries.length === 1) ctx.node('Identity', [src], pieceNames);
    else ctx.node('Split', [src, ctx.int64(sizes)], pieceNames, axis0);
    b.entries.forEach((e, i) => {
      if (direct(e)) {
        names.set(e.view, pieceNames[i]);
      } else {
        const out = internal(e.view);
        ctx.node('Reshape', [pieceNames[i], ctx.int64(e.shape)], [out]);
        names.set(e.view, out);
      }
    });
  });
}

function reachable(outputs: readonly Tensor[]): Set<Node> {
  const seen = new Set<Node>();
  const stack = outputs.map((t) => t.node);
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    for (const t of n.inputs) stack.push(t.node);
  }
  return seen;
}

function valueInfo(s: TensorSpec): onnxProto.onnx.IValueInfoProto {
  return {
    name: s.name,
    type: {
      tensorType: {
        elemType: ONNX_DTYPE[s.dtype],
        shape: {
          dim: s.shape.map((d, i) => (d === -1 ? { dimParam: `${s.name}_dim${i}` } : { dimValue: d })),
        },
      },
    },
  };
}

const DTYPE_OF_CODE = new Map<number, DType>(Object.entries(ONNX_DTYPE).map(([k, v]) => [v, k as DType]));

/** Signature and metadata of ONNX bytes (throws a GraphError naming the problem for foreign or corrupt files). */
export function readModelInfo(bytes: Uint8Array): {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  metadata: Record<string, string>;
  opset: number;
} {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new GraphError(`not an ONNX model: ${(e as Error).message}`);
  }
  if (!model.graph) throw new GraphError('not an ONNX model: no graph');
  const inits = new Set((model.graph.initializer ?? []).map((t) => t.name));
  const spec = (v: onnxProto.onnx.IValueInfoProto): TensorSpec => {
    const tt = v.type?.tensorType;
    const dtype = DTYPE_OF_CODE.get(tt?.elemType ?? -1);
    if (!tt || !dtype) throw new GraphError(`ONNX value ${v.name}: unsupported element type ${tt?.elemType}`);
    const shape: Shape = (tt.shape?.dim ?? []).map((d) =>
      d.dimValue != null && !d.dimParam ? Number(d.dimValue) : -1,
    );
    return { name: v.name ?? '', dtype, shape: [...shape] };
  };
  const opset = model.opsetImport?.find((o) => !o.domain)?.version;
  return {
    inputs: (model.graph.input ?? []).filter((v) => !inits.has(v.name ?? '')).map(spec),
    outputs: (model.graph.output ?? []).map(spec),
    metadata: Object.fromEntries((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? ''])),
    opset: Number(opset ?? 0),
  };
}

/** Number of nodes per ONNX operator type in a model (for node-count reports). */
export function countOps(bytes: Uint8Array): Record<string, number> {
  const model = onnx.ModelProto.decode(bytes);
  const counts: Record<string, number> = {};
  for (const n of model.graph?.node ?? []) counts[n.opType ?? '?'] = (counts[n.opType ?? '?'] ?? 0) + 1;
  return counts;
}
