/**
 * Small layer helpers on top of the ops, with PyTorch's default initialization.
 */
import { type Initializer, kaimingUniform } from './init.ts';
import { add } from './ops-elementwise.ts';
import { matmul } from './ops-nn.ts';
import type { ParameterSet } from './params.ts';
import { type Tensor, GraphError, formatShape } from './tensor.ts';

/**
 * Affine layer y = x W + b on the last axis (x [..., in] -> [..., out]); W [in, out] and b [out] are
 * added to `params` as `${name}.weight` / `${name}.bias` with PyTorch nn.Linear's default init
 * (`weightInit` replaces the weight's, e.g. `heUniform(in)` before a ReLU).
 */
export function linear(
  params: ParameterSet,
  name: string,
  x: Tensor,
  outFeatures: number,
  bias = true,
  weightInit?: Initializer,
): Tensor {
  const inFeatures = x.shape[x.rank - 1];
  if (x.rank < 2 || inFeatures === -1) {
    throw new GraphError(
      `linear ${name}: expected x [..., in] with a static last axis, got ${formatShape(x.shape)}`,
    );
  }
  const w = params.add(`${name}.weight`, [inFeatures, outFeatures], weightInit ?? kaimingUniform(inFeatures));
  const y = matmul(x, w);
  if (!bias) return y;
  return add(y, params.add(`${name}.bias`, [outFeatures], kaimingUniform(inFeatures)));
}
