/**
 * The learned summary: a small 1-D convolutional network over the downsampled, normalized
 * membrane trace, used as the estimator's embedding subgraph and trained jointly with the density
 * estimator (the gradient of the negative log-density flows into its weights).
 *
 * Layout for an input of L points: three strided convolutions (1 -> c1 -> c2 -> c2 channels,
 * ReLU), flatten, a hidden ReLU layer and a linear output of `outDim` features. The weights that
 * feed a ReLU start from He-uniform bounds sqrt(6 / fanIn) rather than PyTorch's default
 * 1 / sqrt(fanIn): with the smaller default the activations shrink layer by layer and the network
 * learned the adaptation parameters only after twice the epochs (docs/pipeline.md).
 *
 * @example
 * const est = createEstimator({ kind: 'nsf', thetaDim: 7, xDim: 200, embedding: convEmbedding(200) });
 */
import * as G from '../graph/index.ts';
import type { Embedding } from '../sbi/estimator.ts';

/** Sizes of the convolutional summary network (defaults in parentheses). */
export interface ConvEmbeddingOptions {
  /** Channels of the first convolution (16). */
  channels1?: number;
  /** Channels of the second and third convolutions (32). */
  channels2?: number;
  /** Hidden units of the dense layer (128). */
  hidden?: number;
  /** Output features: the learned summary statistics (16). */
  outDim?: number;
}

interface ConvLayer {
  kernel: number;
  stride: number;
}

const LAYERS: readonly ConvLayer[] = [
  { kernel: 7, stride: 2 },
  { kernel: 5, stride: 2 },
  { kernel: 5, stride: 2 },
];

/** Output length of a valid (unpadded) convolution. */
function convOut(length: number, l: ConvLayer): number {
  return Math.floor((length - l.kernel) / l.stride) + 1;
}

/** Build the embedding for inputs of `length` points. Throws when the input is too short for the three convolutions. */
export function convEmbedding(length: number, opts: ConvEmbeddingOptions = {}): Embedding {
  const c1 = opts.channels1 ?? 16;
  const c2 = opts.channels2 ?? 32;
  const hidden = opts.hidden ?? 128;
  const outDim = opts.outDim ?? 16;
  let l = length;
  for (const layer of LAYERS) l = convOut(l, layer);
  if (l < 1)
    throw new RangeError(
      `learned summary: input of ${length} points is too short for the convolutions (need at least 43)`,
    );
  const flat = c2 * l;
  const channels = [1, c1, c2, c2];
  return {
    outDim,
    description: `conv1d ${channels.slice(1).join('-')} k${LAYERS.map((x) => x.kernel).join('/')} s2 -> ${hidden} -> ${outDim} (input ${length}, He init)`,
    build(params: G.ParameterSet, x: G.Tensor): G.Tensor {
      if (x.shape[x.rank - 1] !== length) {
        throw new G.GraphError(`learned summary: expected x [..., ${length}], got ${G.formatShape(x.shape)}`);
      }
      let h = G.unsqueeze(x, [1]); // [B, 1, L]
      LAYERS.forEach((layer, i) => {
        const fanIn = channels[i] * layer.kernel;
        const w = params.add(
          `summary.conv${i}.weight`,
          [channels[i + 1], channels[i], layer.kernel],
          G.heUniform(fanIn),
        );
        const b = params.add(`summary.conv${i}.bias`, [channels[i + 1]], G.kaimingUniform(fanIn));
        h = G.relu(G.conv1d(h, w, b, { stride: layer.stride }));
      });
      // Dense layers on [B, 1, F]: the weight gradient then reduces over a batch axis, which the
      // graph engine supports with a dynamic batch (a rank-2 product would need a static row count).
      h = G.reshape(h, [-1, 1, flat]);
      h = G.relu(G.linear(params, 'summary.dense', h, hidden, true, G.heUniform(flat)));
      return G.reshape(G.linear(params, 'summary.out', h, outDim), [-1, outDim]);
    },
  };
}
