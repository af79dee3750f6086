/**
 * `msif.json`: parsing and validation (contract §2). Pure: takes the text and the file's
 * path (for messages and for resolving relative paths) and returns a fully defaulted
 * config or throws an {@link MsifError} naming the field and what was expected.
 */
import * as path from 'node:path';
import { MsifError } from './errors';

export type LossName = 'softmax_cross_entropy' | 'sigmoid_cross_entropy' | 'mse';
export const LOSS_NAMES: readonly LossName[] = ['softmax_cross_entropy', 'sigmoid_cross_entropy', 'mse'];

export type EmbeddingCase = 'fixed' | 'updated';
export type DampingForm = 'plain' | 'squared';
export type SolverName = 'cg' | 'exact' | 'auto';

/**
 * Where a dataset lives. The contract's form is a path to a JSON Lines file; the object
 * form adds IDX and NumPy files, with inputs and labels in separate files.
 */
export type DatasetSpec =
  | { readonly format: 'jsonl'; readonly path: string }
  | {
      readonly format: 'idx' | 'npy';
      /** Inputs: IDX (`.idx3-ubyte`, optionally `.gz`) or `.npy`, first axis = examples. */
      readonly x: string;
      /** Labels: same format, first axis = examples. */
      readonly y: string;
      /** Inputs are multiplied by this (e.g. 1/255 for bytes). Default 1. */
      readonly scale: number;
      /** Keep only these labels, renumbered 0..k-1 in the order given. */
      readonly classes?: readonly number[];
      /** Keep only the first N examples (after `classes`). */
      readonly limit?: number;
    };

export interface StageConfig {
  /** Absolute path of the model.json. */
  readonly model: string;
  readonly train: DatasetSpec;
  readonly loss: LossName;
}

export interface FinetuneConfig extends StageConfig {
  readonly test: DatasetSpec;
  readonly embedding: EmbeddingCase;
}

export interface InfluenceSettings {
  readonly pretrainDamping: number;
  readonly finetuneDamping: number;
  readonly cgIterations: number;
  /** Stop CG once ‖r‖/‖b‖ falls below this. */
  readonly cgTolerance: number;
  readonly hessianSamples: number;
  readonly alpha: number;
  readonly seed: number;
  /** `plain`: (H+λI)x=b. `squared`: the paper's (H²+λI)x=Hb (eq. 16). */
  readonly dampingForm: DampingForm;
  /** `exact` builds the Hessian densely (small models), `cg` never does, `auto` chooses. */
  readonly solver: SolverName;
  /** Examples per batch for gradients, Hessian-vector products and scoring. */
  readonly batchSize: number;
}

export interface TrainingSettings {
  readonly optimizer: 'adam' | 'sgd';
  readonly learningRate: number;
  readonly batchSize: number;
  readonly pretrainEpochs: number;
  readonly finetuneEpochs: number;
  readonly seed: number;
  /**
   * After each stage's epochs, at most this many full-batch L-BFGS steps on the same
   * objective, stopping at ‖∇‖ ≤ {@link POLISH_GRADIENT_TOLERANCE} (0: none). Influence
   * functions assume trained weights at a minimum; a few epochs of minibatch Adam leave
   * ‖∇‖ around 0.1–1.
   */
  readonly polishSteps: number;
}

/** Where polishing (TrainingSettings.polishSteps) stops: the leave-one-out check's default tolerance. */
export const POLISH_GRADIENT_TOLERANCE = 1e-6;

export interface WorkspaceConfig {
  /** Absolute path of the msif.json file. */
  readonly file: string;
  readonly version: 1;
  readonly sharedLayers: readonly string[];
  readonly pretrain: StageConfig;
  readonly finetune: FinetuneConfig;
  readonly influence: InfluenceSettings;
  readonly training: TrainingSettings;
}

export const DEFAULT_INFLUENCE: InfluenceSettings = {
  pretrainDamping: 0.01,
  finetuneDamping: 1e-8,
  cgIterations: 100,
  cgTolerance: 1e-5,
  hessianSamples: 1000,
  alpha: 0.01,
  seed: 0,
  dampingForm: 'plain',
  solver: 'auto',
  batchSize: 256,
};

export const DEFAULT_TRAINING: TrainingSettings = {
  optimizer: 'adam',
  learningRate: 0.001,
  batchSize: 128,
  pretrainEpochs: 10,
  finetuneEpochs: 10,
  seed: 0,
  polishSteps: 0,
};

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

