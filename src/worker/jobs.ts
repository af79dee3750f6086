/**
 * The jobs the worker runs for the extension and the CLI runs in-process: each loads a
 * workspace (config, models, datasets), runs the engine and returns plain JSON data.
 */
import * as fs from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { MsifError } from '../common/errors';
import { parseWorkspaceConfig, type DatasetSpec, type LossName, type WorkspaceConfig } from '../common/workspaceConfig';
import type { TraceReport, RankedExample, TestPointSummary } from '../protocol/report';
import type { EvaluateResult, TraceOptions, TrainResult } from '../protocol/jobTypes';

export type { EvaluateResult, TraceOptions, TrainResult };
import type { JobProgress } from '../protocol/progress';
import { BatchSet } from '../engine/batches';
import type { Model } from '../engine/model/model';
import { evaluateExamples, influenceScores } from '../engine/influence/influenceScores';
import { retrainBothStages } from '../engine/train/retrainBothStages';
import { peakTensorBytes, resetTensorMemoryPeak } from '../engine/tensorMemory';
import { diskIhvpCache, ihvpCacheDir, ihvpCacheKey } from './ihvpCache';
import { openDataset } from './datasets/openDataset';
import type { Dataset } from './datasets/dataset';
import { loadModel, saveModelWeights } from './modelFiles';
import { chooseBackendForModel } from './backendProbe';
import { backendReason } from './backend';
import { PhaseTimer } from './phaseTimer';

export interface JobContext {
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: JobProgress) => void;
  /** Diagnostic log lines (not progress); the CLI sends them to stderr. */
  readonly log?: (line: string) => void;
}

export const DEFAULT_TOP_K = 10;

/** A workspace with its models and datasets loaded and checked against each other. */
export interface LoadedWorkspace {
  readonly config: WorkspaceConfig;
  readonly pretrainModel: Model;
  readonly finetuneModel: Model;
  readonly pretrainTrain: Dataset;
  readonly finetuneTrain: Dataset;
  readonly finetuneTest: Dataset;
  dispose(): void;
}

