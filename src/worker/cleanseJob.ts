/**
 * `msif cleanse` (Chen et al., NeurIPS 2020, §4.2, data cleansing): scores every
 * pretraining example on held-out finetuning points (or the test set), removes the top
 * p% harmful ones, retrains both stages, and compares the test accuracy and loss with
 * retraining on everything and on random p% removals. Retrained models stay in memory:
 * nothing of the workspace is written.
 */
import * as tf from '@tensorflow/tfjs';
import { MsifError } from '../common/errors';
import type { EmbeddingCase } from '../common/workspaceConfig';
import { BatchSet } from '../engine/batches';
import type { ExampleSource } from '../engine/data';
import { evaluateExamples, influenceScores } from '../engine/influence/influenceScores';
import { retrainBothStages } from '../engine/train/retrainBothStages';
import { heldoutSplit, meanSd, predictedLossChange, randomRemoval, removalCount, topHarmful, trialSeed } from '../engine/cleanse/selection';
import { withoutExamples } from '../engine/subset';
import { DEFAULT_CLEANSE } from '../protocol/cleanseReport';
import type { ArmKind, ArmMetrics, CleanseArm, CleanseOptions, CleanseReport, WriteFilteredOptions, WriteFilteredResult } from '../protocol/cleanseReport';
import type { RankedExample } from '../protocol/report';
import { assertWritableOutput, workspaceFiles, writeFilteredDataset } from './filteredDataset';
import { loadWorkspace } from './jobs';
import type { JobContext, LoadedWorkspace } from './jobs';
import { PhaseTimer } from './phaseTimer';

/** Share of the progress bar that the scoring (one influence computation) takes. */
const SCORING_SHARE = 0.1;