/** Parses and validates `msif.json` text; `file` is its path. */
export function parseWorkspaceConfig(text: string, file: string): WorkspaceConfig {
  const abs = path.resolve(file);
  const dir = path.dirname(abs);
  let raw: Json;
  try {
    raw = JSON.parse(text) as Json;
  } catch (e) {
    throw new MsifError('config', `not valid JSON: ${(e as Error).message}`, { file, expected: 'a JSON object' });
  }
  const v = new Validator(file);
  const root = v.object(raw, '');
  v.known(root, '', ['version', 'sharedLayers', 'pretrain', 'finetune', 'influence', 'training', '$schema', 'description']);
  const version = root['version'] ?? 1;
  if (version !== 1) throw v.error('version', 'unsupported version', '1');

  const shared = v.array(root['sharedLayers'], 'sharedLayers');
  const sharedLayers = shared.map((s, i) => v.string(s, `sharedLayers[${i}]`));
  if (sharedLayers.length === 0) throw v.error('sharedLayers', 'is empty', 'at least one layer name');
  const dup = sharedLayers.find((s, i) => sharedLayers.indexOf(s) !== i);
  if (dup !== undefined) throw v.error('sharedLayers', `names '${dup}' twice`, 'distinct layer names');

  const pre = v.object(root['pretrain'], 'pretrain');
  v.known(pre, 'pretrain', ['model', 'train', 'loss']);
  const fin = v.object(root['finetune'], 'finetune');
  v.known(fin, 'finetune', ['model', 'train', 'test', 'loss', 'embedding']);

  const pretrain: StageConfig = {
    model: path.resolve(dir, v.string(pre['model'], 'pretrain.model')),
    train: v.dataset(pre['train'], 'pretrain.train', dir),
    loss: v.loss(pre['loss'], 'pretrain.loss'),
  };
  const embedding = fin['embedding'] ?? 'fixed';
  if (embedding !== 'fixed' && embedding !== 'updated') {
    throw v.error('finetune.embedding', `is ${JSON.stringify(embedding)}`, `"fixed" or "updated"`);
  }
  const finetune: FinetuneConfig = {
    model: path.resolve(dir, v.string(fin['model'], 'finetune.model')),
    train: v.dataset(fin['train'], 'finetune.train', dir),
    test: v.dataset(fin['test'], 'finetune.test', dir),
    loss: v.loss(fin['loss'], 'finetune.loss'),
    embedding,
  };

  const inf = root['influence'] === undefined ? {} : v.object(root['influence'], 'influence');
  v.known(inf, 'influence', Object.keys(DEFAULT_INFLUENCE));
  const d = DEFAULT_INFLUENCE;
  const influence: InfluenceSettings = {
    pretrainDamping: v.number(inf['pretrainDamping'], 'influence.pretrainDamping', d.pretrainDamping, { min: 0 }),
    finetuneDamping: v.number(inf['finetuneDamping'], 'influence.finetuneDamping', d.finetuneDamping, { min: 0 }),
    cgIterations: v.integer(inf['cgIterations'], 'influence.cgIterations', d.cgIterations, 1),
    cgTolerance: v.number(inf['cgTolerance'], 'influence.cgTolerance', d.cgTolerance, { min: 0 }),
    hessianSamples: v.integer(inf['hessianSamples'], 'influence.hessianSamples', d.hessianSamples, 1),
    alpha: v.number(inf['alpha'], 'influence.alpha', d.alpha, { min: 0, exclusiveMin: true }),
    seed: v.integer(inf['seed'], 'influence.seed', d.seed, 0),
    dampingForm: v.oneOf(inf['dampingForm'], 'influence.dampingForm', ['plain', 'squared'] as const, d.dampingForm),
    solver: v.oneOf(inf['solver'], 'influence.solver', ['cg', 'exact', 'auto'] as const, d.solver),
    batchSize: v.integer(inf['batchSize'], 'influence.batchSize', d.batchSize, 1),
  };

  const tr = root['training'] === undefined ? {} : v.object(root['training'], 'training');
  v.known(tr, 'training', Object.keys(DEFAULT_TRAINING));
  const t = DEFAULT_TRAINING;
  const training: TrainingSettings = {
    optimizer: v.oneOf(tr['optimizer'], 'training.optimizer', ['adam', 'sgd'] as const, t.optimizer),
    learningRate: v.number(tr['learningRate'], 'training.learningRate', t.learningRate, { min: 0, exclusiveMin: true }),
    batchSize: v.integer(tr['batchSize'], 'training.batchSize', t.batchSize, 1),
    pretrainEpochs: v.integer(tr['pretrainEpochs'], 'training.pretrainEpochs', t.pretrainEpochs, 0),
    finetuneEpochs: v.integer(tr['finetuneEpochs'], 'training.finetuneEpochs', t.finetuneEpochs, 0),
    seed: v.integer(tr['seed'], 'training.seed', t.seed, 0),
    polishSteps: v.integer(tr['polishSteps'], 'training.polishSteps', t.polishSteps, 0),
  };

  return { file: abs, version: 1, sharedLayers, pretrain, finetune, influence, training };
}

class Validator {
  constructor(private readonly file: string) {}

  error(field: string, problem: string, expected: string): MsifError {
    return new MsifError('config', problem, { file: this.file, field: field || undefined, expected });
  }

