/**
 * Loads an `msif.json` workspace (contract §2–3, JSON Lines datasets only) into float64
 * reference objects, and fixes the index maps between the stages:
 * W = the parameters of `sharedLayers`, U = the pretraining model's others, Θ = the
 * finetuning model's others. The W order is the pretraining model's θ order; the
 * finetuning model's shared weights are matched to it by `<layer>/<param>` and element.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ReferenceNet, type ReferenceExample, type ReferenceLoss } from './float64Net';
import { readTfjsModel } from './tfjsModelReader';

/** One stage: the network, θ as saved in its model file, and its training set. */
export interface ReferenceStage {
  readonly net: ReferenceNet;
  readonly savedParams: Float64Array;
  readonly train: readonly ReferenceExample[];
}

/** A loaded workspace with the W/U/Θ index maps. */
export interface ReferenceWorkspace {
  readonly file: string;
  readonly sharedLayers: readonly string[];
  readonly embedding: 'fixed' | 'updated';
  /** `influence` settings found in the file (contract defaults otherwise). */
  readonly pretrainDamping: number;
  readonly finetuneDamping: number;
  readonly alpha: number;
  readonly pretrain: ReferenceStage;
  readonly finetune: ReferenceStage & { readonly test: readonly ReferenceExample[] };
  /** Indices of W in the pretraining θ (this order defines W). */
  readonly sharedInPretrain: readonly number[];
  /** Indices of U in the pretraining θ. */
  readonly otherInPretrain: readonly number[];
  /** Indices of W in the finetuning θ, aligned with {@link sharedInPretrain}. */
  readonly sharedInFinetune: readonly number[];
  /** Indices of Θ in the finetuning θ. */
  readonly otherInFinetune: readonly number[];
}

/** Reads the workspace described by `msifPath`. */
export function loadReferenceWorkspace(msifPath: string): ReferenceWorkspace {
  const file = path.resolve(msifPath);
  const dir = path.dirname(file);
  const cfg = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  const pre = record(cfg['pretrain'], 'pretrain', file);
  const fin = record(cfg['finetune'], 'finetune', file);
  const influence = cfg['influence'] === undefined ? {} : record(cfg['influence'], 'influence', file);
  const sharedLayers = cfg['sharedLayers'];
  if (!Array.isArray(sharedLayers) || !sharedLayers.every((s): s is string => typeof s === 'string')) {
    throw new Error(`${file}: sharedLayers must be an array of layer names`);
  }
  const stage = (s: Record<string, unknown>, name: string): ReferenceStage => {
    const net = new ReferenceNet(readTfjsModel(path.resolve(dir, text(s['model'], `${name}.model`, file))), lossName(s['loss'], `${name}.loss`, file));
    return { net, savedParams: net.initialParams(), train: readJsonlExamples(path.resolve(dir, text(s['train'], `${name}.train`, file))) };
  };
  const pretrain = stage(pre, 'pretrain');
  const finetune = { ...stage(fin, 'finetune'), test: readJsonlExamples(path.resolve(dir, text(fin['test'], 'finetune.test', file))) };
  const embedding = fin['embedding'] ?? 'fixed';
  if (embedding !== 'fixed' && embedding !== 'updated') throw new Error(`${file}: finetune.embedding must be fixed or updated`);
  const sharedInPretrain = pretrain.net.indicesOfLayers(sharedLayers);
  const sharedInFinetune = alignShared(pretrain.net, finetune.net, sharedLayers, file);
  const complement = (n: number, taken: readonly number[]): number[] => {
    const set = new Set(taken);
    return Array.from({ length: n }, (_, i) => i).filter((i) => !set.has(i));
  };
  const num = (key: string, fallback: number): number => {
    const v = influence[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'number') throw new Error(`${file}: influence.${key} must be a number`);
    return v;
  };
  return {
    file,
    sharedLayers,
    embedding,
    pretrainDamping: num('pretrainDamping', 0.01),
    finetuneDamping: num('finetuneDamping', 1e-8),
    alpha: num('alpha', 0.01),
    pretrain,
    finetune,
    sharedInPretrain,
    otherInPretrain: complement(pretrain.net.paramCount, sharedInPretrain),
    sharedInFinetune,
    otherInFinetune: complement(finetune.net.paramCount, sharedInFinetune),
  };
}

/**
 * Reads a JSON Lines dataset (`{"x": number | nested array, "y": number | array}` per
 * line, blank lines skipped) into flattened float64 examples.
 */
export function readJsonlExamples(file: string): ReferenceExample[] {
  const out: ReferenceExample[] = [];
  fs.readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .forEach((line, i) => {
      if (line.trim() === '') return;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch {
        throw new Error(`${file}:${i + 1}: not valid JSON`);
      }
      const r = record(row, `line ${i + 1}`, file);
      out.push({ x: Float64Array.from(flatten(r['x'], `${file}:${i + 1} x`)), y: Float64Array.from(flatten(r['y'], `${file}:${i + 1} y`)) });
    });
  return out;
}

/** Finetuning θ indices of W, in the pretraining model's W order. */
function alignShared(pre: ReferenceNet, fin: ReferenceNet, layers: readonly string[], file: string): number[] {
  const out: number[] = [];
  const wanted = new Set(layers);
  for (const layer of layers) {
    if (!pre.blocks.some((b) => b.layer === layer)) throw new Error(`${file}: shared layer ${layer} has no trainable weights in the pretraining model`);
  }
  for (const b of pre.blocks) {
    if (!wanted.has(b.layer)) continue;
    const f = fin.blocks.find((x) => x.name === b.name);
    if (f === undefined || f.shape.join(',') !== b.shape.join(',')) {
      throw new Error(`${file}: shared weight ${b.name} [${b.shape.join(', ')}] not found with that shape in the finetuning model`);
    }
    for (let i = 0; i < b.size; i++) out.push(f.offset + i);
  }
  const finShared = fin.indicesOfLayers(layers).length;
  if (finShared !== out.length) throw new Error(`${file}: the shared layers have different weights in the two models`);
  return out;
}

function flatten(v: unknown, where: string): number[] {
  if (typeof v === 'number') return [v];
  if (Array.isArray(v)) return v.flatMap((e) => flatten(e, where));
  throw new Error(`${where}: expected a number or a nested array of numbers`);
}

function lossName(v: unknown, field: string, file: string): ReferenceLoss {
  if (v === 'softmax_cross_entropy' || v === 'sigmoid_cross_entropy' || v === 'mse') return v;
  throw new Error(`${file}: ${field} must be softmax_cross_entropy, sigmoid_cross_entropy or mse`);
}

function record(v: unknown, field: string, file: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${file}: ${field} must be an object`);
  return v as Record<string, unknown>;
}

function text(v: unknown, field: string, file: string): string {
  if (typeof v !== 'string') throw new Error(`${file}: ${field} must be a path`);
  return v;
}
