/**
 * One emitter per primitive op, named after the ONNX operator it emits and using ONNX attribute
 * names. Each receives the node, its input names and its output names and appends ONNX nodes (plus
 * int64 initializers for shape-like inputs) to the model under construction.
 */
import onnxProto from 'onnx-proto';
import type { PrimitiveOp } from './primitives.ts';
import type { ConstantData, DType, Node } from './tensor.ts';

const { onnx } = onnxProto;
type INodeProto = onnxProto.onnx.INodeProto;
type IAttributeProto = onnxProto.onnx.IAttributeProto;
type ITensorProto = onnxProto.onnx.ITensorProto;

/** ONNX TensorProto.DataType codes of our dtypes. */
export const ONNX_DTYPE: Record<DType, number> = { float32: 1, int32: 6, int64: 7, bool: 9, float64: 11 };

/** Builds a TensorProto with raw little-endian data. */
export function tensorProto(
  name: string,
  dtype: DType,
  dims: readonly number[],
  data: ConstantData,
): ITensorProto {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return { name, dataType: ONNX_DTYPE[dtype], dims: [...dims], rawData: bytes.slice() };
}

/** What an emitter writes into. */
export interface EmitContext {
  /** Appends an ONNX node. */
  node(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attrs?: IAttributeProto[],
  ): void;
  /** Name of an int64 initializer holding `values` (shared by identical vectors); rank 0 when `scalar`. */
  int64(values: readonly number[], scalar?: boolean): string;
  /** Name of a rank-0 float initializer holding `value` (shared). */
  scalar(dtype: DType, value: number): string;
}

const A = onnx.AttributeProto.AttributeType;
/** Integer attribute. */
export const attrInt = (name: string, i: number): IAttributeProto => ({ name, type: A.INT, i });
/** Integer-list attribute. */
export const attrInts = (name: string, ints: readonly number[]): IAttributeProto => ({
  name,
  type: A.INTS,
  ints: [...ints],
});
/** Float attribute. */
export const attrFloat = (name: string, f: number): IAttributeProto => ({ name, type: A.FLOAT, f });
/** String attribute. */
export const attrString = (name: string, s: string): IAttributeProto => ({
  name,
  type: A.STRING,
  s: new TextEncoder().encode(s),
});
/** Tensor attribute. */
export const attrTensor = (name: string, t: ITensorProto): IAttributeProto => ({ name, type: A.TENSOR, t });

type Emitter = (ctx: EmitContext, n: Node, ins: string[], outs: string[]) => void;

const num = (n: Node, k: string): number => n.attrs[k] as number;
const list = (n: Node, k: string): number[] => [...(n.attrs[k] as readonly number[])];
const same =
  (op: string): Emitter =>
  (ctx, _n, ins, outs) =>
    ctx.node(op, ins, outs);

/** One-element data of a dtype. */
export function scalarData(dtype: DType, value: number): ConstantData {
  switch (dtype) {
    case 'float32':
      return Float32Array.of(value);
    case 'float64':
      return Float64Array.of(value);
    case 'int64':
      return BigInt64Array.of(BigInt(value));
    case 'int32':
      return Int32Array.of(value);
    case 'bool':
      return Uint8Array.of(value ? 1 : 0);
  }
}

/** Emitters keyed by op; graph-level pseudo ops (Input, Constant, ParamSlice, StopGradient) are handled by the model writer. */
export const EMITTERS: Record<
  Exclude<PrimitiveOp, 'Input' | 'Constant' | 'ParamSlice' | 'StopGradient'>,
  Emitter
