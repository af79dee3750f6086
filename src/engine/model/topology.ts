/**
 * TensorFlow.js Layers topology (`modelTopology` of a model.json, Keras JSON form) parsed
 * into a small graph of the layers the engine supports. Pure: no tensors, no I/O.
 */
import { MsifError } from '../../common/errors';

export type ActivationName = 'linear' | 'relu' | 'tanh' | 'sigmoid' | 'softplus' | 'elu' | 'softmax';
export const ACTIVATIONS: readonly ActivationName[] = ['linear', 'relu', 'tanh', 'sigmoid', 'softplus', 'elu', 'softmax'];

export type LayerSpec =
  | { readonly kind: 'input'; readonly name: string }
  | { readonly kind: 'dense'; readonly name: string; readonly units: number; readonly activation: ActivationName; readonly useBias: boolean }
  | {
      readonly kind: 'conv2d';
      readonly name: string;
      readonly filters: number;
      readonly kernelSize: [number, number];
      readonly strides: [number, number];
      readonly padding: 'valid' | 'same';
      readonly activation: ActivationName;
      readonly useBias: boolean;
    }
  | {
      readonly kind: 'pool2d';
      readonly name: string;
      readonly mode: 'max' | 'avg';
      readonly poolSize: [number, number];
      readonly strides: [number, number];
      readonly padding: 'valid' | 'same';
    }
  | { readonly kind: 'flatten'; readonly name: string }
  | { readonly kind: 'activation'; readonly name: string; readonly activation: ActivationName }
  | { readonly kind: 'identity'; readonly name: string; readonly className: string }
  | { readonly kind: 'embedding'; readonly name: string; readonly inputDim: number; readonly outputDim: number }
  | { readonly kind: 'globalAvgPool'; readonly name: string; readonly rank: 1 | 2 };

export interface GraphNode {
  readonly layer: LayerSpec;
  /** Names of the nodes feeding this one (exactly one, except the input). */
  readonly inbound: readonly string[];
}

export interface ModelGraph {
  readonly name: string;
  /** Input shape without the batch axis. */
  readonly inputShape: readonly number[];
  /** Nodes in topological order; the first is the input, the last the output. */
  readonly nodes: readonly GraphNode[];
}

type Obj = Record<string, unknown>;

export const SUPPORTED_LAYERS = [
  'InputLayer',
  'Dense',
  'Conv2D',
  'MaxPooling2D',
  'AveragePooling2D',
  'Flatten',
  'Activation',
  'Dropout',
  'Embedding',
  'GlobalAveragePooling1D',
  'GlobalAveragePooling2D',
] as const;

/** Parses `modelTopology`; `file` names the model.json in errors. */
export function parseTopology(topology: unknown, file: string): ModelGraph {
  const fail = (field: string, problem: string, expected: string): MsifError =>
    new MsifError('model', problem, { file, field, expected });
  let top = asObject(topology);
  if (!top) throw fail('modelTopology', 'is missing or not an object', 'a Keras model topology');
  // Some writers nest the model under `model_config`.
  const nested = asObject(top['model_config']);
  if (nested) top = nested;
  const className = top['class_name'];
  const config = asObject(top['config']);
  if (!config) throw fail('modelTopology.config', 'is missing', 'an object with `layers`');
  const rawLayers = config['layers'];
  if (!Array.isArray(rawLayers)) throw fail('modelTopology.config.layers', 'is missing', 'an array of layers');
  const name = typeof config['name'] === 'string' ? config['name'] : 'model';

  if (className === 'Sequential') return parseSequential(rawLayers, name, file);
  if (className === 'Model' || className === 'Functional') return parseFunctional(config, rawLayers, name, file);
  throw fail('modelTopology.class_name', `unsupported model class ${JSON.stringify(className)}`, '"Sequential", "Model" or "Functional"');
}

function parseSequential(rawLayers: unknown[], name: string, file: string): ModelGraph {
  let inputShape: number[] | undefined;
  const nodes: GraphNode[] = [];
  const inputName = `${name}_input`;
  let prev = inputName;
  rawLayers.forEach((raw, i) => {
    const field = `modelTopology.config.layers[${i}]`;
    const { className, cfg } = layerParts(raw, field, file);
    const declared = batchInputShape(cfg, `${field}.config`, file);
    if (i === 0) {
      if (!declared) throw new MsifError('model', 'the first layer declares no input shape', { file, field: `${field}.config.batch_input_shape`, expected: 'e.g. [null, 28, 28, 1]' });
      inputShape = declared;
    }
    if (className === 'InputLayer') return;
    const layer = parseLayer(className, cfg, field, file);
    nodes.push({ layer, inbound: [prev] });
    prev = layer.name;
  });
  if (!inputShape) throw new MsifError('model', 'the model has no layers', { file, field: 'modelTopology.config.layers', expected: 'at least one layer' });
  return { name, inputShape, nodes: [{ layer: { kind: 'input', name: inputName }, inbound: [] }, ...nodes] };
}

