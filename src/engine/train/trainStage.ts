/**
 * Training one stage by minibatch gradient descent (Adam or SGD), seeded and
 * deterministic for a given backend, with parameters frozen or held near a center by the
 * proximal term of Case 2; optionally polished by full-batch L-BFGS afterwards.
 */
import * as tf from '@tensorflow/tfjs';
import { POLISH_GRADIENT_TOLERANCE } from '../../common/workspaceConfig';
import type { LossName, TrainingSettings } from '../../common/workspaceConfig';
import { ParamBlock, accumulateGradient } from '../autodiff/hessianVectorProduct';
import { BatchSet, forEachBatch } from '../batches';
import type { ExampleSource } from '../data';
import { perExampleLoss } from '../losses';
import type { Model } from '../model/model';
import { seededRandom, shuffledIndices } from '../influence/sampling';
import { norm } from '../linalg/vector';
import { minimizeLbfgs } from '../validate/lbfgs';
import type { LbfgsStop } from '../validate/lbfgs';
import { lossAndGradient, setBlockValues } from '../validate/retrainStages';
import type { ProximalTerm } from '../validate/retrainStages';

export interface TrainStageOptions {
  readonly settings: TrainingSettings;
  readonly epochs: number;
  /** Names of layers whose weights stay as they are (Case 1: the embedding W). */
  readonly frozenLayers?: ReadonlySet<string>;
  /** Case 2's surrogate: adds α‖W − W̄‖² for the weights of these layers. */
  readonly proximal?: { readonly alpha: number; readonly layers: ReadonlySet<string>; readonly center: readonly tf.Tensor[] };
  readonly signal?: AbortSignal;
  readonly onEpoch?: (epoch: number, epochs: number, meanLoss: number) => void;
  /** After each polishing step (settings.polishSteps). */
  readonly onPolish?: (step: number, steps: number, gradientNorm: number) => void;
}

export interface PolishResult {
  readonly steps: number;
  readonly stop: LbfgsStop;
}

export interface TrainStageResult {
  readonly finalLoss: number;
  /** ‖∇‖ of the full objective over the trainable weights at the end. */
  readonly gradientNorm: number;
  readonly epochs: number;
  /** The L-BFGS steps after the epochs (settings.polishSteps), and why they stopped. */
  readonly polish?: PolishResult;
}

/**
 * Minimises the mean loss over `data` (plus the proximal term) in place on `model`.
 *
 * ```tex
 * \min_\theta \tfrac{1}{N}\textstyle\sum_i \ell(x_i, y_i; \theta) \;+\; \alpha \lVert W - \bar W\rVert^2
 * ```
 */
