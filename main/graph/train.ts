/**
 * A whole optimizer step as ONE onnxruntime run: forward, backward, global gradient-norm clipping
 * and Adam (with PyTorch's bias correction), on a flat float32 parameter buffer.
 *
 * Step graph inputs: `params` [P], `adam_m` [P], `adam_v` [P], the two per-step scalars of the
 * bias-corrected update `adam_step_size` [] and `adam_eps` [] (see `adamScalars`), then the batch
 * inputs of the loss graph. Outputs: `loss` [], `params_next`, `adam_m_next`, `adam_v_next` [P],
 * `grad_norm` [] (before clipping). With weight decay also `adam_decay` [] (AdamOptions.weightDecay).
 */
import { grad } from './grad.ts';
import { emitModel, type CompiledModel } from './onnx-model.ts';
import type { ParameterSet } from './params.ts';
import { ort, Session, type Feed } from './runtime.ts';
import { ONES_PREFIX } from './rows.ts';
import { Tensor, GraphError, formatShape } from './tensor.ts';
import { add, div, minimum, mul, sqrt, sub } from './ops-elementwise.ts';
import { sum } from './ops-nn.ts';
import { reshape } from './ops-shape.ts';

/** Adam and clipping settings (PyTorch defaults; clipNorm 5 as in the sbi toolbox, null = off). */
export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  clipNorm?: number | null;
  /**
   * Decoupled weight decay (AdamW, 0 = off): every step also shrinks each parameter by the factor
   * 1 - lr * weightDecay. When on, the step graph takes that factor as the scalar input
   * `adam_decay` [].
   */
  weightDecay?: number;
}

/** What to train. */
export interface TrainingStepSpec {
  /** Scalar loss built from `params` views and batch inputs. */
  loss: Tensor;
  params: ParameterSet;
  adam?: AdamOptions;
}

/** Tensors of the step graph (for inspection and tests). */
export interface TrainingStepGraph {
  model: CompiledModel;
  /** Names of the batch inputs, in order. */
  batchInputs: string[];
}

function inputOf(spec: TrainingStepSpec, name: string, shape: number[]): Tensor {
  const g = spec.loss.graph;
  return g.findInput(name) ?? g.input(name, shape, 'float32');
}