function parseFunctional(config: Obj, rawLayers: unknown[], name: string, file: string): ModelGraph {
  const ins = config['input_layers'];
  const outs = config['output_layers'];
  if (!Array.isArray(ins) || ins.length !== 1 || !Array.isArray(outs) || outs.length !== 1) {
    throw new MsifError('model', 'only models with one input and one output are supported', {
      file,
      field: 'modelTopology.config.input_layers',
      expected: 'one input layer and one output layer',
    });
  }
  const inputName = String((ins[0] as unknown[])[0]);
  const outputName = String((outs[0] as unknown[])[0]);
  const byName = new Map<string, GraphNode>();
  let inputShape: number[] | undefined;
  rawLayers.forEach((raw, i) => {
    const field = `modelTopology.config.layers[${i}]`;
    const { className, cfg, obj } = layerParts(raw, field, file);
    const layerName = typeof obj['name'] === 'string' ? obj['name'] : String(cfg['name']);
    if (className === 'InputLayer') {
      inputShape = batchInputShape(cfg, `${field}.config`, file);
      byName.set(layerName, { layer: { kind: 'input', name: layerName }, inbound: [] });
      return;
    }
    const inbound = inboundNames(obj['inbound_nodes'], `${field}.inbound_nodes`, file);
    byName.set(layerName, { layer: parseLayer(className, { ...cfg, name: layerName }, field, file), inbound });
  });
  if (!inputShape || !byName.has(inputName)) {
    throw new MsifError('model', `input layer '${inputName}' not found or has no shape`, { file, field: 'modelTopology.config.input_layers', expected: 'an InputLayer with batch_input_shape' });
  }
  // Topological order by depth-first search from the output; every layer must be reachable.
  const order: GraphNode[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (n: string): void => {
    if (state.get(n) === 'done') return;
    if (state.get(n) === 'visiting') throw new MsifError('model', `the graph has a cycle through '${n}'`, { file, expected: 'an acyclic graph' });
    const node = byName.get(n);
    if (!node) throw new MsifError('model', `layer '${n}' is used but not defined`, { file, field: 'modelTopology.config.layers', expected: `a layer named '${n}'` });
    state.set(n, 'visiting');
    node.inbound.forEach(visit);
    state.set(n, 'done');
    order.push(node);
  };
  visit(outputName);
  if (order[0]?.layer.name !== inputName) {
    throw new MsifError('model', 'the output does not depend on the input layer', { file, field: 'modelTopology.config.output_layers', expected: 'a path from input to output' });
  }
  return { name, inputShape, nodes: order };
}

function inboundNames(raw: unknown, field: string, file: string): string[] {
  // tfjs / Keras 2: [[["prev", 0, 0, {}]]]; Keras 3: [{"args": [{"config": {"keras_history": ["prev", 0, 0]}}]}].
  const fail = (): MsifError => new MsifError('model', 'cannot read inbound nodes', { file, field, expected: 'one call of the layer on one input' });
  if (!Array.isArray(raw) || raw.length !== 1) {
    throw new MsifError('model', 'layers called more than once (shared layers within one model) are not supported', { file, field, expected: 'exactly one inbound node' });
  }
  const call = raw[0];
  if (Array.isArray(call)) {
    if (call.length !== 1) throw new MsifError('model', 'layers with several inputs (merge layers) are not supported', { file, field, expected: 'one input per layer' });
    const first = call[0];
    if (!Array.isArray(first) || typeof first[0] !== 'string') throw fail();
    return [first[0]];
  }
  const args = asObject(call)?.['args'];
  if (Array.isArray(args) && args.length === 1) {
    const hist = asObject(asObject(args[0])?.['config'])?.['keras_history'];
    if (Array.isArray(hist) && typeof hist[0] === 'string') return [hist[0]];
  }
  throw fail();
}

function layerParts(raw: unknown, field: string, file: string): { className: string; cfg: Obj; obj: Obj } {
  const obj = asObject(raw);
  const cfg = asObject(obj?.['config']);
  const className = obj?.['class_name'];
  if (!obj || !cfg || typeof className !== 'string') {
    throw new MsifError('model', 'is not a layer', { file, field, expected: '{"class_name": ..., "config": {...}}' });
  }
  return { className, cfg, obj };
}

function batchInputShape(cfg: Obj, field: string, file: string): number[] | undefined {
  const raw = cfg['batch_input_shape'] ?? cfg['batch_shape'];
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw) || raw.length < 2) throw new MsifError('model', 'is not a batch input shape', { file, field: `${field}.batch_input_shape`, expected: 'e.g. [null, 28, 28, 1]' });
  return raw.slice(1).map((d, i) => {
    if (typeof d !== 'number' || !Number.isInteger(d) || d <= 0) {
      throw new MsifError('model', `dimension ${i + 1} is ${JSON.stringify(d)}`, { file, field: `${field}.batch_input_shape`, expected: 'fixed positive sizes after the batch axis (set input_length for Embedding inputs)' });
    }
    return d;
  });
}