  object(x: Json | undefined, field: string): JsonObject {
    if (x === undefined) throw this.error(field, 'is missing', 'an object');
    if (x === null || typeof x !== 'object' || Array.isArray(x)) {
      throw this.error(field, `is ${describe(x)}`, 'an object');
    }
    return x;
  }

  array(x: Json | undefined, field: string): Json[] {
    if (x === undefined) throw this.error(field, 'is missing', 'an array');
    if (!Array.isArray(x)) throw this.error(field, `is ${describe(x)}`, 'an array');
    return x;
  }

  string(x: Json | undefined, field: string): string {
    if (x === undefined) throw this.error(field, 'is missing', 'a string');
    if (typeof x !== 'string' || x.length === 0) throw this.error(field, `is ${describe(x)}`, 'a non-empty string');
    return x;
  }

  number(x: Json | undefined, field: string, dflt: number, o: { min?: number; exclusiveMin?: boolean } = {}): number {
    if (x === undefined) return dflt;
    if (typeof x !== 'number' || !Number.isFinite(x)) throw this.error(field, `is ${describe(x)}`, 'a finite number');
    if (o.min !== undefined && (o.exclusiveMin ? x <= o.min : x < o.min)) {
      throw this.error(field, `is ${x}`, `a number ${o.exclusiveMin ? '>' : '≥'} ${o.min}`);
    }
    return x;
  }

  integer(x: Json | undefined, field: string, dflt: number, min: number): number {
    if (x === undefined) return dflt;
    if (typeof x !== 'number' || !Number.isInteger(x) || x < min) {
      throw this.error(field, `is ${describe(x)}`, `an integer ≥ ${min}`);
    }
    return x;
  }

  oneOf<T extends string>(x: Json | undefined, field: string, options: readonly T[], dflt: T): T {
    if (x === undefined) return dflt;
    if (typeof x !== 'string' || !(options as readonly string[]).includes(x)) {
      throw this.error(field, `is ${describe(x)}`, `one of ${options.map((o) => `"${o}"`).join(', ')}`);
    }
    return x as T;
  }

  loss(x: Json | undefined, field: string): LossName {
    if (x === undefined) throw this.error(field, 'is missing', `one of ${LOSS_NAMES.join(', ')}`);
    if (typeof x !== 'string' || !(LOSS_NAMES as readonly string[]).includes(x)) {
      throw this.error(field, `unknown loss ${describe(x)}`, `one of ${LOSS_NAMES.join(', ')}`);
    }
    return x as LossName;
  }

  known(o: JsonObject, field: string, keys: readonly string[]): void {
    for (const k of Object.keys(o)) {
      if (!keys.includes(k)) {
        throw this.error(field ? `${field}.${k}` : k, 'is not a known field', `one of ${keys.join(', ')}`);
      }
    }
  }

  dataset(x: Json | undefined, field: string, dir: string): DatasetSpec {
    if (typeof x === 'string') {
      if (x.length === 0) throw this.error(field, 'is an empty string', 'a path to a .jsonl file');
      return { format: 'jsonl', path: path.resolve(dir, x) };
    }
    if (x === undefined) throw this.error(field, 'is missing', 'a path to a .jsonl file or {"x": ..., "y": ...}');
    const o = this.object(x, field);
    this.known(o, field, ['format', 'path', 'x', 'y', 'scale', 'classes', 'limit']);
    if (o['path'] !== undefined) {
      const fmt = o['format'] ?? 'jsonl';
      if (fmt !== 'jsonl') throw this.error(`${field}.format`, `is ${describe(fmt)} with 'path'`, '"jsonl" (use x and y for idx/npy)');
      return { format: 'jsonl', path: path.resolve(dir, this.string(o['path'], `${field}.path`)) };
    }
    const xs = this.string(o['x'], `${field}.x`);
    const ys = this.string(o['y'], `${field}.y`);
    const inferred = /\.npy$/i.test(xs) ? 'npy' : 'idx';
    const format = this.oneOf(o['format'], `${field}.format`, ['idx', 'npy'] as const, inferred);
    const scale = this.number(o['scale'], `${field}.scale`, 1);
    let classes: number[] | undefined;
    if (o['classes'] !== undefined) {
      classes = this.array(o['classes'], `${field}.classes`).map((c, i) => this.integer(c, `${field}.classes[${i}]`, 0, 0));
      if (classes.length === 0) throw this.error(`${field}.classes`, 'is empty', 'at least one class label');
    }
    const limit = o['limit'] === undefined ? undefined : this.integer(o['limit'], `${field}.limit`, 0, 1);
    return {
      format,
      x: path.resolve(dir, xs),
      y: path.resolve(dir, ys),
      scale,
      ...(classes ? { classes } : {}),
      ...(limit !== undefined ? { limit } : {}),
    };
  }
}

function describe(x: Json | undefined): string {
  if (x === undefined) return 'missing';
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  if (typeof x === 'object') return 'an object';
  return JSON.stringify(x);
}
