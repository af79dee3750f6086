/**
 * Builds an MSIF workspace (contract §2) from Debian's Fashion-MNIST files
 * (`dataset-fashion-mnist`): pretraining on one subset of classes, finetuning on a
 * disjoint subset, with two TensorFlow.js Layers CNNs whose convolutions are the shared
 * embedding W, and optionally trains both stages with `msif train`'s job.
 *
 *     node --import tsx scripts/makeFashionWorkspace.ts --out DIR [options]
 *
 * Deterministic: the examples are chosen by a seeded generator, balanced across classes,
 * and the layers use seeded initializers, so the same options give byte-identical files
 * (training is deterministic for a given backend).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as zlib from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/worker/backend';
import { loadWorkspace, runTrain } from '../src/worker/jobs';
import { evaluateExamples } from '../src/engine/influence/influenceScores';
import { seededRandom } from '../src/engine/influence/sampling';

/** Fashion-MNIST's class names, by label. */
export const CLASS_NAMES: readonly string[] = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

const DEFAULT_DATA_DIR = '/usr/share/datasets/fashion-mnist';
const SIDE = 28;

export interface MakeOptions {
  readonly out: string;
  readonly dataDir: string;
  readonly pretrainClasses: readonly number[];
  readonly finetuneClasses: readonly number[];
  readonly pretrainCount: number;
  readonly finetuneCount: number;
  readonly testCount: number;
  readonly downsample: number;
  readonly model: 'small' | 'paper';
  readonly format: 'jsonl' | 'idx';
  readonly seed: number;
  readonly embedding: 'fixed' | 'updated';
  readonly train: boolean;
  readonly backend: 'auto' | 'wasm' | 'cpu' | 'tensorflow';
  readonly influence: Record<string, number | string>;
  readonly training: Record<string, number | string>;
}

const USAGE = `usage: node --import tsx scripts/makeFashionWorkspace.ts --out DIR [options]

  --pretrain-classes 0,1,2,3     Fashion-MNIST labels of the pretraining task
  --finetune-classes 4,5,6,7,8,9 labels of the finetuning task (disjoint from the above)
  --pretrain-count N             pretraining examples (balanced across classes)   [2000]
  --finetune-count N             finetuning training examples (balanced)          [500]
  --test-count N                 finetuning test examples, from t10k (balanced)   [100]
  --downsample F                 average-pool the 28x28 images by F (F divides 28) [1]
  --model small|paper            small CNN, or the paper's MNIST CNN (Table A)   [small]
  --format jsonl|idx             write data/*.jsonl, or reference the IDX files   [jsonl]
  --seed S                       example choice, initializers, training order     [0]
  --embedding fixed|updated      finetune.embedding (Case 1 / Case 2)              [fixed]
  --train                        train both stages (msif train) and write the weights
  --backend auto|wasm|cpu        TensorFlow.js backend for --train (MSIF_BACKEND wins) [auto]
  --data-dir DIR                 where the *-ubyte.gz files are  [${DEFAULT_DATA_DIR}]

msif.json's influence block (the solver form is always "plain"):
  --pretrain-damping X [0.03]  --finetune-damping X [0.001]  --cg-iterations N [100]
  --cg-tolerance X [1e-5]  --hessian-samples N [the pretraining count, i.e. all]
  --alpha X [0.01]  --solver cg|exact|auto [auto]
msif.json's training block (full-batch Adam by default):
  --optimizer adam|sgd [adam]  --learning-rate X [0.01]  --batch-size N [2000]
  --pretrain-epochs N [1000]  --finetune-epochs N [1000]
`;