function parseLayer(className: string, cfg: Obj, field: string, file: string): LayerSpec {
  const name = cfg['name'];
  if (typeof name !== 'string' || !name) throw new MsifError('model', 'layer has no name', { file, field: `${field}.config.name`, expected: 'a string' });
  const f = `${field}.config`;
  const num = (key: string): number => {
    const v = cfg[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new MsifError('model', `is ${JSON.stringify(v)}`, { file, field: `${f}.${key}`, expected: 'a positive integer' });
    return v;
  };
  const pair = (key: string, dflt?: [number, number]): [number, number] => {
    const v = cfg[key] ?? dflt;
    if (typeof v === 'number' && Number.isInteger(v) && v > 0) return [v, v];
    if (Array.isArray(v) && v.length === 2 && v.every((d) => typeof d === 'number' && Number.isInteger(d) && d > 0)) return [v[0] as number, v[1] as number];
    throw new MsifError('model', `is ${JSON.stringify(v)}`, { file, field: `${f}.${key}`, expected: 'a positive integer or a pair of them' });
  };
  const activation = (key = 'activation'): ActivationName => {
    const v = cfg[key] ?? 'linear';
    if (typeof v !== 'string' || !(ACTIVATIONS as readonly string[]).includes(v)) {
      throw new MsifError('model', `unsupported activation ${JSON.stringify(v)} in layer '${name}'`, { file, field: `${f}.${key}`, expected: `one of ${ACTIVATIONS.join(', ')}` });
    }
    return v as ActivationName;
  };
  const padding = (): 'valid' | 'same' => {
    const v = cfg['padding'] ?? 'valid';
    if (v !== 'valid' && v !== 'same') throw new MsifError('model', `unsupported padding ${JSON.stringify(v)}`, { file, field: `${f}.padding`, expected: '"valid" or "same"' });
    return v;
  };
  const channelsLast = (): void => {
    const v = cfg['data_format'] ?? 'channels_last';
    if (v !== 'channels_last') throw new MsifError('model', `data_format ${JSON.stringify(v)} is not supported`, { file, field: `${f}.data_format`, expected: '"channels_last"' });
  };
  const useBias = cfg['use_bias'] !== false;
  switch (className) {
    case 'Dense':
      return { kind: 'dense', name, units: num('units'), activation: activation(), useBias };
    case 'Conv2D': {
      channelsLast();
      const dil = pair('dilation_rate', [1, 1]);
      if (dil[0] !== 1 || dil[1] !== 1) throw new MsifError('model', 'dilated convolutions are not supported', { file, field: `${f}.dilation_rate`, expected: '[1, 1]' });
      if (cfg['groups'] !== undefined && cfg['groups'] !== 1) throw new MsifError('model', 'grouped convolutions are not supported', { file, field: `${f}.groups`, expected: '1' });
      return { kind: 'conv2d', name, filters: num('filters'), kernelSize: pair('kernel_size'), strides: pair('strides', [1, 1]), padding: padding(), activation: activation(), useBias };
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      channelsLast();
      const poolSize = pair('pool_size', [2, 2]);
      const strides = cfg['strides'] === null || cfg['strides'] === undefined ? poolSize : pair('strides');
      return { kind: 'pool2d', name, mode: className === 'MaxPooling2D' ? 'max' : 'avg', poolSize, strides, padding: padding() };
    }
    case 'Flatten':
      return { kind: 'flatten', name };
    case 'Activation':
      return { kind: 'activation', name, activation: activation() };
    case 'Dropout':
    case 'SpatialDropout1D':
    case 'SpatialDropout2D':
    case 'GaussianNoise':
    case 'GaussianDropout':
    case 'AlphaDropout':
      // Identity at inference: influence is computed on the deterministic model.
      return { kind: 'identity', name, className };
    case 'Embedding':
      if (cfg['mask_zero'] === true) throw new MsifError('model', 'mask_zero embeddings are not supported', { file, field: `${f}.mask_zero`, expected: 'false' });
      return { kind: 'embedding', name, inputDim: num('input_dim'), outputDim: num('output_dim') };
    case 'GlobalAveragePooling1D':
      return { kind: 'globalAvgPool', name, rank: 1 };
    case 'GlobalAveragePooling2D':
      channelsLast();
      return { kind: 'globalAvgPool', name, rank: 2 };
    default:
      throw new MsifError('model', `unknown layer type '${className}' (layer '${name}')`, {
        file,
        field: `${field}.class_name`,
        expected: `one of ${SUPPORTED_LAYERS.join(', ')}, Dropout variants`,
      });
  }
}

function asObject(x: unknown): Obj | undefined {
  return x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Obj) : undefined;
}
