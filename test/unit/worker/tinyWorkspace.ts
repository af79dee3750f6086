/**
 * Writes a small workspace (contract §2–3) into a temporary directory: two dense models
 * sharing `emb_1` and JSON Lines datasets from a seeded generator. By default its
 * influence settings make the CG solves run thousands of iterations (seconds), so that
 * a trace is still running when a test cancels it.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src/worker/backend';

/** A workspace on disk; `dispose` removes it. */
export interface TinyWorkspace {
  readonly dir: string;
  /** Path of its msif.json. */
  readonly config: string;
  readonly dispose: () => Promise<void>;
}

const INPUTS = 20;
const HIDDEN = 32;

/** Influence settings that keep a trace busy for seconds: CG never stops early. */
export const SLOW_INFLUENCE = { solver: 'cg', cgIterations: 5000, cgTolerance: 0, hessianSamples: 4000 };

/** Influence settings for a trace that finishes quickly. */
export const QUICK_INFLUENCE = { solver: 'cg', cgIterations: 10, hessianSamples: 200 };

/** Creates the workspace with the given `influence` section. */
export async function createTinyWorkspace(influence: object = SLOW_INFLUENCE): Promise<TinyWorkspace> {
  await initBackend();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'msif-tiny-'));
  const random = mulberry32(7);
  await saveModel(dir, 'pretrain', 10);
  await saveModel(dir, 'finetune', 3);
  await writeDataset(path.join(dir, 'pretrain.jsonl'), 4000, 10, random);
  await writeDataset(path.join(dir, 'finetune_train.jsonl'), 200, 3, random);
  await writeDataset(path.join(dir, 'finetune_test.jsonl'), 20, 3, random);
  const config = path.join(dir, 'msif.json');
  const workspace = {
    version: 1,
    sharedLayers: ['emb_1'],
    pretrain: { model: 'pretrain/model.json', train: 'pretrain.jsonl', loss: 'softmax_cross_entropy' },
    finetune: {
      model: 'finetune/model.json',
      train: 'finetune_train.jsonl',
      test: 'finetune_test.jsonl',
      loss: 'softmax_cross_entropy',
      embedding: 'fixed',
    },
    influence,
  };
  await fs.writeFile(config, JSON.stringify(workspace, null, 2));
  return { dir, config, dispose: () => fs.rm(dir, { recursive: true, force: true }) };
}

/** Saves `input → emb_1 (dense, relu) → <stage>_head (dense, logits)` as a tfjs Layers model. */
async function saveModel(dir: string, stage: string, classes: number): Promise<void> {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [INPUTS], units: HIDDEN, activation: 'relu', name: 'emb_1' }),
      tf.layers.dense({ units: classes, name: `${stage}_head` }),
    ],
  });
  const out = path.join(dir, stage);
  await fs.mkdir(out);
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? []);
      await fs.writeFile(path.join(out, 'weights.bin'), new Uint8Array(weights));
      const manifest = {
        format: 'layers-model',
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      };
      await fs.writeFile(path.join(out, 'model.json'), JSON.stringify(manifest));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  model.dispose();
}

async function writeDataset(file: string, count: number, classes: number, random: () => number): Promise<void> {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const x = Array.from({ length: INPUTS }, () => Number((random() * 2 - 1).toFixed(4)));
    lines.push(JSON.stringify({ id: `${path.basename(file, '.jsonl')}-${i}`, x, y: Math.floor(random() * classes) }));
  }
  await fs.writeFile(file, `${lines.join('\n')}\n`);
}

/** A small seeded generator of uniform numbers in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
