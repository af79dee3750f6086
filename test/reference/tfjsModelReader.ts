/**
 * Reads a TensorFlow.js Layers model (`model.json` + the `.bin` files its
 * `weightsManifest` names) from disk without TensorFlow.js: the Keras JSON topology
 * (`Sequential`, or `Model`/`Functional` with `inbound_nodes`) and the float32 weights,
 * widened to float64. Independent of `src/` by design: it is the reference the engine's
 * own reader is checked against.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Activations the reference evaluates (Keras names). */
export type ActivationName = 'linear' | 'relu' | 'tanh' | 'sigmoid' | 'softplus' | 'elu';

/** Padding modes of convolutions and pooling, with TensorFlow semantics. */
export type Padding = 'valid' | 'same';

/** One supported layer, with the configuration fields the forward pass needs. */
export type LayerSpec =
  | { readonly kind: 'input' }
  | { readonly kind: 'dense'; readonly units: number; readonly activation: ActivationName; readonly useBias: boolean }
  | {
      readonly kind: 'conv2d';
      readonly filters: number;
      readonly kernelSize: readonly [number, number];
      readonly strides: readonly [number, number];
      readonly padding: Padding;
      readonly activation: ActivationName;
      readonly useBias: boolean;
    }
  | {
      readonly kind: 'pool2d';
      readonly mode: 'max' | 'avg';
      readonly poolSize: readonly [number, number];
      readonly strides: readonly [number, number];
      readonly padding: Padding;
    }
  | { readonly kind: 'flatten' }
  | { readonly kind: 'activation'; readonly activation: ActivationName }
  | { readonly kind: 'dropout' }
  | { readonly kind: 'embedding'; readonly inputDim: number; readonly outputDim: number }
  | { readonly kind: 'globalAveragePooling1d' }
  | { readonly kind: 'globalAveragePooling2d' };

/** A weight of a layer, decoded from float32 into float64 (row-major, tfjs shape). */
export interface LayerWeight {
  /** `kernel`, `bias` or `embeddings`. */
  readonly param: string;
  /** The name in the weights manifest. */
  readonly manifestName: string;
  readonly shape: readonly number[];
  readonly values: Float64Array;
}

/** A layer of the model: its spec, the layer feeding it and its weights in parameter order. */
export interface ModelLayer {
  readonly name: string;
  readonly className: string;
  readonly spec: LayerSpec;
  /** Name of the layer whose output this layer consumes; null for the input layer. */
  readonly inbound: string | null;
  readonly trainable: boolean;
  /** Kernel then bias (Dense, Conv2D), or embeddings (Embedding); empty otherwise. */
  readonly weights: readonly LayerWeight[];
}

/** A parsed model: layers in evaluation order, the first being the input. */
export interface TfjsModel {
  readonly source: string;
  readonly className: string;
  /** Input shape without the batch dimension. */
  readonly inputShape: readonly number[];
  readonly layers: readonly ModelLayer[];
}

/** Reads `model.json` and its weight files from disk. */
export function readTfjsModel(modelJsonPath: string): TfjsModel {
  const text = fs.readFileSync(modelJsonPath, 'utf8');
  const json = JSON.parse(text) as unknown;
  const manifest = asArray(field(json, 'weightsManifest', modelJsonPath), 'weightsManifest', modelJsonPath);
  const dir = path.dirname(modelJsonPath);
  const buffers: Buffer[] = [];
  for (const group of manifest) {
    for (const p of asArray(field(group, 'paths', modelJsonPath), 'weightsManifest[].paths', modelJsonPath)) {
      if (typeof p !== 'string') throw new Error(`${modelJsonPath}: weightsManifest[].paths must hold strings`);
      buffers.push(fs.readFileSync(path.resolve(dir, p)));
    }
  }
  return parseTfjsModel(json, Buffer.concat(buffers), modelJsonPath);
}