/** Parses the command line (without `node script`). */
export function parseOptions(argv: readonly string[]): MakeOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      out: { type: 'string' },
      'data-dir': { type: 'string' },
      'pretrain-classes': { type: 'string' },
      'finetune-classes': { type: 'string' },
      'pretrain-count': { type: 'string' },
      'finetune-count': { type: 'string' },
      'test-count': { type: 'string' },
      downsample: { type: 'string' },
      model: { type: 'string' },
      format: { type: 'string' },
      seed: { type: 'string' },
      embedding: { type: 'string' },
      train: { type: 'boolean' },
      backend: { type: 'string' },
      'pretrain-damping': { type: 'string' },
      'finetune-damping': { type: 'string' },
      'cg-iterations': { type: 'string' },
      'cg-tolerance': { type: 'string' },
      'hessian-samples': { type: 'string' },
      alpha: { type: 'string' },
      solver: { type: 'string' },
      optimizer: { type: 'string' },
      'learning-rate': { type: 'string' },
      'batch-size': { type: 'string' },
      'pretrain-epochs': { type: 'string' },
      'finetune-epochs': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  if (!values.out) throw new Error('--out DIR is required');
  const pretrainClasses = classList(values['pretrain-classes'] ?? '0,1,2,3', '--pretrain-classes');
  const finetuneClasses = classList(values['finetune-classes'] ?? '4,5,6,7,8,9', '--finetune-classes');
  const overlap = pretrainClasses.filter((c) => finetuneClasses.includes(c));
  if (overlap.length > 0) throw new Error(`--pretrain-classes and --finetune-classes share ${overlap.join(',')}: they must be disjoint`);
  const downsample = integer(values.downsample ?? '1', '--downsample', 1);
  if (SIDE % downsample !== 0) throw new Error(`--downsample ${downsample} does not divide ${SIDE}`);
  const format = oneOf(values.format ?? 'jsonl', '--format', ['jsonl', 'idx'] as const);
  if (format === 'idx' && downsample !== 1) throw new Error('--format idx references the 28x28 IDX files as they are: it cannot be combined with --downsample');

  const influence: Record<string, number | string> = {
    pretrainDamping: number(values['pretrain-damping'] ?? '0.03', '--pretrain-damping'),
    finetuneDamping: number(values['finetune-damping'] ?? '0.001', '--finetune-damping'),
    cgIterations: integer(values['cg-iterations'] ?? '100', '--cg-iterations', 1),
    cgTolerance: number(values['cg-tolerance'] ?? '1e-5', '--cg-tolerance'),
    hessianSamples: integer(values['hessian-samples'] ?? values['pretrain-count'] ?? '2000', '--hessian-samples', 1),
    alpha: number(values.alpha ?? '0.01', '--alpha'),
    seed: integer(values.seed ?? '0', '--seed', 0),
    dampingForm: 'plain',
    solver: oneOf(values.solver ?? 'auto', '--solver', ['cg', 'exact', 'auto'] as const),
  };
  const training: Record<string, number | string> = {
    optimizer: oneOf(values.optimizer ?? 'adam', '--optimizer', ['adam', 'sgd'] as const),
    learningRate: number(values['learning-rate'] ?? '0.01', '--learning-rate'),
    batchSize: integer(values['batch-size'] ?? '2000', '--batch-size', 1),
    pretrainEpochs: integer(values['pretrain-epochs'] ?? '1000', '--pretrain-epochs', 0),
    finetuneEpochs: integer(values['finetune-epochs'] ?? '1000', '--finetune-epochs', 0),
    seed: integer(values.seed ?? '0', '--seed', 0),
  };
  return {
    out: path.resolve(values.out),
    dataDir: path.resolve(values['data-dir'] ?? DEFAULT_DATA_DIR),
    pretrainClasses,
    finetuneClasses,
    pretrainCount: integer(values['pretrain-count'] ?? '2000', '--pretrain-count', 1),
    finetuneCount: integer(values['finetune-count'] ?? '500', '--finetune-count', 1),
    testCount: integer(values['test-count'] ?? '100', '--test-count', 1),
    downsample,
    model: oneOf(values.model ?? 'small', '--model', ['small', 'paper'] as const),
    format,
    seed: integer(values.seed ?? '0', '--seed', 0),
    embedding: oneOf(values.embedding ?? 'fixed', '--embedding', ['fixed', 'updated'] as const),
    train: values.train ?? false,
    backend: oneOf(values.backend ?? 'auto', '--backend', ['auto', 'wasm', 'cpu', 'tensorflow'] as const),
    influence,
    training,
  };
}