/** Runs data cleansing on the workspace at `configPath`; see {@link CleanseReport}. */
export async function runCleanse(configPath: string, options: CleanseOptions, ctx: JobContext = {}): Promise<CleanseReport> {
  const timer = new PhaseTimer();
  const { phases } = timer;
  const endPhase = (name: string): void => timer.end(name);
  const ws = await loadWorkspace(configPath, ctx);
  const keep: tf.Tensor[] = [];
  try {
    const { config } = ws;
    const by = options.by ?? DEFAULT_CLEANSE.by;
    const kase: EmbeddingCase = options.case ?? config.finetune.embedding;
    const trials = options.randomTrials ?? DEFAULT_CLEANSE.randomTrials;
    if (!Number.isInteger(trials) || trials < 0) throw new MsifError('usage', `--random-trials is ${trials}`, { field: '--random-trials', expected: 'an integer ≥ 0' });
    const seed = options.seed ?? config.training.seed;
    const m = ws.pretrainTrain.count;
    const requested = removalCount(m, options.percent);
    const fraction = options.heldoutFraction ?? DEFAULT_CLEANSE.heldoutFraction;
    const split = by === 'heldout' ? heldoutSplit(ws.finetuneTrain.count, fraction, seed) : undefined;
    const finetuneTrain: ExampleSource = split ? withoutExamples(ws.finetuneTrain, split.heldout) : ws.finetuneTrain;
    const scoringIndices = split ? split.heldout : Array.from({ length: ws.finetuneTest.count }, (_, i) => i);
    const scoringSource = split ? ws.finetuneTrain : ws.finetuneTest;
    endPhase('load');

    // Every arm starts from the saved weights.
    const preStart = ws.pretrainModel.params.map((t) => tf.keep(tf.clone(t)));
    const finStart = ws.finetuneModel.params.map((t) => tf.keep(tf.clone(t)));
    keep.push(...preStart, ...finStart);

    const armCount = 2 + trials;
    const epochsPerArm = Math.max(1, config.training.pretrainEpochs + config.training.finetuneEpochs);
    const armShare = (1 - SCORING_SHARE) / armCount;
    /** Where arm `a` (0 baseline, 1 cleansed, 2… random) starts on the progress bar; scoring sits after the baseline. */
    const armStart = (a: number): number => (a === 0 ? 0 : SCORING_SHARE + a * armShare);
    const warnings: string[] = [];

    const metrics = async (source: ExampleSource, indices: readonly number[] | undefined): Promise<ArmMetrics> => {
      const ev = await evaluateExamples(ws.finetuneModel, config.finetune.loss, source, config.influence.batchSize, indices, ctx.signal);
      const n = ev.indices.length;
      const loss = ev.losses.reduce((s, v) => s + v, 0) / Math.max(1, n);
      const correct = ev.indices.filter((_, k) => ev.predictions[k]?.[0] === ev.labels[k]?.[0]).length;
      return { count: n, loss, accuracy: config.finetune.loss === 'mse' ? null : correct / Math.max(1, n) };
    };

    const train = async (a: number, label: string, removed: readonly number[]) => {
      const pretrainSource = removed.length ? withoutExamples(ws.pretrainTrain, removed) : ws.pretrainTrain;
      const r = await retrainBothStages(
        {
          pretrain: { model: ws.pretrainModel, loss: config.pretrain.loss, train: pretrainSource, start: preStart },
          finetune: { model: ws.finetuneModel, loss: config.finetune.loss, train: finetuneTrain, start: finStart },
          sharedLayers: config.sharedLayers,
          case: kase,
          alpha: config.influence.alpha,
          training: config.training,
        },
        {
          ...(ctx.signal ? { signal: ctx.signal } : {}),
          onEpoch: (e) => {
            const done = (e.stage === 'pretrain' ? e.epoch : config.training.pretrainEpochs + e.epoch) / epochsPerArm;
            ctx.onProgress?.({
              phase: 'retrain',
              fraction: armStart(a) + armShare * done,
              message: `${label}: ${e.stage === 'pretrain' ? 'pretraining' : 'finetuning'} epoch ${e.epoch}/${e.epochs}, loss ${e.loss.toFixed(4)}`,
            });
          },
        },
      );
      const test = await metrics(ws.finetuneTest, undefined);
      const heldout = split ? await metrics(ws.finetuneTrain, split.heldout) : undefined;
      const scoring = split ? (heldout as ArmMetrics) : test;
      ctx.log?.(`${label}: test loss ${test.loss.toFixed(5)}${test.accuracy !== null ? `, accuracy ${(100 * test.accuracy).toFixed(2)}%` : ''}; pretraining ‖∇G‖ ${r.pretrain.gradientNorm.toExponential(2)}, finetuning ‖∇F‖ ${r.finetune.gradientNorm.toExponential(2)}`);
      return {
        test,
        ...(heldout ? { heldout } : {}),
        scoringLoss: scoring.loss,
        training: {
          pretrain: { finalLoss: r.pretrain.finalLoss, gradientNorm: r.pretrain.gradientNorm },
          finetune: { finalLoss: r.finetune.finalLoss, gradientNorm: r.finetune.gradientNorm },
        },
      };
    };

    // 1. The baseline: both stages retrained on everything (but the held-out split).
    const base = await train(0, 'baseline (nothing removed)', []);
    endPhase('retrain baseline');

    // 2. Scores at the baseline's models, summed over the scoring set (eq. 8).
    const scoringSet = await BatchSet.load(ws.finetuneModel, scoringSource, config.influence.batchSize, scoringIndices, ctx.signal);
    let result;
    try {
      result = await influenceScores(
        {
          pretrain: { model: ws.pretrainModel, loss: config.pretrain.loss, train: ws.pretrainTrain },
          finetune: { model: ws.finetuneModel, loss: config.finetune.loss, train: finetuneTrain },
          sharedLayers: config.sharedLayers,
          test: scoringSet,
          case: kase,
          settings: config.influence,
        },
        {
          ...(ctx.signal ? { signal: ctx.signal } : {}),
          onProgress: (p) => ctx.onProgress?.({ ...p, phase: `score: ${p.phase}`, fraction: armShare + SCORING_SHARE * p.fraction }),
        },
      );
    } finally {
      scoringSet.dispose();
    }
    for (const w of result.warnings) warnings.push(`scoring: ${w}`);
    endPhase('score');
    const scores = result.scores;
    const nScoring = scoringIndices.length;

    // 3. The cleansed arm and the random arms, all removing the same number of examples.
    const removed = topHarmful(scores, requested);
    if (removed.length < requested) {
      warnings.push(`only ${removed.length} of ${m} pretraining examples have a positive (harmful) score; removed those instead of ${requested}`);
    }
    if (removed.length === 0) {
      throw new MsifError('numeric', 'no pretraining example has a positive (harmful) score on the scoring set, so there is nothing to cleanse', { expected: 'some harmful pretraining examples' });
    }
    const arm = (kind: ArmKind, rm: readonly number[], r: Awaited<ReturnType<typeof train>>, extra: { trial?: number; seed?: number } = {}): CleanseArm => ({
      kind,
      ...extra,
      removed: [...rm].sort((a, b) => a - b),
      test: r.test,
      ...(r.heldout ? { heldout: r.heldout } : {}),
      change: {
        loss: r.test.loss - base.test.loss,
        accuracy: r.test.accuracy === null || base.test.accuracy === null ? null : r.test.accuracy - base.test.accuracy,
      },
      scoringLossChange: r.scoringLoss - base.scoringLoss,
      predictedScoringLossChange: predictedLossChange(scores, rm, m, nScoring),
      training: r.training,
    });
    const cleansed = arm('cleansed', removed, await train(1, `cleansed (top ${removed.length} harmful removed)`, removed));
    endPhase('retrain cleansed');
    const random: CleanseArm[] = [];
    for (let t = 0; t < trials; t++) {
      const s = trialSeed(seed, t);
      const rm = randomRemoval(m, removed.length, s);
      random.push(arm('random', rm, await train(2 + t, `random removal ${t + 1}/${trials}`, rm), { trial: t, seed: s }));
    }
    if (trials > 0) endPhase('retrain random');

    const preIds = ws.pretrainTrain.ids();
    const removedRows: RankedExample[] = await Promise.all(
      removed.map(async (index) => {
        const text = (await ws.pretrainTrain.display(index)).text;
        const line = ws.pretrainTrain.lineOf(index);
        return {
          index,
          id: preIds[index] ?? String(index),
          score: scores[index] as number,
          ...(text !== undefined ? { text } : {}),
          ...(line !== undefined ? { line } : {}),
        };
      }),
    );
    const accChanges = random.map((a) => a.change.accuracy).filter((v): v is number => v !== null);
    const randomSummary = {
      accuracyChange: config.finetune.loss === 'mse' || trials === 0 ? null : meanSd(accChanges),
      lossChange: trials === 0 ? null : meanSd(random.map((a) => a.change.loss)),
    };
    const trainingWarning = (name: string, a: CleanseArm): void => {
      const g = Math.max(a.training.pretrain.gradientNorm, a.training.finetune.gradientNorm);
      if (g > 1e-2) warnings.push(`${name}: retraining ended with a gradient norm of ${g.toExponential(2)}; more epochs (training.pretrainEpochs, finetuneEpochs) bring the arms closer to their optima`);
    };
    const baseline = arm('baseline', [], base);
    trainingWarning('baseline', baseline);
    trainingWarning('cleansed arm', cleansed);
    for (const w of warnings) ctx.log?.(`warning: ${w}`);
    return {
      version: 1,
      kind: 'cleanse',
      config: config.file,
      case: kase,
      by,
      percent: options.percent,
      seed,
      pretrainCount: m,
      requestedCount: requested,
      removedCount: removed.length,
      finetuneTrainCount: finetuneTrain.count,
      ...(split ? { heldout: { fraction, indices: split.heldout, ids: split.heldout.map((i) => ws.finetuneTrain.ids()[i] ?? String(i)) } } : {}),
      scoring: { set: by, count: nScoring, scores: Array.from(scores), solves: result.solves },
      removed: removedRows,
      arms: { baseline, cleansed, random },
      randomSummary,
      summary: cleanseSummary(baseline, cleansed, random, by),
      settings: {
        training: config.training,
        randomTrials: trials,
        ...(split ? { heldoutFraction: fraction } : {}),
        initialization: 'saved-weights',
      },
      diagnostics: { backend: tf.getBackend(), seconds: timer.seconds(), phases, warnings },
    };
  } finally {
    for (const t of keep) t.dispose();
    ws.dispose();
  }
}