/**
 * Parses a `model.json` object whose weight files have already been read and
 * concatenated in manifest order (groups in order, each group's `paths` in order).
 */
export function parseTfjsModel(modelJson: unknown, weightData: Uint8Array, source: string): TfjsModel {
  let topology = field(modelJson, 'modelTopology', source);
  if (isRecord(topology) && isRecord(topology['model_config'])) topology = topology['model_config'];
  const className = str(field(topology, 'class_name', source), 'modelTopology.class_name', source);
  const config = field(topology, 'config', source);
  const weights = decodeWeights(modelJson, weightData, source);
  let raw: RawLayer[];
  let inputShape: number[] | null = null;
  if (className === 'Sequential') {
    const layerList = Array.isArray(config) ? config : asArray(field(config, 'layers', source), 'config.layers', source);
    raw = [];
    let previous: string | null = null;
    for (const entry of layerList) {
      const layer = rawLayer(entry, source);
      const shape = batchInputShape(layer.config);
      if (raw.length === 0) {
        if (shape === null) throw new Error(`${source}: the first layer of a Sequential model needs batch_input_shape`);
        inputShape = shape;
        if (layer.className !== 'InputLayer') {
          raw.push({ name: `${layer.name}__input`, className: 'InputLayer', config: {}, inbound: null });
          previous = `${layer.name}__input`;
        }
      }
      raw.push({ ...layer, inbound: layer.className === 'InputLayer' ? null : previous });
      previous = layer.name;
    }
  } else if (className === 'Model' || className === 'Functional') {
    raw = asArray(field(config, 'layers', source), 'config.layers', source).map((entry) => {
      const layer = rawLayer(entry, source);
      return { ...layer, inbound: singleInbound(entry, layer.name, source) };
    });
    const inputs = asArray(field(config, 'input_layers', source), 'config.input_layers', source);
    const outputs = asArray(field(config, 'output_layers', source), 'config.output_layers', source);
    if (inputs.length !== 1 || outputs.length !== 1) throw new Error(`${source}: only single-input, single-output models are supported`);
    const input = raw.find((l) => l.className === 'InputLayer');
    if (input === undefined) throw new Error(`${source}: no InputLayer`);
    inputShape = batchInputShape(input.config);
    raw = evaluationOrder(raw, input.name, nameOf(outputs[0], source), source);
  } else {
    throw new Error(`${source}: unsupported model class ${className} (expected Sequential, Model or Functional)`);
  }
  if (inputShape === null) throw new Error(`${source}: cannot find the input shape`);
  const used = new Set<string>();
  const layers = raw.map((l): ModelLayer => {
    const spec = layerSpec(l, source);
    let params: string[] = [];
    if (spec.kind === 'embedding') params = ['embeddings'];
    else if (spec.kind === 'dense' || spec.kind === 'conv2d') params = spec.useBias ? ['kernel', 'bias'] : ['kernel'];
    const layerWeights = params.map((param) => {
      const w = findWeight(weights, l.name, param, source);
      used.add(w.manifestName);
      return { param, ...w };
    });
    return { name: l.name, className: l.className, spec, inbound: l.inbound, trainable: l.config['trainable'] !== false, weights: layerWeights };
  });
  const unused = weights.filter((w) => !used.has(w.manifestName)).map((w) => w.manifestName);
  if (unused.length > 0) throw new Error(`${source}: weights not used by any supported layer: ${unused.join(', ')}`);
  return { source, className, inputShape, layers };
}

interface RawLayer {
  readonly name: string;
  readonly className: string;
  readonly config: Record<string, unknown>;
  readonly inbound: string | null;
}

interface DecodedWeight {
  readonly manifestName: string;
  readonly shape: readonly number[];
  readonly values: Float64Array;
}