function classList(text: string, flag: string): number[] {
  const list = text.split(',').map((s) => integer(s.trim(), flag, 0));
  if (list.some((c) => c > 9)) throw new Error(`${flag} ${text}: Fashion-MNIST labels are 0..9`);
  if (new Set(list).size !== list.length) throw new Error(`${flag} ${text} repeats a class`);
  if (list.length < 2) throw new Error(`${flag} ${text}: at least two classes are needed`);
  return list;
}

function integer(text: string, flag: string, min: number): number {
  const v = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(v) || v < min) throw new Error(`${flag} ${text}: expected an integer ≥ ${min}`);
  return v;
}

function number(text: string, flag: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v < 0) throw new Error(`${flag} ${text}: expected a number ≥ 0`);
  return v;
}

function oneOf<T extends string>(text: string, flag: string, options: readonly T[]): T {
  if (!(options as readonly string[]).includes(text)) throw new Error(`${flag} ${text}: expected one of ${options.join(', ')}`);
  return text as T;
}

// ---- IDX files -------------------------------------------------------------------

/** A gunzipped uint8 IDX file: its shape and row-major bytes. */
export interface IdxBytes {
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}

/** Reads a (gzipped) IDX file of unsigned bytes (type 0x08), the type Fashion-MNIST uses. */
export function readIdxUint8(file: string): IdxBytes {
  let bytes: Uint8Array = fs.readFileSync(file);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = zlib.gunzipSync(bytes);
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 0x08) {
    throw new Error(`${file}: not an IDX file of unsigned bytes (magic 00 00 08 ..)`);
  }
  const dims = bytes[3] as number;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = Array.from({ length: dims }, (_, i) => view.getUint32(4 + 4 * i, false));
  const start = 4 + 4 * dims;
  const size = shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== start + size) throw new Error(`${file}: ${bytes.length - start} data bytes, the header says ${size}`);
  return { shape, data: bytes.subarray(start) };
}

// ---- seeded choice -----------------------------------------------------------------

function shuffle<T>(items: T[], rand: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = items[i] as T;
    items[i] = items[j] as T;
    items[j] = t;
  }
  return items;
}

/**
 * `count` indices of `labels` whose label is in `classes`, as balanced as `count` allows
 * (the first `count mod k` classes get one more), chosen and then ordered by `rand`.
 */
export function chooseBalanced(labels: Uint8Array, classes: readonly number[], count: number, rand: () => number, what: string): number[] {
  const k = classes.length;
  const chosen: number[] = [];
  classes.forEach((c, ci) => {
    const want = Math.floor(count / k) + (ci < count % k ? 1 : 0);
    const pool: number[] = [];
    labels.forEach((l, i) => {
      if (l === c) pool.push(i);
    });
    if (pool.length < want) throw new Error(`${what}: class ${c} has ${pool.length} examples, ${want} wanted`);
    chosen.push(...shuffle(pool, rand).slice(0, want));
  });
  return shuffle(chosen, rand);
}

/** Image `index` of `images` average-pooled by `f`, in [0, 1], rounded to 3 decimals, as [H][W][1]. */
function imageRows(images: IdxBytes, index: number, f: number): number[][][] {
  const side = SIDE / f;
  const base = index * SIDE * SIDE;
  const rows: number[][][] = [];
  for (let r = 0; r < side; r++) {
    const row: number[][] = [];
    for (let c = 0; c < side; c++) {
      let sum = 0;
      for (let dr = 0; dr < f; dr++) {
        for (let dc = 0; dc < f; dc++) sum += images.data[base + (r * f + dr) * SIDE + c * f + dc] as number;
      }
      row.push([Math.round((sum / (f * f * 255)) * 1000) / 1000]);
    }
    rows.push(row);
  }
  return rows;
}