/** Builds and emits the training-step graph for a scalar loss (see the module comment for its signature). */
export function buildTrainingStep(spec: TrainingStepSpec): TrainingStepGraph {
  const { loss, params } = spec;
  if (params.dtype !== 'float32') throw new GraphError('training: the parameter buffer must be float32');
  if (loss.size !== 1 || loss.dtype !== 'float32') {
    throw new GraphError(
      `training: loss must be one float32 value, got ${loss.dtype}${formatShape(loss.shape)}`,
    );
  }
  if (params.size === 0) throw new GraphError('training: the parameter set is empty');
  const b1 = spec.adam?.beta1 ?? 0.9;
  const b2 = spec.adam?.beta2 ?? 0.999;
  const clip = spec.adam?.clipNorm === undefined ? 5 : spec.adam.clipNorm;
  const P = params.size;
  const p = params.flat;
  const m = inputOf(spec, 'adam_m', [P]);
  const v = inputOf(spec, 'adam_v', [P]);
  const stepSize = inputOf(spec, 'adam_step_size', []);
  const epsT = inputOf(spec, 'adam_eps', []);
  const wd = spec.adam?.weightDecay ?? 0;
  if (!(wd >= 0) || !Number.isFinite(wd))
    throw new GraphError(`training: weightDecay must be a finite number >= 0, got ${wd}`);
  const decay = wd > 0 ? inputOf(spec, 'adam_decay', []) : null;

  // Masked parameters (MADE weights) are held at zero by masking their gradient once here.
  const gmask = params.gradientMask();
  const graw = grad(loss, [p])[0];
  const gflat = gmask ? mul(graw, loss.graph.constant(gmask, [P])) : graw;
  // Vector-sized nodes are what cost time here, so scalar factors are combined first:
  // clip scale c = min(1, clip / (norm + 1e-6)) (PyTorch clip_grad_norm_) enters m as c(1-b1) g and
  // v as c^2 (1-b2) g^2, reusing the g^2 of the norm.
  const gsq = mul(gflat, gflat);
  const norm = sqrt(sum(gsq));
  const c = clip === null ? null : minimum(div(clip, add(norm, 1e-6)), 1);
  const mNext = add(mul(m, b1), mul(gflat, c ? mul(c, 1 - b1) : 1 - b1));
  const vNext = add(mul(v, b2), mul(gsq, c ? mul(mul(c, c), 1 - b2) : 1 - b2));
  // PyTorch Adam, p' = p - (lr / bc1) m' / (sqrt(v') / sqrt(bc2) + eps) with bc_i = 1 - beta_i^t,
  // written as p - stepSize m' / (sqrt(v') + epsT): the bias corrections are per-step scalars the
  // trainer computes in float64, which saves one vector operation and seven scalar nodes per step.
  // AdamW (PyTorch): p' = p (1 - lr wd) - the Adam step.
  const pNext = sub(decay ? mul(p, decay) : p, mul(div(mNext, add(sqrt(vNext), epsT)), stepSize));

  const batchInputs = loss.graph.inputs
    .filter(
      (i) =>
        ![params.name, 'adam_m', 'adam_v', 'adam_step_size', 'adam_eps', 'adam_decay'].includes(
          i.node.attrs.name as string,
        ) && !(i.node.attrs.name as string).startsWith(ONES_PREFIX),
    )
    .map((i) => i.node.attrs.name as string);
  const model = emitModel({
    outputs: {
      loss: reshape(loss, []),
      params_next: pNext,
      adam_m_next: mNext,
      adam_v_next: vNext,
      grad_norm: norm,
    },
  });
  return { model, batchInputs: batchInputs.filter((n) => model.inputs.some((i) => i.name === n)) };
}

/**
 * The per-step scalars of PyTorch's bias-corrected Adam update for 1-based step t:
 * stepSize = lr sqrt(bc2) / bc1 and eps_t = eps sqrt(bc2), bc_i = 1 - beta_i^t, so that
 * (lr / bc1) m / (sqrt(v) / sqrt(bc2) + eps) = stepSize m / (sqrt(v) + eps_t).
 */
export function adamScalars(
  t: number,
  lr: number,
  adam: AdamOptions = {},
): { stepSize: number; eps: number } {
  const rootBc2 = Math.sqrt(1 - (adam.beta2 ?? 0.999) ** t);
  return { stepSize: (lr * rootBc2) / (1 - (adam.beta1 ?? 0.9) ** t), eps: (adam.eps ?? 1e-8) * rootBc2 };
}

/** Snapshot of everything needed to resume training. */
export interface TrainerState {
  params: Float32Array;
  m: Float32Array;
  v: Float32Array;
  /** Number of updates done so far. */
  step: number;
}

/**
 * Runs training steps in onnxruntime, keeping parameters and Adam moments as onnxruntime tensors
 * that are fed back as the next step's inputs (no copies in JavaScript).
 *
 * @example
 * const trainer = await Trainer.create({ loss, params }, { initial: params.initialValues(0) });
 * const l = await trainer.step({ x: xBatch, y: yBatch }, 5e-4);
 * const trained = trainer.parameters();
 */
export class Trainer {
  private p: ort.Tensor;
  private m: ort.Tensor;
  private v: ort.Tensor;
  private t = 0;
  private lastNorm = NaN;
  private evalSession: Session | null = null;

  private constructor(
    readonly session: Session,
    readonly graph: TrainingStepGraph,
    private readonly spec: TrainingStepSpec,
    private readonly threads: number,
    initial: Float32Array,
  ) {
    const P = spec.params.size;
    this.p = new ort.Tensor('float32', initial.slice(), [P]);
    this.m = new ort.Tensor('float32', new Float32Array(P), [P]);
    this.v = new ort.Tensor('float32', new Float32Array(P), [P]);
  }