/** Reads and validates msif.json, the two models and the three datasets. */
export async function loadWorkspace(configPath: string, ctx: JobContext = {}): Promise<LoadedWorkspace> {
  let text: string;
  try {
    text = await fs.readFile(configPath, 'utf8');
  } catch (e) {
    throw new MsifError('config', `cannot read the workspace config (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file: configPath, expected: 'an msif.json file' });
  }
  const config = parseWorkspaceConfig(text, configPath);
  progress(ctx, 'load', 0, 'choosing the backend');
  const probed = await chooseBackendForModel(config.pretrain.model);
  if (probed) ctx.log?.(probed);
  progress(ctx, 'load', 0, 'loading models');
  const pretrainModel = await loadModel(config.pretrain.model, 'pretrain.model');
  let finetuneModel: Model | undefined;
  try {
    finetuneModel = await loadModel(config.finetune.model, 'finetune.model');
    const open = (spec: DatasetSpec, model: Model, loss: LossName, role: string): Promise<Dataset> =>
      openDataset(
        spec,
        { inputShape: model.graph.inputShape, loss, numClasses: model.outputShape[model.outputShape.length - 1], outputShape: model.outputShape, role },
        { signal: ctx.signal },
      );
    progress(ctx, 'load', 0.01, 'reading datasets');
    const pretrainTrain = await open(config.pretrain.train, pretrainModel, config.pretrain.loss, 'pretrain.train');
    const finetuneTrain = await open(config.finetune.train, finetuneModel, config.finetune.loss, 'finetune.train');
    const finetuneTest = await open(config.finetune.test, finetuneModel, config.finetune.loss, 'finetune.test');
    const fm = finetuneModel;
    return {
      config,
      pretrainModel,
      finetuneModel: fm,
      pretrainTrain,
      finetuneTrain,
      finetuneTest,
      dispose: () => {
        pretrainModel.dispose();
        fm.dispose();
      },
    };
  } catch (e) {
    pretrainModel.dispose();
    finetuneModel?.dispose();
    throw e;
  }
}

/** `msif trace`: influence of every pretraining example on the selected test points. */
export async function runTrace(configPath: string, options: TraceOptions, ctx: JobContext = {}): Promise<TraceReport> {
  const timer = new PhaseTimer();
  const { phases } = timer;
  const endPhase = (name: string): void => timer.end(name);
  const startTensorBytes = tf.memory().numBytes;
  resetTensorMemoryPeak();
  const ws = await loadWorkspace(configPath, ctx);
  try {
    const { config } = ws;
    const st = { ...config.influence, ...definedOnly(options.overrides ?? {}) };
    const testCase = options.case ?? config.finetune.embedding;
    const selected = await selectTestPoints(ws, options.test, ctx);
    const test = await summarizeTestPoints(ws, selected, ctx.signal);
    endPhase('load');

    const cacheDir = options.noCache ? undefined : ihvpCacheDir();
    const cacheKey = cacheDir ? await ihvpCacheKey({ config, case: testCase, settings: st, identityHessians: false, test: selected, backend: tf.getBackend() }, ctx.signal) : undefined;
    const cache = cacheDir && cacheKey ? diskIhvpCache(cacheDir, cacheKey, (event, detail) => ctx.log?.(`influence cache: ${event}: ${detail}`)) : undefined;
    const testSet = await BatchSet.load(ws.finetuneModel, ws.finetuneTest, st.batchSize, selected, ctx.signal);
    let lastPhase = '';
    let result;
    try {
      result = await influenceScores(
        {
          pretrain: { model: ws.pretrainModel, loss: config.pretrain.loss, train: ws.pretrainTrain },
          finetune: { model: ws.finetuneModel, loss: config.finetune.loss, train: ws.finetuneTrain },
          sharedLayers: config.sharedLayers,
          test: testSet,
          case: testCase,
          settings: st,
        },
        {
          signal: ctx.signal,
          ...(cache ? { cache } : {}),
          onProgress: (p) => {
            if (p.phase !== lastPhase) {
              if (lastPhase) endPhase(lastPhase);
              lastPhase = p.phase;
            }
            ctx.onProgress?.({ ...p, fraction: 0.05 + 0.95 * p.fraction });
          },
        },
      );
      if (lastPhase) endPhase(lastPhase);
    } finally {
      testSet.dispose();
    }

    const top = options.top ?? DEFAULT_TOP_K;
    const preIds = ws.pretrainTrain.ids();
    const ranked = async (index: number): Promise<RankedExample> => {
      const text = (await ws.pretrainTrain.display(index)).text;
      return {
        index,
        id: preIds[index] ?? String(index),
        score: result.scores[index] as number,
        ...(text !== undefined ? { text } : {}),
        ...lineField(ws.pretrainTrain, index),
      };
    };
    const order = Array.from(result.scores.keys()).sort((a, b) => (result.scores[b] as number) - (result.scores[a] as number));
    const harmful = await Promise.all(order.filter((i) => (result.scores[i] as number) > 0).slice(0, top).map(ranked));
    const helpful = await Promise.all(
      order
        .filter((i) => (result.scores[i] as number) < 0)
        .reverse()
        .slice(0, top)
        .map(ranked),
    );
    const pretrainSolve = result.solves.find((d) => d.system === 'pretrain');
    for (const w of result.warnings) ctx.log?.(`warning: ${w}`);
    return {
      version: 1,
      case: testCase,
      test,
      pretrainCount: ws.pretrainTrain.count,
      scores: Array.from(result.scores),
      harmful,
      helpful,
      ...(result.breakdown ? { breakdown: { direct: Array.from(result.breakdown.direct), throughHead: Array.from(result.breakdown.throughHead) } } : {}),
      settings: {
        pretrainDamping: st.pretrainDamping,
        finetuneDamping: st.finetuneDamping,
        cgIterations: st.cgIterations,
        cgTolerance: st.cgTolerance,
        hessianSamples: st.hessianSamples,
        alpha: st.alpha,
        seed: st.seed,
        dampingForm: st.dampingForm,
        solver: st.solver,
      },
      diagnostics: {
        backend: tf.getBackend(),
        backendReason: backendReason(),
        seconds: timer.seconds(),
        cgResidual: pretrainSolve?.residuals ?? [],
        solves: result.solves,
        hessianSampleCount: result.hessianSampleCount,
        parameters: result.parameters,
        gradientNorms: result.gradientNorms,
        warnings: result.warnings,
        phases,
        memory: { peakTensorBytes: peakTensorBytes(), startTensorBytes },
        ...(cacheKey ? { cache: { hit: result.cached, key: cacheKey } } : {}),
      },
    };
  } finally {
    ws.dispose();
  }
}

/** `evaluate`: every test point with its label, prediction and loss (for pickers and lists). */
export async function runEvaluate(configPath: string, ctx: JobContext = {}): Promise<EvaluateResult> {
  const ws = await loadWorkspace(configPath, ctx);
  try {
    const test = await summarizeTestPoints(ws, undefined, ctx.signal);
    const misclassified = ws.config.finetune.loss === 'mse' ? [] : test.filter((t) => t.prediction !== t.label).map((t) => t.index);
    return { test, misclassified, backend: tf.getBackend() };
  } finally {
    ws.dispose();
  }
}

/** Label, prediction and loss of the test points at `indices` (all when omitted). */
async function summarizeTestPoints(ws: LoadedWorkspace, indices: readonly number[] | undefined, signal?: AbortSignal): Promise<TestPointSummary[]> {
  const loss = ws.config.finetune.loss;
  const ev = await evaluateExamples(ws.finetuneModel, loss, ws.finetuneTest, ws.config.influence.batchSize, indices, signal);
  const ids = ws.finetuneTest.ids();
  return ev.indices.map((index, k) => ({
    index,
    id: ids[index] ?? String(index),
    label: scalarOrArray(ev.labels[k] as number[], loss),
    prediction: scalarOrArray(ev.predictions[k] as number[], loss),
    loss: ev.losses[k] as number,
    ...lineField(ws.finetuneTest, index),
  }));
}

/** The entries of `o` that are not undefined. */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Resolves `--test`: an index, an id, `all` or `misclassified`, to dataset indices. */
async function selectTestPoints(ws: LoadedWorkspace, test: string, ctx: JobContext): Promise<number[]> {
  const ds = ws.finetuneTest;
  const loss = ws.config.finetune.loss;
  if (test === 'all') return Array.from({ length: ds.count }, (_, i) => i);
  if (test === 'misclassified') {
    if (loss === 'mse') {
      throw new MsifError('usage', '--test misclassified needs a classification loss, and finetune.loss is mse', { field: '--test', expected: 'an index, an id or all' });
    }
    progress(ctx, 'load', 0.02, 'finding misclassified test points');
    const ev = await evaluateExamples(ws.finetuneModel, loss, ds, ws.config.influence.batchSize, undefined, ctx.signal);
    const wrong = ev.indices.filter((_, k) => ev.predictions[k]?.[0] !== ev.labels[k]?.[0]);
    if (wrong.length === 0) throw new MsifError('usage', `no test point of ${ds.file} is misclassified`, { field: '--test', expected: 'an index, an id or all' });
    return wrong;
  }
  if (/^\d+$/.test(test)) {
    const i = Number(test);
    if (i >= ds.count) throw new MsifError('usage', `test index ${i} is out of range: ${ds.file} has ${ds.count} examples`, { field: '--test', expected: `0..${ds.count - 1}` });
    return [i];
  }
  const i = ds.ids().indexOf(test);
  if (i < 0) throw new MsifError('usage', `no test example has id '${test}' in ${ds.file}`, { field: '--test', expected: 'an index, an id, all or misclassified' });
  return [i];
}

/** `msif train`: trains both stages from the `training` block and writes the models. */
export async function runTrain(configPath: string, ctx: JobContext = {}): Promise<TrainResult> {
  const started = Date.now();
  const ws = await loadWorkspace(configPath, ctx);
  try {
    const { config } = ws;
    const tr = config.training;
    // Progress units: one per epoch, and one per stage for polishing when asked for.
    const polishUnit = tr.polishSteps > 0 ? 1 : 0;
    const total = Math.max(1, tr.pretrainEpochs + tr.finetuneEpochs + 2 * polishUnit);
    const finetuneStart = tr.pretrainEpochs + polishUnit;
    // Both stages from the saved weights; the finetuning model starts from the new W̄.
    const { pretrain: pre, finetune: fin } = await retrainBothStages(
      {
        pretrain: { model: ws.pretrainModel, loss: config.pretrain.loss, train: ws.pretrainTrain, start: ws.pretrainModel.params },
        finetune: { model: ws.finetuneModel, loss: config.finetune.loss, train: ws.finetuneTrain, start: ws.finetuneModel.params },
        sharedLayers: config.sharedLayers,
        case: config.finetune.embedding,
        alpha: config.influence.alpha,
        training: tr,
      },
      {
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        onEpoch: (e) =>
          e.stage === 'pretrain'
            ? progress(ctx, 'train-pretrain', e.epoch / total, `pretraining epoch ${e.epoch}/${e.epochs}, loss ${e.loss.toFixed(4)}`)
            : progress(ctx, 'train-finetune', (finetuneStart + e.epoch) / total, `finetuning epoch ${e.epoch}/${e.epochs}, loss ${e.loss.toFixed(4)}`),
        onPolish: (stage, step, steps, g) => {
          const before = stage === 'pretrain' ? tr.pretrainEpochs : finetuneStart + tr.finetuneEpochs;
          progress(ctx, `train-${stage}`, (before + step / steps) / total, `${stage === 'pretrain' ? 'pretraining' : 'finetuning'}: polishing step ${step}/${steps} (L-BFGS), ‖∇‖ ${g.toExponential(2)}`);
        },
        onStage: (stage, r) =>
          ctx.log?.(
            `${stage === 'pretrain' ? 'pretraining' : 'finetuning'}: loss ${r.finalLoss.toFixed(5)}, gradient norm ${r.gradientNorm.toExponential(2)}` +
              (r.polish ? ` after ${r.polish.steps} polishing step(s) (${r.polish.stop})` : ''),
          ),
      },
    );

    const ev = await evaluateExamples(ws.finetuneModel, config.finetune.loss, ws.finetuneTest, config.influence.batchSize, undefined, ctx.signal);
    const correct = ev.indices.filter((_, k) => ev.predictions[k]?.[0] === ev.labels[k]?.[0]).length;
    await saveModelWeights(ws.pretrainModel);
    await saveModelWeights(ws.finetuneModel);
    return {
      pretrain: { model: config.pretrain.model, ...pre },
      finetune: { model: config.finetune.model, ...fin, testAccuracy: config.finetune.loss === 'mse' ? NaN : correct / Math.max(1, ev.indices.length) },
      seconds: (Date.now() - started) / 1000,
      backend: tf.getBackend(),
    };
  } finally {
    ws.dispose();
  }
}

function progress(ctx: JobContext, phase: string, fraction: number, message: string): void {
  ctx.onProgress?.({ phase, fraction, message });
}

function scalarOrArray(v: number[], loss: LossName): number | number[] {
  return loss === 'mse' && v.length !== 1 ? v : (v[0] as number);
}

function lineField(ds: Dataset, index: number): { line?: number } {
  const line = ds.lineOf(index);
  return line === undefined ? {} : { line };
}