function decodeWeights(modelJson: unknown, data: Uint8Array, source: string): DecodedWeight[] {
  const out: DecodedWeight[] = [];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let offset = 0;
  for (const group of asArray(field(modelJson, 'weightsManifest', source), 'weightsManifest', source)) {
    for (const spec of asArray(field(group, 'weights', source), 'weightsManifest[].weights', source)) {
      const name = str(field(spec, 'name', source), 'weights[].name', source);
      const dtype = str(field(spec, 'dtype', source), 'weights[].dtype', source);
      if (dtype !== 'float32') throw new Error(`${source}: weight ${name} has dtype ${dtype}; only float32 is supported`);
      if (isRecord(spec) && spec['quantization'] !== undefined) throw new Error(`${source}: weight ${name} is quantized; not supported`);
      const shape = asArray(field(spec, 'shape', source), `${name}.shape`, source).map((d) => {
        if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) throw new Error(`${source}: weight ${name} has a bad shape`);
        return d;
      });
      const count = shape.reduce((a, b) => a * b, 1);
      if (offset + 4 * count > data.byteLength) throw new Error(`${source}: weight data too short for ${name}`);
      const values = new Float64Array(count);
      for (let i = 0; i < count; i++) values[i] = view.getFloat32(offset + 4 * i, true);
      offset += 4 * count;
      out.push({ manifestName: name, shape, values });
    }
  }
  if (offset !== data.byteLength) throw new Error(`${source}: weight data has ${data.byteLength} bytes, manifest describes ${offset}`);
  return out;
}

function findWeight(weights: readonly DecodedWeight[], layer: string, param: string, source: string): DecodedWeight {
  const key = `${layer}/${param}`;
  const hits = weights.filter((w) => w.manifestName === key || w.manifestName.endsWith(`/${key}`));
  const hit = hits[0];
  if (hit === undefined || hits.length > 1) throw new Error(`${source}: expected exactly one weight named …${key}, found ${hits.length}`);
  return hit;
}

function rawLayer(entry: unknown, source: string): RawLayer {
  const className = str(field(entry, 'class_name', source), 'layers[].class_name', source);
  const config = field(entry, 'config', source);
  if (!isRecord(config)) throw new Error(`${source}: layer config must be an object`);
  const name = isRecord(entry) && typeof entry['name'] === 'string' ? entry['name'] : str(config['name'], 'layers[].config.name', source);
  return { name, className, config, inbound: null };
}

function singleInbound(entry: unknown, name: string, source: string): string | null {
  const nodes = asArray(field(entry, 'inbound_nodes', source), `${name}.inbound_nodes`, source);
  if (nodes.length === 0) return null;
  const node = nodes[0];
  if (nodes.length !== 1 || !Array.isArray(node) || node.length !== 1) {
    throw new Error(`${source}: layer ${name} must be called once on one input`);
  }
  return nameOf(node[0], source);
}

function nameOf(ref: unknown, source: string): string {
  if (!Array.isArray(ref) || typeof ref[0] !== 'string') throw new Error(`${source}: malformed layer reference`);
  return ref[0];
}

/** Orders the layers from the input to the output, keeping only those on that path. */
function evaluationOrder(layers: readonly RawLayer[], input: string, output: string, source: string): RawLayer[] {
  const byName = new Map(layers.map((l) => [l.name, l]));
  const chain: RawLayer[] = [];
  let current: string | null = output;
  while (current !== null) {
    const layer = byName.get(current);
    if (layer === undefined) throw new Error(`${source}: unknown layer ${current}`);
    chain.unshift(layer);
    current = layer.inbound;
  }
  if (chain[0]?.name !== input) throw new Error(`${source}: output ${output} is not connected to input ${input}`);
  const onPath = new Set(chain.map((l) => l.name));
  return layers.filter((l) => onPath.has(l.name));
}

function batchInputShape(config: Record<string, unknown>): number[] | null {
  const shape = config['batch_input_shape'] ?? config['batch_shape'];
  if (!Array.isArray(shape)) return null;
  return shape.slice(1).map((d) => {
    if (typeof d !== 'number') throw new Error('input shape dimensions must be numbers');
    return d;
  });
}