/** One or two sentences comparing the cleansed arm with the baseline and the random arms. */
export function cleanseSummary(baseline: CleanseArm, cleansed: CleanseArm, random: readonly CleanseArm[], by: CleanseOptions['by']): string {
  const pct = (v: number): string => `${v >= 0 ? '+' : ''}${(100 * v).toFixed(2)} points`;
  const loss = (v: number): string => `${v >= 0 ? '+' : ''}${v.toPrecision(3)}`;
  const parts: string[] = [];
  const acc = cleansed.change.accuracy;
  parts.push(
    `Removing the ${cleansed.removed.length} most harmful pretraining examples changed the test loss by ${loss(cleansed.change.loss)}` +
      (acc !== null ? ` and the test accuracy by ${pct(acc)}` : '') +
      ` (baseline: loss ${baseline.test.loss.toPrecision(4)}${baseline.test.accuracy !== null ? `, accuracy ${(100 * baseline.test.accuracy).toFixed(2)}%` : ''}).`,
  );
  if (random.length > 0) {
    const l = meanSd(random.map((a) => a.change.loss));
    const accs = random.map((a) => a.change.accuracy).filter((v): v is number => v !== null);
    const a = accs.length ? meanSd(accs) : undefined;
    const better = cleansed.change.loss < l.mean;
    parts.push(
      `Removing as many at random (${random.length} trial${random.length === 1 ? '' : 's'}) changed it by ${loss(l.mean)} ± ${l.sd.toPrecision(2)}` +
        (a ? ` (accuracy ${pct(a.mean)} ± ${(100 * a.sd).toFixed(2)})` : '') +
        `: cleansing did ${better ? 'better' : 'not do better'} on the test loss.`,
    );
  }
  if (by === 'test') parts.push('The test set chose the removals, so the test numbers of the cleansed arm are optimistic.');
  return parts.join(' ');
}

/** Writes the workspace's pretraining set without the examples at `exclude` (see {@link writeFilteredDataset}). */
export async function runWriteFiltered(configPath: string, options: WriteFilteredOptions, ctx: JobContext = {}): Promise<WriteFilteredResult> {
  const ws: LoadedWorkspace = await loadWorkspace(configPath, ctx);
  try {
    await assertWritableOutput(options.out, await workspaceFiles(ws.config), options.overwrite ?? false);
    const r = await writeFilteredDataset(ws.pretrainTrain, options.exclude, options.out, ctx.signal);
    ctx.log?.(`wrote ${r.written} pretraining examples (${r.excluded} left out) to ${options.out}`);
    return { out: options.out, ...r };
  } finally {
    ws.dispose();
  }
}
