/**
 * The one list of primitive ops. Every node in a graph applies one of these; each has a gradient
 * rule (or none) in `gradients.ts` and an ONNX emitter of the same name in `onnx-emit.ts`. Names are
 * the ONNX operator names, except for the graph-level pseudo ops (`Input`, `Constant`, `ParamSlice`,
 * `StopGradient`) which emit no operator of their own.
 *
 * Composite ops (softplus, log-sum-exp, square, mean-of-squares, clip, elu as max/where, ...) are
 * built from these in `ops-*.ts` and need no rule of their own. Sub and Div stay primitive because
 * each is one ONNX node instead of two, and node count dominates step time at these sizes.
 */

/** Elementwise unary primitives (output shape = input shape). */
export const ELEMENTWISE_UNARY_OPS = [
  'Neg',
  'Exp',
  'Log',
  'Tanh',
  'Relu',
  'Sigmoid',
  'Abs',
  'Sign',
  'Sqrt',
  'Reciprocal',
  'Softplus',
  'Elu',
  'Clip',
] as const;

/** Elementwise binary primitives (numpy broadcasting). */
export const ELEMENTWISE_BINARY_OPS = ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Min', 'Max'] as const;

/** Comparisons and logic with numpy broadcasting (no gradient), `Where` included. */
export const COMPARISON_OPS = [
  'Greater',
  'Less',
  'Equal',
  'GreaterOrEqual',
  'LessOrEqual',
  'And',
  'Or',
  'Where',
] as const;

/** Every primitive op (the groups above included). */
export const PRIMITIVE_OPS = [
  // graph-level
  'Input',
  'Constant',
  'ParamSlice',
  'StopGradient',
  ...ELEMENTWISE_UNARY_OPS,
  ...ELEMENTWISE_BINARY_OPS,
  ...COMPARISON_OPS,
  'Not',
  'Cast',
  // reductions
  'ReduceSum',
  'ReduceMean',
  'ReduceMax',
  'CumSum',
  'Softmax',
  'LogSoftmax',
  // linear algebra and nn
  'MatMul',
  'Conv',
  'ConvTranspose',
  'AveragePool',
  'MaxPool',
  // shape and indexing
  'Reshape',
  'Transpose',
  'Concat',
  'Slice',
  'Split',
  'Expand',
  'Unsqueeze',
  'Squeeze',
  'Shape',
  'Size',
  'ConstantOfShape',
  'Gather',
  'GatherElements',
  'ScatterElements',
  'ScatterND',
  'Pad',
] as const;

/** Name of a primitive op. */
export type PrimitiveOp = (typeof PRIMITIVE_OPS)[number];

/** The ONNX opset every emitted model imports (default domain). Pinned here and only here. */
export const ONNX_OPSET = 17;

/** The ONNX IR version written into emitted models (IR 8 goes with opset 17). */
export const ONNX_IR_VERSION = 8;