function layerSpec(l: RawLayer, source: string): LayerSpec {
  const c = l.config;
  const where = `${source}: layer ${l.name} (${l.className})`;
  const int = (key: string): number => {
    const v = c[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new Error(`${where}: ${key} must be a positive integer`);
    return v;
  };
  const pair = (key: string, fallback?: readonly [number, number]): readonly [number, number] => {
    const v = c[key];
    if ((v === null || v === undefined) && fallback !== undefined) return fallback;
    if (typeof v === 'number' && Number.isInteger(v) && v > 0) return [v, v];
    if (Array.isArray(v) && v.length === 2 && v.every((d) => typeof d === 'number' && Number.isInteger(d) && d > 0)) {
      return [v[0] as number, v[1] as number];
    }
    throw new Error(`${where}: ${key} must be an integer or a pair of integers`);
  };
  const padding = (): Padding => {
    const p = c['padding'] ?? 'valid';
    if (p !== 'valid' && p !== 'same') throw new Error(`${where}: padding ${String(p)} not supported`);
    return p;
  };
  const channelsLast = (): void => {
    const f = c['data_format'];
    if (f !== undefined && f !== null && f !== 'channels_last') throw new Error(`${where}: only channels_last is supported`);
  };
  const activation = (key = 'activation'): ActivationName => {
    const a = c[key] ?? 'linear';
    if (a === 'linear' || a === 'relu' || a === 'tanh' || a === 'sigmoid' || a === 'softplus' || a === 'elu') return a;
    throw new Error(`${where}: activation ${JSON.stringify(a)} not supported`);
  };
  switch (l.className) {
    case 'InputLayer':
      return { kind: 'input' };
    case 'Dense':
      return { kind: 'dense', units: int('units'), activation: activation(), useBias: c['use_bias'] !== false };
    case 'Conv2D': {
      channelsLast();
      const dilation = pair('dilation_rate', [1, 1]);
      if (dilation[0] !== 1 || dilation[1] !== 1) throw new Error(`${where}: dilation is not supported`);
      return {
        kind: 'conv2d',
        filters: int('filters'),
        kernelSize: pair('kernel_size'),
        strides: pair('strides', [1, 1]),
        padding: padding(),
        activation: activation(),
        useBias: c['use_bias'] !== false,
      };
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      channelsLast();
      const poolSize = pair('pool_size', [2, 2]);
      return {
        kind: 'pool2d',
        mode: l.className === 'MaxPooling2D' ? 'max' : 'avg',
        poolSize,
        strides: pair('strides', poolSize),
        padding: padding(),
      };
    }
    case 'Flatten':
      return { kind: 'flatten' };
    case 'Activation':
      return { kind: 'activation', activation: activation() };
    case 'Dropout':
      return { kind: 'dropout' };
    case 'Embedding':
      if (c['mask_zero'] === true) throw new Error(`${where}: mask_zero is not supported`);
      return { kind: 'embedding', inputDim: int('input_dim'), outputDim: int('output_dim') };
    case 'GlobalAveragePooling1D':
      channelsLast();
      return { kind: 'globalAveragePooling1d' };
    case 'GlobalAveragePooling2D':
      channelsLast();
      return { kind: 'globalAveragePooling2d' };
    default:
      throw new Error(`${where}: layer class not supported by the reference`);
  }
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function field(x: unknown, key: string, source: string): unknown {
  if (!isRecord(x) || !(key in x)) throw new Error(`${source}: missing field ${key}`);
  return x[key];
}

function asArray(x: unknown, what: string, source: string): unknown[] {
  if (!Array.isArray(x)) throw new Error(`${source}: ${what} must be an array`);
  return x;
}

function str(x: unknown, what: string, source: string): string {
  if (typeof x !== 'string') throw new Error(`${source}: ${what} must be a string`);
  return x;
}