// ---- models ------------------------------------------------------------------------

/**
 * The CNN of one stage: the shared convolutions `conv1`, `conv2` (same seeds in both
 * stages, so an untrained workspace already has W̄ = W) and a dense head of `classes`
 * logits named `head`.
 *
 * - `small`: conv 6 5×5 tanh (valid) → max-pool 2 → conv 8 3×3 tanh (same) → max-pool 2 →
 *   flatten → dense. On 14×14 inputs: 596 weights in W, 4·33 in U, 6·33 = 198 in Θ.
 * - `paper` (Chen et al. 2020, Table A, MNIST): conv 32 5×5 tanh → max-pool 2 → conv 64
 *   5×5 tanh → max-pool 2 → flatten → dense. The table gives no padding; this uses
 *   `same`, as TensorFlow's classic MNIST CNN does (28×28 → 7×7×64 = 3,136 features).
 */
export function buildModel(kind: 'small' | 'paper', side: number, classes: number, head: string, seed: number): tf.Sequential {
  const glorot = (k: number): ReturnType<typeof tf.initializers.glorotUniform> => tf.initializers.glorotUniform({ seed: seed * 1000 + k });
  const conv = (name: string, filters: number, size: number, padding: 'valid' | 'same', k: number, inputShape?: number[]): tf.layers.Layer =>
    tf.layers.conv2d({
      name,
      filters,
      kernelSize: size,
      padding,
      activation: 'tanh',
      kernelInitializer: glorot(k),
      biasInitializer: 'zeros',
      ...(inputShape ? { inputShape } : {}),
    });
  const spec = kind === 'small' ? { f1: 6, k1: 5, p1: 'valid', f2: 8, k2: 3 } as const : { f1: 32, k1: 5, p1: 'same', f2: 64, k2: 5 } as const;
  // Spatial size after conv1, pool1, conv2 ('same'), pool2: tfjs-layers builds a 0×0 output silently.
  const conv1Side = spec.p1 === 'valid' ? side - spec.k1 + 1 : side;
  const pooled = Math.floor(Math.floor(conv1Side / 2) / 2);
  if (pooled < 1) throw new Error(`the ${kind} model needs larger images than ${side}x${side}: use a smaller --downsample`);
  const model = tf.sequential({ name: `${head}_model` });
  model.add(conv('conv1', spec.f1, spec.k1, spec.p1, 1, [side, side, 1]));
  model.add(tf.layers.maxPooling2d({ name: 'pool1', poolSize: 2, strides: 2 }));
  model.add(conv('conv2', spec.f2, spec.k2, 'same', 2));
  model.add(tf.layers.maxPooling2d({ name: 'pool2', poolSize: 2, strides: 2 }));
  model.add(tf.layers.flatten({ name: 'flatten' }));
  // The heads differ in size; the seed differs too, so they are not copies of each other.
  model.add(tf.layers.dense({ name: head, units: classes, activation: 'linear', kernelInitializer: glorot(head === 'pretrain_head' ? 3 : 4), biasInitializer: 'zeros' }));
  return model;
}

/** Writes `model.json` ({modelTopology, weightsManifest}) and `weights.bin` into `dir`. */
export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const parts = a.weightData === undefined ? [] : Array.isArray(a.weightData) ? a.weightData : [a.weightData];
      fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.concat(parts.map((b) => Buffer.from(b))));
      const json = {
        format: 'layers-model',
        generatedBy: 'scripts/makeFashionWorkspace.ts',
        modelTopology: a.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs ?? [] }],
      };
      fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    }),
  );
}

// ---- the workspace -----------------------------------------------------------------

interface Split {
  readonly file: string;
  readonly prefix: string;
  readonly indices: readonly number[];
  readonly classes: readonly number[];
}