export async function trainStage(model: Model, loss: LossName, data: ExampleSource, o: TrainStageOptions): Promise<TrainStageResult> {
  const frozen = o.frozenLayers ?? new Set<string>();
  const trainable = model.paramSpecs.map((s) => !frozen.has(s.layer));
  const vars = model.params.map((p, i) => (trainable[i] ? tf.variable(p, true, `msif_${i}_${Date.now()}`) : null));
  const params = (): tf.Tensor[] => model.params.map((p, i) => vars[i] ?? p);
  const varList = vars.filter((v): v is tf.Variable => v !== null);
  const proximalIdx = o.proximal ? model.paramSpecs.map((s, i) => (o.proximal?.layers.has(s.layer) ? i : -1)).filter((i) => i >= 0) : [];
  const objective = (x: tf.Tensor, y: tf.Tensor): tf.Scalar =>
    tf.tidy(() => {
      const ps = params();
      let f = tf.mean(perExampleLoss(loss, { value: model.forward(ps, x), tangent: null }, y).value);
      if (o.proximal) {
        proximalIdx.forEach((pi, k) => {
          const c = o.proximal?.center[k] as tf.Tensor;
          f = tf.add(f, tf.mul(o.proximal?.alpha ?? 0, tf.sum(tf.square(tf.sub(ps[pi] as tf.Tensor, c)))));
        });
      }
      return f as tf.Scalar;
    });
  const optimizer = o.settings.optimizer === 'adam' ? tf.train.adam(o.settings.learningRate) : tf.train.sgd(o.settings.learningRate);
  const rand = seededRandom(o.settings.seed + 1);
  try {
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      const order = shuffledIndices(data.count, rand);
      let sum = 0;
      let count = 0;
      await forEachBatch(
        model,
        data,
        o.settings.batchSize,
        (b) => {
          const cost = optimizer.minimize(() => objective(b.x, b.y), true, varList);
          sum += (cost?.dataSync()[0] ?? NaN) * b.n;
          count += b.n;
          cost?.dispose();
        },
        o.signal,
        order,
      );
      o.onEpoch?.(epoch + 1, o.epochs, sum / count);
    }
    model.setParams(model.params.map((p, i) => (vars[i] ? tf.clone(vars[i] as tf.Variable) : p)));
  } finally {
    optimizer.dispose();
    for (const v of varList) v.dispose();
  }
  const block = new ParamBlock(model, model.paramSpecs.map((_, i) => i).filter((i) => trainable[i]));
  const polish = o.settings.polishSteps > 0 ? await polishStage(model, loss, data, block, proximalIdx, o) : undefined;
  // Full-batch objective and its gradient norm at the result.
  const g = new Float64Array(block.size);
  let total = 0;
  await forEachBatch(model, data, o.settings.batchSize, (b) => (total += accumulateGradient(loss, block, b, g)), o.signal);
  const mean = g.map((v) => v / data.count);
  let finalLoss = total / data.count;
  if (o.proximal) {
    // α‖W − W̄‖² and its gradient 2α(W − W̄).
    const alpha = o.proximal.alpha;
    proximalIdx.forEach((pi, k) => {
      const w = (model.params[pi] as tf.Tensor).dataSync();
      const c = (o.proximal?.center[k] as tf.Tensor).dataSync();
      const j = block.indices.indexOf(pi);
      const off = j >= 0 ? (block.offsets[j] as number) : -1;
      for (let i = 0; i < w.length; i++) {
        const d = (w[i] as number) - (c[i] as number);
        finalLoss += alpha * d * d;
        if (off >= 0) mean[off + i] = (mean[off + i] as number) + 2 * alpha * d;
      }
    });
  }
  return { finalLoss, gradientNorm: norm(mean), epochs: o.epochs, ...(polish ? { polish } : {}) };
}

/**
 * Polishing: full-batch L-BFGS on the stage's objective (the mean loss over the stage's
 * set, plus Case 2's α‖W − W̄‖²) from where the epochs ended, for at most
 * `settings.polishSteps` steps or until ‖∇‖ ≤ POLISH_GRADIENT_TOLERANCE; the model holds
 * the result.
 */
async function polishStage(model: Model, loss: LossName, data: ExampleSource, block: ParamBlock, proximalIdx: readonly number[], o: TrainStageOptions): Promise<PolishResult> {
  const terms: ProximalTerm[] = [];
  if (o.proximal) {
    const positions: number[] = [];
    const center: number[] = [];
    proximalIdx.forEach((pi, k) => {
      const j = block.indices.indexOf(pi);
      const c = (o.proximal?.center[k] as tf.Tensor).dataSync();
      if (j < 0) return; // a frozen layer is not optimised
      const off = block.offsets[j] as number;
      for (let i = 0; i < c.length; i++) {
        positions.push(off + i);
        center.push(c[i] as number);
      }
    });
    terms.push({ weight: o.proximal.alpha, positions, center: Float64Array.from(center) });
  }
  const set = await BatchSet.load(model, data, o.settings.batchSize, undefined, o.signal);
  try {
    const r = await minimizeLbfgs((x) => lossAndGradient(loss, block, set, data.count, x, { proximal: terms, ...(o.signal ? { signal: o.signal } : {}) }), block.values(), {
      gradientTolerance: POLISH_GRADIENT_TOLERANCE,
      maxIterations: o.settings.polishSteps,
      memory: 10,
      ...(o.signal ? { signal: o.signal } : {}),
      onIteration: (step, _value, gradientNorm) => o.onPolish?.(step, o.settings.polishSteps, gradientNorm),
    });
    setBlockValues(block, r.x);
    return { steps: r.iterations, stop: r.stop };
  } finally {
    set.dispose();
  }
}
