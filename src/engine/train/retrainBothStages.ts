/**
 * Training both stages from a given starting point on (subsets of) the training sets:
 * `msif train` runs it from the saved weights, and the arms of data cleansing all run it
 * with the same settings, seeds and start, so that they differ only in their examples.
 */
import * as tf from '@tensorflow/tfjs';
import type { EmbeddingCase, LossName, TrainingSettings } from '../../common/workspaceConfig';
import type { ExampleSource } from '../data';
import type { Model } from '../model/model';
import { trainStage } from './trainStage';
import type { TrainStageResult } from './trainStage';

export interface RetrainStage {
  readonly model: Model;
  readonly loss: LossName;
  readonly train: ExampleSource;
  /** Where training starts, in `model.paramSpecs` order (not consumed: cloned). */
  readonly start: readonly tf.Tensor[];
}

export interface RetrainProblem {
  readonly pretrain: RetrainStage;
  readonly finetune: RetrainStage;
  readonly sharedLayers: readonly string[];
  /** `fixed`: W frozen at the retrained W̄ (Case 1); `updated`: α‖W − W̄‖² (Case 2). */
  readonly case: EmbeddingCase;
  readonly alpha: number;
  readonly training: TrainingSettings;
}

export interface RetrainProgress {
  readonly stage: 'pretrain' | 'finetune';
  readonly epoch: number;
  readonly epochs: number;
  readonly loss: number;
}

/**
 * Trains the pretraining model from `pretrain.start` to (W̄, Ū) ≈ argmin G over
 * `pretrain.train`, then the finetuning model from `finetune.start` with W replaced by
 * the new W̄, to Θ* = argmin F(W̄, Θ) (Case 1) or (W*, Θ*) = argmin α‖W − W̄‖² + F(W, Θ)
 * (Case 2, eq. 13), over `finetune.train`. Both models hold the results afterwards.
 *
 * ```tex
 * \bar W, \bar U = \arg\min_{W,U} \tfrac{1}{|Z'|}\textstyle\sum_{z \in Z'} g(z; W, U), \qquad
 * \Theta^* = \arg\min_\Theta \tfrac{1}{|X'|}\textstyle\sum_{x \in X'} f(x; \bar W, \Theta)
 * ```
 */
export async function retrainBothStages(
  p: RetrainProblem,
  o: {
    readonly signal?: AbortSignal;
    readonly onEpoch?: (e: RetrainProgress) => void;
    /** After each polishing step (training.polishSteps). */
    readonly onPolish?: (stage: 'pretrain' | 'finetune', step: number, steps: number, gradientNorm: number) => void;
    /** After each stage, with its result (before the next starts). */
    readonly onStage?: (stage: 'pretrain' | 'finetune', result: TrainStageResult) => void;
  } = {},
): Promise<{ pretrain: TrainStageResult; finetune: TrainStageResult }> {
  const shared = new Set(p.sharedLayers);
  const tr = p.training;
  p.pretrain.model.setParams(p.pretrain.start.map((t) => tf.clone(t)));
  const pre = await trainStage(p.pretrain.model, p.pretrain.loss, p.pretrain.train, {
    settings: tr,
    epochs: tr.pretrainEpochs,
    ...(o.signal ? { signal: o.signal } : {}),
    onEpoch: (epoch, epochs, loss) => o.onEpoch?.({ stage: 'pretrain', epoch, epochs, loss }),
    onPolish: (step, steps, g) => o.onPolish?.('pretrain', step, steps, g),
  });
  o.onStage?.('pretrain', pre);
  // The finetuning model starts from its own start, with the retrained embedding W̄.
  const preByName = new Map(p.pretrain.model.paramSpecs.map((s, i) => [s.name, p.pretrain.model.params[i] as tf.Tensor]));
  const fin = p.finetune.model;
  fin.setParams(
    p.finetune.start.map((t, i) => {
      const s = fin.paramSpecs[i];
      const w = s && shared.has(s.layer) ? preByName.get(s.name) : undefined;
      return tf.clone(w ?? t);
    }),
  );
  const center = fin.paramSpecs.filter((s) => shared.has(s.layer)).map((s) => preByName.get(s.name) as tf.Tensor);
  const fine = await trainStage(fin, p.finetune.loss, p.finetune.train, {
    settings: tr,
    epochs: tr.finetuneEpochs,
    ...(o.signal ? { signal: o.signal } : {}),
    ...(p.case === 'fixed' ? { frozenLayers: shared } : { proximal: { alpha: p.alpha, layers: shared, center } }),
    onEpoch: (epoch, epochs, loss) => o.onEpoch?.({ stage: 'finetune', epoch, epochs, loss }),
    onPolish: (step, steps, g) => o.onPolish?.('finetune', step, steps, g),
  });
  o.onStage?.('finetune', fine);
  return { pretrain: pre, finetune: fine };
}