function writeJsonl(out: string, split: Split, images: IdxBytes, labels: Uint8Array, f: number): void {
  const lines = split.indices.map((src, i) => {
    const label = labels[src] as number;
    const y = split.classes.indexOf(label);
    return JSON.stringify({ id: `${split.prefix}-${String(i).padStart(5, '0')}`, x: imageRows(images, src, f), y, text: CLASS_NAMES[label] ?? String(label) });
  });
  fs.writeFileSync(path.join(out, split.file), lines.join('\n') + '\n');
}

/** Writes msif.json, the data files and the untrained models; returns the msif.json path. */
export async function makeWorkspace(o: MakeOptions): Promise<string> {
  const file = (name: string): string => path.join(o.dataDir, name);
  const trainImagesFile = file('train-images-idx3-ubyte.gz');
  const trainLabelsFile = file('train-labels-idx1-ubyte.gz');
  const testImagesFile = file('t10k-images-idx3-ubyte.gz');
  const testLabelsFile = file('t10k-labels-idx1-ubyte.gz');
  const side = SIDE / o.downsample;

  // Everything that can fail (a model that does not fit the images, a class with too few
  // examples, a missing file) is done before the first file is written.
  const pre = buildModel(o.model, side, o.pretrainClasses.length, 'pretrain_head', o.seed);
  const fin = buildModel(o.model, side, o.finetuneClasses.length, 'finetune_head', o.seed);
  try {
    let datasets: { pretrain: unknown; finetuneTrain: unknown; finetuneTest: unknown };
    let writeData: () => void = () => undefined;
    if (o.format === 'jsonl') {
      const trainLabels = readIdxUint8(trainLabelsFile).data;
      const testLabels = readIdxUint8(testLabelsFile).data;
      const trainImages = readIdxUint8(trainImagesFile);
      const testImages = readIdxUint8(testImagesFile);
      // One generator per split, so that changing one count leaves the other splits alone.
      const splits = {
        pretrain: { file: 'data/pretrain.jsonl', prefix: 'pre', classes: o.pretrainClasses, indices: chooseBalanced(trainLabels, o.pretrainClasses, o.pretrainCount, seededRandom(o.seed * 3 + 1), 'pretraining') },
        finetuneTrain: { file: 'data/finetune_train.jsonl', prefix: 'ft', classes: o.finetuneClasses, indices: chooseBalanced(trainLabels, o.finetuneClasses, o.finetuneCount, seededRandom(o.seed * 3 + 2), 'finetuning') },
        finetuneTest: { file: 'data/finetune_test.jsonl', prefix: 'test', classes: o.finetuneClasses, indices: chooseBalanced(testLabels, o.finetuneClasses, o.testCount, seededRandom(o.seed * 3 + 3), 'test') },
      };
      writeData = () => {
        fs.mkdirSync(path.join(o.out, 'data'), { recursive: true });
        writeJsonl(o.out, splits.pretrain, trainImages, trainLabels, o.downsample);
        writeJsonl(o.out, splits.finetuneTrain, trainImages, trainLabels, o.downsample);
        writeJsonl(o.out, splits.finetuneTest, testImages, testLabels, o.downsample);
      };
      datasets = { pretrain: splits.pretrain.file, finetuneTrain: splits.finetuneTrain.file, finetuneTest: splits.finetuneTest.file };
    } else {
      for (const f of [trainImagesFile, trainLabelsFile, testImagesFile, testLabelsFile]) {
        if (!fs.existsSync(f)) throw new Error(`${f} is missing (apt install dataset-fashion-mnist, or pass --data-dir)`);
      }
      // The dataset object form: the first N examples of the classes, in file order.
      const idx = (x: string, y: string, classes: readonly number[], limit: number): unknown => ({ format: 'idx', x, y, scale: 1 / 255, classes, limit });
      datasets = {
        pretrain: idx(trainImagesFile, trainLabelsFile, o.pretrainClasses, o.pretrainCount),
        finetuneTrain: idx(trainImagesFile, trainLabelsFile, o.finetuneClasses, o.finetuneCount),
        finetuneTest: idx(testImagesFile, testLabelsFile, o.finetuneClasses, o.testCount),
      };
    }

    fs.mkdirSync(o.out, { recursive: true });
    writeData();
    await saveModel(pre, path.join(o.out, 'pretrain'));
    await saveModel(fin, path.join(o.out, 'finetune'));

    const names = (cs: readonly number[]): string => cs.map((c) => CLASS_NAMES[c]).join(', ');
    const config = {
      version: 1,
      description: `Fashion-MNIST ${side}x${side}: pretraining on ${names(o.pretrainClasses)}; finetuning on ${names(o.finetuneClasses)}. Made by scripts/makeFashionWorkspace.ts.`,
      sharedLayers: ['conv1', 'conv2'],
      pretrain: { model: 'pretrain/model.json', train: datasets.pretrain, loss: 'softmax_cross_entropy' },
      finetune: {
        model: 'finetune/model.json',
        train: datasets.finetuneTrain,
        test: datasets.finetuneTest,
        loss: 'softmax_cross_entropy',
        embedding: o.embedding,
      },
      influence: o.influence,
      training: o.training,
    };
    const configPath = path.join(o.out, 'msif.json');
    fs.writeFileSync(configPath, JSON.stringify(config, null, 2) + '\n');
    return configPath;
  } finally {
    pre.dispose();
    fin.dispose();
  }
}

