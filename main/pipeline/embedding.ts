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

/** Input points per first-layer tap unit: 200 points use LAYERS as they are. */
const BASE_LENGTH = 200;

/**
 * The layers for an input of `length` points: for f = floor(length / 200) > 1 the first
 * convolution's kernel and stride are f times longer, so it spans the same stretch of the
 * recording and the later layers see the same lengths as for 200 points.
 */
function layersFor(length: number): ConvLayer[] {
  const f = Math.max(1, Math.floor(length / BASE_LENGTH));
  return LAYERS.map((l, i) => (i === 0 ? { kernel: l.kernel * f, stride: l.stride * f } : { ...l }));
}

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
  const layers = layersFor(length);
  for (const layer of layers) l = convOut(l, layer);
  if (l < 1)
    throw new RangeError(
      `learned summary: input of ${length} points is too short for the convolutions (need at least 43)`,
    );
  const flat = c2 * l;
  const channels = [1, c1, c2, c2];
  return {
    outDim,
    description: `conv1d ${channels.slice(1).join('-')} k${layers.map((x) => x.kernel).join('/')} s${layers.map((x) => x.stride).join('/')} -> ${hidden} -> ${outDim} (input ${length}, He init)`,
    build(params: G.ParameterSet, x: G.Tensor): G.Tensor {
      if (x.shape[x.rank - 1] !== length) {
        throw new G.GraphError(`learned summary: expected x [..., ${length}], got ${G.formatShape(x.shape)}`);
      }
      // Channels-last [B, L, C]. Each convolution is an unfold (a Gather of the K taps of every
      // output position, [B, Lout, K, C]) and one product with the weight as a [K * C, O] matrix.
      // Its gradients are then products over all B * Lout positions at once and a scatter-add of
      // [B, C] slices. onnxruntime's ConvTranspose and batch-as-channels Conv for the same
      // gradients took about half of a training step (7.4 ms and 3.7 ms per layer, batch 200); the
      // whole step went from 42-45 ms to 24-26 ms (MDN, 200-point traces, one thread).
      // The first layer, whose input needs no gradient, stays one Conv (a Gather of single values
      // is slow), followed by a transpose to channels-last.
      let h = G.unsqueeze(x, [1]); // [B, 1, L]
      let len = length;
      layers.forEach((layer, i) => {
        const fanIn = channels[i] * layer.kernel;
        const w = params.add(
          `summary.conv${i}.weight`,
          [channels[i + 1], channels[i], layer.kernel],
          G.heUniform(fanIn),
        );
        const b = params.add(`summary.conv${i}.bias`, [channels[i + 1]], G.kaimingUniform(fanIn));
        const lout = convOut(len, layer);
        if (i === 0) {
          h = G.transpose(G.relu(G.conv1d(h, w, b, { stride: layer.stride })), [0, 2, 1]);
          len = lout;
          return;
        }
        const taps = Array.from(
          { length: lout * layer.kernel },
          (_, j) => Math.floor(j / layer.kernel) * layer.stride + (j % layer.kernel),
        );
        const unfolded = G.gather(h, x.graph.constant(taps, [lout, layer.kernel], 'int64'), 1);
        const rows = G.reshape(unfolded, [-1, fanIn]); // [B * Lout, K * C], tap-major like the matrix
        const matrix = G.reshape(G.transpose(w, [2, 1, 0]), [fanIn, channels[i + 1]]);
        h = G.reshape(G.relu(G.add(G.matmul(rows, matrix), b)), [-1, lout, channels[i + 1]]);
        len = lout;
      });
      // Flattened channel by channel ([B, C, L] order), as the dense layer's weights expect.
      h = G.transpose(h, [0, 2, 1]);
      h = G.reshape(h, [-1, flat]);
      h = G.relu(G.linear(params, 'summary.dense', h, hidden, true, G.heUniform(flat)));
      return G.linear(params, 'summary.out', h, outDim);
    },
  };
}
