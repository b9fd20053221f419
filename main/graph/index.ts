/**
 * Public API of the tensor-graph engine: build symbolic float graphs, differentiate them, emit
 * ONNX, run them (or whole Adam training steps) in onnxruntime-node. See docs/graph.md.
 *
 * @example
 * import * as G from '../graph/index.ts';
 * const g = new G.Graph();
 * const params = new G.ParameterSet(g);
 * const x = g.input('x', [200, 27]);
 * const y = g.input('y', [200, 14]);
 * const h = G.relu(G.linear(params, 'l1', x, 50));
 * const loss = G.mseLoss(G.linear(params, 'l2', h, 14), y);
 * const trainer = await G.Trainer.create({ loss, params }, { initial: params.initialValues(0) });
 * await trainer.step({ x: xs, y: ys }, 1e-3);
 */
export { Graph, Tensor, GraphError, formatShape, type DType, type Shape, type Node } from './tensor.ts';
export { PRIMITIVE_OPS, ONNX_OPSET, type PrimitiveOp } from './primitives.ts';
export {
  abs,
  add,
  and,
  cast,
  clip,
  div,
  elu,
  eluComposite,
  equal,
  exp,
  greater,
  greaterEqual,
  less,
  lessEqual,
  log,
  logSigmoid,
  maximum,
  minimum,
  mul,
  neg,
  not,
  or,
  pow,
  reciprocal,
  relu,
  sigmoid,
  sign,
  softplus,
  sqrt,
  square,
  stopGradient,
  sub,
  tanh,
  where,
  broadcastShapes,
  type TensorLike,
} from './ops-elementwise.ts';
export {
  concat,
  expand,
  flatten,
  fullLike,
  gather,
  gatherElements,
  pad,
  reshape,
  shapeOf,
  slice,
  split,
  squeeze,
  swapLastAxes,
  transpose,
  unsqueeze,
  zerosLike,
} from './ops-shape.ts';
export {
  avgPool1d,
  conv1d,
  cumsum,
  logSoftmax,
  logSumExp,
  matmul,
  max,
  maxPool1d,
  mean,
  mseLoss,
  softmax,
  sum,
  sumToShape,
  type Conv1dOptions,
} from './ops-nn.ts';
export { grad } from './grad.ts';
export { GRADIENT_RULES } from './gradients.ts';
export { ParameterSet, type ParameterEntry } from './params.ts';
export {
  Rng,
  constantInit,
  kaimingUniform,
  heUniform,
  normalInit,
  uniformInit,
  xavierUniform,
  type Initializer,
} from './init.ts';
export { linear } from './layers.ts';
export { ONES_PREFIX, onesInputName, parseOnesInput, rowSource, type RowSource } from './rows.ts';
export {
  countOps,
  emitModel,
  readModelInfo,
  type CompiledModel,
  type EmitOptions,
  type TensorSpec,
} from './onnx-model.ts';
export { Session, ort, sessionOptions, type Feed, type SessionOptions, type TypedArray } from './runtime.ts';
export { SessionPool, type PoolTensor } from './pool.ts';
export {
  Trainer,
  adamScalars,
  buildTrainingStep,
  type AdamOptions,
  type TrainerState,
  type TrainingStepGraph,
  type TrainingStepSpec,
} from './train.ts';