/** Accuracy of a stage's model on one of its datasets. */
async function accuracy(configPath: string, which: 'pretrain' | 'finetuneTrain' | 'finetuneTest'): Promise<number> {
  const ws = await loadWorkspace(configPath);
  try {
    const model = which === 'pretrain' ? ws.pretrainModel : ws.finetuneModel;
    const data = which === 'pretrain' ? ws.pretrainTrain : which === 'finetuneTrain' ? ws.finetuneTrain : ws.finetuneTest;
    const ev = await evaluateExamples(model, 'softmax_cross_entropy', data, 256);
    const correct = ev.indices.filter((_, k) => ev.predictions[k]?.[0] === ev.labels[k]?.[0]).length;
    return correct / Math.max(1, ev.indices.length);
  } finally {
    ws.dispose();
  }
}

export async function main(argv: readonly string[]): Promise<void> {
  const o = parseOptions(argv);
  const backend = await initBackend(o.backend);
  const configPath = await makeWorkspace(o);
  process.stderr.write(`wrote ${configPath}\n`);
  if (!o.train) return;
  process.stderr.write(`training on ${backend.name}\n`);
  const result = await runTrain(configPath, {
    log: (line) => process.stderr.write(`${line}\n`),
    onProgress: (p) => {
      // Epoch lines: the first, every tenth of the way, and the last.
      const m = /epoch (\d+)\/(\d+)/.exec(p.message);
      const [e, n] = [Number(m?.[1]), Number(m?.[2])];
      if (m && (e === 1 || e === n || e % Math.max(1, Math.round(n / 10)) === 0)) process.stderr.write(`${p.message}\n`);
    },
  });
  const summary = {
    backend: result.backend,
    seconds: result.seconds,
    pretrain: { finalLoss: result.pretrain.finalLoss, gradientNorm: result.pretrain.gradientNorm, epochs: result.pretrain.epochs, trainAccuracy: await accuracy(configPath, 'pretrain') },
    finetune: {
      finalLoss: result.finetune.finalLoss,
      gradientNorm: result.finetune.gradientNorm,
      epochs: result.finetune.epochs,
      trainAccuracy: await accuracy(configPath, 'finetuneTrain'),
      testAccuracy: result.finetune.testAccuracy,
    },
  };
  process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`makeFashionWorkspace: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