  /** Builds the step graph and its session; `initial` is the starting parameter buffer. */
  static async create(
    spec: TrainingStepSpec,
    opts: { initial: Float32Array; threads?: number },
  ): Promise<Trainer> {
    spec.params.checkMasks(opts.initial);
    const graph = buildTrainingStep(spec);
    const session = await Session.create(graph.model, { threads: opts.threads });
    return new Trainer(session, graph, spec, opts.threads ?? 1, opts.initial);
  }

  /** One Adam update on a batch; returns the batch loss (before the update). */
  async step(batch: Record<string, Feed>, lr: number): Promise<number> {
    if (!(lr > 0)) throw new RangeError(`learning rate must be positive, got ${lr}`);
    const { stepSize, eps } = adamScalars(this.t + 1, lr, this.spec.adam);
    const feeds: Record<string, ort.Tensor> = {
      [this.spec.params.name]: this.p,
      adam_m: this.m,
      adam_v: this.v,
      adam_step_size: new ort.Tensor('float32', Float32Array.of(stepSize), []),
      adam_eps: new ort.Tensor('float32', Float32Array.of(eps), []),
    };
    const wd = this.spec.adam?.weightDecay ?? 0;
    if (wd > 0) feeds.adam_decay = new ort.Tensor('float32', Float32Array.of(1 - lr * wd), []);
    for (const name of this.graph.batchInputs) {
      const f = batch[name];
      if (f === undefined) throw new GraphError(`training step: missing batch input ${name}`);
      feeds[name] = this.session.toTensor(name, f);
    }
    const out = await this.session.runRaw(feeds);
    this.p = out.params_next;
    this.m = out.adam_m_next;
    this.v = out.adam_v_next;
    this.t += 1;
    this.lastNorm = (out.grad_norm.data as Float32Array)[0];
    return (out.loss.data as Float32Array)[0];
  }

  /** Loss on a batch without updating (a forward-only session, built on first use). */
  async evaluate(batch: Record<string, Feed>): Promise<number> {
    if (!this.evalSession) {
      const model = emitModel({ outputs: { loss: reshape(this.spec.loss, []) } });
      this.evalSession = await Session.create(model, { threads: this.threads });
    }
    const feeds: Record<string, Feed> = { [this.spec.params.name]: this.p };
    for (const i of this.evalSession.inputs)
      if (i.name !== this.spec.params.name) feeds[i.name] = batch[i.name];
    const out = await this.evalSession.run(feeds);
    return (out.loss.data as Float32Array)[0];
  }

  /** Copy of the current parameter buffer. */
  parameters(): Float32Array {
    return (this.p.data as Float32Array).slice();
  }

  /** Number of updates done. */
  get stepCount(): number {
    return this.t;
  }

  /** Global gradient norm of the last step (before clipping). */
  get lastGradNorm(): number {
    return this.lastNorm;
  }

  /** Copies of parameters, moments and step count (for checkpoints). */
  state(): TrainerState {
    return {
      params: this.parameters(),
      m: (this.m.data as Float32Array).slice(),
      v: (this.v.data as Float32Array).slice(),
      step: this.t,
    };
  }

  /** Restores a checkpoint taken with `state()`. */
  loadState(s: TrainerState): void {
    const P = this.spec.params.size;
    for (const [k, a] of [
      ['params', s.params],
      ['m', s.m],
      ['v', s.v],
    ] as const) {
      if (a.length !== P) throw new GraphError(`trainer state ${k}: expected ${P} values, got ${a.length}`);
    }
    if (!Number.isInteger(s.step) || s.step < 0)
      throw new GraphError(`trainer state step: expected a count >= 0, got ${s.step}`);
    this.spec.params.checkMasks(s.params);
    this.p = new ort.Tensor('float32', s.params.slice(), [P]);
    this.m = new ort.Tensor('float32', s.m.slice(), [P]);
    this.v = new ort.Tensor('float32', s.v.slice(), [P]);
    this.t = s.step;
  }

  /** Frees the native sessions. */
  async release(): Promise<void> {
    await this.session.release();
    await this.evalSession?.release();
  }
}
