/**
 * Small network pieces for the density estimators, built on the graph engine: linear and masked
 * linear layers whose weights live in the flat parameter buffer (PyTorch's default initialization),
 * and the standard-normal log-density.
 *
 * Weights are stored [in, out] so a layer is one MatMul plus one Add on inputs of any rank.
 */
import type { Tensor } from '../graph/tensor.ts';
import type { ParameterSet } from '../graph/params.ts';
import { kaimingUniform, uniformInit, type Initializer } from '../graph/init.ts';
import { add, mul, square, sub } from '../graph/ops-elementwise.ts';
import { matmul, sum } from '../graph/ops-nn.ts';

/** Options of one linear layer. */
export interface LinearOptions {
  /** 0/1 mask [in, out] of the weight (MADE layers): masked entries are held at zero in training. */
  mask?: Float32Array;
  /** Initializer of weight and bias (default: PyTorch's U(-1/sqrt(in), 1/sqrt(in))). */
  init?: Initializer;
  /** Leave out the bias. */
  noBias?: boolean;
}

/** A linear layer: call it on [..., inF] to get [..., outF]. */
export type Linear = (x: Tensor) => Tensor;

/** A linear layer's parameters (views into the flat buffer) and the layer itself. */
export interface LinearParams {
  weight: Tensor;
  bias: Tensor | null;
  apply: Linear;
}

/**
 * Reserve the weight [inF, outF] (and bias [outF]) in `p` now and return them with the layer
 * y = x W (+ b). Calling the layer many times reuses the same parameters.
 */
export function linearParams(
  p: ParameterSet,
  name: string,
  inF: number,
  outF: number,
  opts: LinearOptions = {},
): LinearParams {
  const init = opts.init ?? kaimingUniform(inF);
  const weight = p.add(`${name}.weight`, [inF, outF], init, { mask: opts.mask });
  const bias = opts.noBias ? null : p.add(`${name}.bias`, [outF], init);
  return {
    weight,
    bias,
    apply: (x) => {
      const y = matmul(x, weight);
      return bias ? add(y, bias) : y;
    },
  };
}

/** `linearParams` when only the layer is needed. */
export function linear(
  p: ParameterSet,
  name: string,
  inF: number,
  outF: number,
  opts: LinearOptions = {},
): Linear {
  return linearParams(p, name, inF, outF, opts).apply;
}

/** Near-zero initialization used for the last layer of residual blocks (nflows' convention). */
export const smallInit: Initializer = uniformInit(-1e-3, 1e-3);

/** log N(u; 0, I) summed over the last axis. */
export function standardNormalLogProb(u: Tensor): Tensor {
  const d = u.shape[u.rank - 1];
  return sub(mul(sum(square(u), [-1]), -0.5), 0.5 * d * Math.log(2 * Math.PI));
}

/** Random permutation of 0..n-1 from a seeded generator (Fisher-Yates). */
export function permutation(n: number, rand: () => number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/** Inverse of a permutation. */
export function inversePermutation(p: readonly number[]): number[] {
  const inv = new Array<number>(p.length);
  p.forEach((v, i) => (inv[v] = i));
  return inv;
}