> = {
  Neg: same('Neg'),
  Exp: same('Exp'),
  Log: same('Log'),
  Tanh: same('Tanh'),
  Relu: same('Relu'),
  Sigmoid: same('Sigmoid'),
  Abs: same('Abs'),
  Sign: same('Sign'),
  Sqrt: same('Sqrt'),
  Reciprocal: same('Reciprocal'),
  Softplus: (ctx, n, ins, outs) => {
    // max(log(1 + exp(min(x, 80))), x): onnxruntime's Softplus kernel is scalar (about 17 ns per
    // value here) and float32-only, these kernels are not (a MAF training step took 6 % less).
    // Below x = -16.6 float32's 1 + e^x rounds to 1, so the value is 0 instead of e^x < 6e-8; above
    // 80, where e^x would overflow, it is x (error below e^-80).
    const [x] = ins;
    const dt = n.outputs[0].dtype;
    const t = (k: string): string => `${outs[0]}__${k}`;
    ctx.node('Min', [x, ctx.scalar(dt, 80)], [t('min')]);
    ctx.node('Exp', [t('min')], [t('exp')]);
    ctx.node('Add', [t('exp'), ctx.scalar(dt, 1)], [t('add')]);
    ctx.node('Log', [t('add')], [t('log')]);
    ctx.node('Max', [t('log'), x], outs);
  },
  Elu: (ctx, n, ins, outs) => {
    const alpha = num(n, 'alpha');
    if (n.outputs[0].dtype === 'float32') return ctx.node('Elu', ins, outs, [attrFloat('alpha', alpha)]);
    // onnxruntime has no float64 Elu kernel: where(x > 0, x, alpha (exp(min(x, 0)) - 1)).
    const [x] = ins;
    const dt = n.outputs[0].dtype;
    const t = (k: string): string => `${outs[0]}__${k}`;
    ctx.node('Min', [x, ctx.scalar(dt, 0)], [t('min')]);
    ctx.node('Exp', [t('min')], [t('exp')]);
    ctx.node('Sub', [t('exp'), ctx.scalar(dt, 1)], [t('sub')]);
    ctx.node('Mul', [t('sub'), ctx.scalar(dt, alpha)], [t('mul')]);
    ctx.node('Greater', [x, ctx.scalar(dt, 0)], [t('pos')]);
    ctx.node('Where', [t('pos'), x, t('mul')], outs);
  },
  Clip: (ctx, n, ins, outs) => {
    const dt = n.outputs[0].dtype;
    ctx.node('Clip', [ins[0], ctx.scalar(dt, num(n, 'min')), ctx.scalar(dt, num(n, 'max'))], outs);
  },
  Add: same('Add'),
  Sub: same('Sub'),
  Mul: same('Mul'),
  Div: same('Div'),
  Pow: same('Pow'),
  Min: same('Min'),
  Max: same('Max'),
  Greater: same('Greater'),
  Less: same('Less'),
  Equal: same('Equal'),
  GreaterOrEqual: same('GreaterOrEqual'),
  LessOrEqual: same('LessOrEqual'),
  And: same('And'),
  Or: same('Or'),
  Not: same('Not'),
  Where: same('Where'),
  Cast: (ctx, n, ins, outs) => ctx.node('Cast', ins, outs, [attrInt('to', ONNX_DTYPE[n.attrs.to as DType])]),
  ReduceSum: (ctx, n, ins, outs) =>
    ctx.node('ReduceSum', [ins[0], ctx.int64(list(n, 'axes'))], outs, [
      attrInt('keepdims', num(n, 'keepdims')),
    ]),
  ReduceMean: (ctx, n, ins, outs) =>
    ctx.node('ReduceMean', ins, outs, [
      attrInts('axes', list(n, 'axes')),
      attrInt('keepdims', num(n, 'keepdims')),
    ]),
  ReduceMax: (ctx, n, ins, outs) =>
    ctx.node('ReduceMax', ins, outs, [
      attrInts('axes', list(n, 'axes')),
      attrInt('keepdims', num(n, 'keepdims')),
    ]),
  CumSum: (ctx, n, ins, outs) =>
    ctx.node('CumSum', [ins[0], ctx.int64([num(n, 'axis')], true)], outs, [
      attrInt('exclusive', num(n, 'exclusive')),
      attrInt('reverse', num(n, 'reverse')),
    ]),
  Softmax: (ctx, n, ins, outs) => ctx.node('Softmax', ins, outs, [attrInt('axis', num(n, 'axis'))]),
  LogSoftmax: (ctx, n, ins, outs) => ctx.node('LogSoftmax', ins, outs, [attrInt('axis', num(n, 'axis'))]),
  MatMul: same('MatMul'),
  Conv: (ctx, n, ins, outs) => ctx.node('Conv', ins, outs, convAttrs(n)),
  ConvTranspose: (ctx, n, ins, outs) =>
    ctx.node('ConvTranspose', ins, outs, [
      ...convAttrs(n),
      attrInts('output_padding', [num(n, 'outputPadding')]),
    ]),
  AveragePool: (ctx, n, ins, outs) =>
    ctx.node('AveragePool', ins, outs, [...poolAttrs(n), attrInt('count_include_pad', 0)]),
  MaxPool: (ctx, n, ins, outs) => ctx.node('MaxPool', ins, outs, poolAttrs(n)),
  Reshape: (ctx, n, ins, outs) => ctx.node('Reshape', [ins[0], ctx.int64(list(n, 'shape'))], outs),
  Transpose: (ctx, n, ins, outs) => ctx.node('Transpose', ins, outs, [attrInts('perm', list(n, 'perm'))]),
  Concat: (ctx, n, ins, outs) => ctx.node('Concat', ins, outs, [attrInt('axis', num(n, 'axis'))]),
  Slice: (ctx, n, ins, outs) =>
    ctx.node(
      'Slice',
      [ins[0], ctx.int64([num(n, 'start')]), ctx.int64([num(n, 'end')]), ctx.int64([num(n, 'axis')])],
      outs,
    ),
  Split: (ctx, n, ins, outs) =>
    ctx.node('Split', [ins[0], ctx.int64(list(n, 'split'))], outs, [attrInt('axis', num(n, 'axis'))]),
  Expand: same('Expand'),
  Unsqueeze: (ctx, n, ins, outs) => ctx.node('Unsqueeze', [ins[0], ctx.int64(list(n, 'axes'))], outs),
  Squeeze: (ctx, n, ins, outs) => ctx.node('Squeeze', [ins[0], ctx.int64(list(n, 'axes'))], outs),
  Shape: same('Shape'),
  Size: same('Size'),
  ConstantOfShape: (ctx, n, ins, outs) => {
    const dtype = n.attrs.dtype as DType;
    const value = tensorProto('value', dtype, [1], scalarData(dtype, num(n, 'value')));
    ctx.node('ConstantOfShape', ins, outs, [attrTensor('value', value)]);
  },
  Gather: (ctx, n, ins, outs) => ctx.node('Gather', ins, outs, [attrInt('axis', num(n, 'axis'))]),
  GatherElements: (ctx, n, ins, outs) =>
    ctx.node('GatherElements', ins, outs, [attrInt('axis', num(n, 'axis'))]),
  ScatterElements: (ctx, n, ins, outs) =>
    ctx.node('ScatterElements', ins, outs, [attrInt('axis', num(n, 'axis')), attrString('reduction', 'add')]),
  ScatterND: (ctx, _n, ins, outs) => ctx.node('ScatterND', ins, outs, [attrString('reduction', 'add')]),
  Pad: (ctx, n, ins, outs) => ctx.node('Pad', [ins[0], ctx.int64(list(n, 'pads'))], outs),
};

function convAttrs(n: Node): IAttributeProto[] {
  const k = n.inputs[1].shape[2];
  const p = num(n, 'pad');
  return [
    attrInts('kernel_shape', [k]),
    attrInts('strides', [num(n, 'stride')]),
    attrInts('pads', [p, p]),
    attrInts('dilations', [num(n, 'dilation')]),
  ];
}

function poolAttrs(n: Node): IAttributeProto[] {
  const p = num(n, 'pad');
  return [
    attrInts('kernel_shape', [num(n, 'kernel')]),
    attrInts('strides', [num(n, 'stride')]),
    attrInts('pads', [p, p]),
  ];
}

export type { INodeProto };
