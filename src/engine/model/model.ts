/**
 * A loaded model: its layer graph, its trainable parameters θ (as a list of tensors in a
 * fixed order) and a forward pass that also propagates a tangent (forward mode, JVP).
 *
 * ## Notes
 * Symbols: θ → `params` (one tensor per weight, in {@link Model.paramSpecs} order),
 * v or Rθ → `tangent` (same layout; `null` entries mean zero), x → `input`.
 */
import * as tf from '@tensorflow/tfjs';
import { MsifError } from '../../common/errors';
import type { ActivationName, GraphNode, LayerSpec, ModelGraph } from './topology';
import { parseTopology } from './topology';
import { averageDivisor, conv2d, conv2dConstantInput, conv2dConstantKernel, embeddingLookup, fromPerChannel, isTiled, oneHotFloat, tiledWindows, windows } from './ops';
import { flatIndexKernelsAvailable, gatherFlat, maxPoolArgmax } from './flatIndex';
import { tanhDual, tanhKernelsAvailable } from './tanhDual';

export interface ParamSpec {
  /** `<layer>/<kernel|bias|embeddings>`. */
  readonly name: string;
  readonly layer: string;
  readonly shape: readonly number[];
  readonly size: number;
  /** Offset of this parameter in the flat parameter vector. */
  readonly offset: number;
  /** The weight's name in the model.json manifest it was loaded from. */
  readonly storedName?: string;
}

/** A weight as stored in a model.json weights manifest. */
export interface WeightEntry {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype?: string;
}

export interface ModelArtifacts {
  /** The parsed model.json. */
  readonly modelJson: unknown;
  /** The concatenated weight files, in manifest order. */
  readonly weightData: ArrayBuffer;
  /** The model.json path, for messages. */
  readonly file: string;
}

/** Output and tangent of a forward pass; `tangent` is null when every input tangent was. */
export interface Dual {
  readonly value: tf.Tensor;
  readonly tangent: tf.Tensor | null;
}

export class Model {
  readonly graph: ModelGraph;
  readonly paramSpecs: readonly ParamSpec[];
  /** Total number of trainable scalars. */
  readonly size: number;
  readonly outputShape: readonly number[];
  /** Current parameter values, in paramSpecs order. Owned by the model. */
  params: tf.Tensor[];
  readonly file: string;
  /** Whether the input holds integer ids (the first layer after the input is an Embedding). */
  readonly integerInput: boolean;

  /** Multiply-adds of one example's forward pass (dense and convolution layers). */
  readonly multiplyAdds: number;

  private constructor(
    graph: ModelGraph,
    specs: ParamSpec[],
    outputShape: number[],
    params: tf.Tensor[],
    file: string,
    multiplyAdds: number,
    /** False for a view (see {@link splitAfter}) whose tensors belong to another model. */
    private readonly ownsParams = true,
  ) {
    this.multiplyAdds = multiplyAdds;
    this.graph = graph;
    this.paramSpecs = specs;
    this.size = specs.reduce((s, p) => s + p.size, 0);
    this.outputShape = outputShape;
    this.params = params;
    this.file = file;
    this.integerInput = graph.nodes[1]?.layer.kind === 'embedding';
  }

  /** Builds a model from model.json and its weights; checks every weight's name and shape. */
  static fromArtifacts(a: ModelArtifacts): Model {
    const json = asObject(a.modelJson);
    const graph = parseTopology(json?.['modelTopology'], a.file);
    const { specs, outputShape, multiplyAdds } = inferParams(graph, a.file);
    const manifest = json?.['weightsManifest'];
    if (!Array.isArray(manifest)) throw new MsifError('model', 'has no weights manifest', { file: a.file, field: 'weightsManifest', expected: 'an array of {paths, weights}' });
    const entries: tf.io.WeightsManifestEntry[] = [];
    for (const group of manifest) {
      const ws = asObject(group)?.['weights'];
      if (Array.isArray(ws)) entries.push(...(ws as tf.io.WeightsManifestEntry[]));
    }
    let decoded: tf.NamedTensorMap;
    try {
      decoded = tf.io.decodeWeights(a.weightData, entries);
    } catch (e) {
      throw new MsifError('model', `cannot decode weights: ${(e as Error).message}`, { file: a.file, field: 'weightsManifest', expected: 'weight files as large as the manifest says' });
    }
    const stored: ParamSpec[] = [];
    const params = specs.map((s) => {
      const found = findWeight(decoded, s.name);
      const t = found && decoded[found];
      if (!t) {
        throw new MsifError('model', `weight '${s.name}' is missing`, { file: a.file, field: 'weightsManifest', expected: `a weight named '${s.name}' of shape [${s.shape.join(', ')}]` });
      }
      if (!sameShape(t.shape, s.shape)) {
        throw new MsifError('model', `weight '${s.name}' has shape [${t.shape.join(', ')}]`, { file: a.file, field: 'weightsManifest', expected: `[${s.shape.join(', ')}] from the layer's configuration` });
      }
      if (!(t.dataSync() as Float32Array).every(Number.isFinite)) {
        throw new MsifError('model', `weight '${s.name}' contains NaN or infinite values`, { file: a.file, field: 'weightsManifest', expected: 'finite weights' });
      }
      stored.push({ ...s, storedName: found });
      return t.dtype === 'float32' ? t : tf.cast(t, 'float32');
    });
    const kept = new Set(params);
    for (const t of Object.values(decoded)) if (!kept.has(t)) t.dispose();
    return new Model(graph, stored, outputShape, params, a.file, multiplyAdds);
  }

  /** Parameter specs of the layers named in `layers`, in order. */
  specsOfLayers(layers: ReadonlySet<string>): ParamSpec[] {
    return this.paramSpecs.filter((p) => layers.has(p.layer));
  }

  /** The parameters as one flat Float32Array (paramSpecs order). */
  flatParams(): Float32Array {
    const out = new Float32Array(this.size);
    this.paramSpecs.forEach((s, i) => out.set((this.params[i] as tf.Tensor).dataSync() as Float32Array, s.offset));
    return out;
  }

  /** Replaces the parameters (disposing the old ones). */
  setParams(params: tf.Tensor[]): void {
    for (const p of this.params) if (!params.includes(p)) p.dispose();
    this.params = params;
  }

  /** Splits a flat vector into tensors shaped like the parameters. */
  unflatten(flat: Float32Array | Float64Array): tf.Tensor[] {
    return this.paramSpecs.map((s) => tf.tensor(Float32Array.from(flat.subarray(s.offset, s.offset + s.size)), [...s.shape]));
  }

  /** Model inputs as a tensor of the right dtype. */
  inputTensor(x: Float32Array, n: number): tf.Tensor {
    const shape = [n, ...this.graph.inputShape];
    return this.integerInput ? tf.tensor(Int32Array.from(x), shape, 'int32') : tf.tensor(x, shape, 'float32');
  }

  /** Logits of a batch: f(x; θ). */
  forward(params: readonly tf.Tensor[], input: tf.Tensor): tf.Tensor {
    return this.jvp(params, null, input).value;
  }

  /**
   * Forward pass with a parameter tangent: returns f(x; θ) and ∂f/∂θ · v.
   *
   * ```tex
   * (y, \dot y) = \left(f(x;\theta),\ \tfrac{\partial f}{\partial \theta}(x;\theta)\, v\right)
   * ```
   *
   * ## Method
   * Forward-mode differentiation layer by layer (Pearlmutter's R-operator), written with
   * differentiable tfjs ops so that reverse-mode over it yields exact second derivatives.
   */
  jvp(params: readonly tf.Tensor[], tangent: readonly (tf.Tensor | null)[] | null, input: tf.Tensor): Dual {
    const values = new Map<string, Dual>();
    let paramIndex = 0;
    const take = (): { p: tf.Tensor; t: tf.Tensor | null } => {
      const p = params[paramIndex];
      if (!p) throw new Error(`missing parameter ${paramIndex}`);
      const t = tangent ? (tangent[paramIndex] ?? null) : null;
      paramIndex++;
      return { p, t };
    };
    let last: Dual = { value: input, tangent: null };
    for (const node of this.graph.nodes) {
      const inbound = node.inbound[0];
      const x = inbound === undefined ? { value: input, tangent: null } : values.get(inbound);
      if (!x) throw new Error(`node ${node.layer.name} evaluated before its input`);
      last = applyLayer(node, x, take, this.graph.nodes[0]?.layer.name ?? '');
      values.set(node.layer.name, last);
    }
    return last;
  }

  /**
   * The model split after the node `cut`: a trunk (the nodes up to `cut`) and a head (the
   * rest) that takes the trunk's output as its input. The head shares this model's
   * parameter tensors (its `dispose` frees none of them). Undefined when some node after
   * `cut` reads a node before it, so that the head is not a model of the trunk's output alone.
   *
   * ```tex
   * f(x; \theta) = \mathrm{head}\big(\mathrm{trunk}(x; \theta_{\le cut});\ \theta_{> cut}\big)
   * ```
   */
  splitAfter(cut: string): { readonly head: Model; readonly trunkParamCount: number; readonly trunk: (input: tf.Tensor) => tf.Tensor } | undefined {
    const at = this.graph.nodes.findIndex((n) => n.layer.name === cut);
    if (at < 0 || at === this.graph.nodes.length - 1) return undefined;
    const after = this.graph.nodes.slice(at + 1);
    const inHead = new Set([cut, ...after.map((n) => n.layer.name)]);
    if (!after.every((n) => n.inbound.every((i) => inHead.has(i)))) return undefined;
    const { shapes } = inferParams(this.graph, this.file);
    const cutShape = shapes.get(cut);
    if (!cutShape) return undefined;
    const headGraph: ModelGraph = { name: `${this.graph.name}/head`, inputShape: cutShape, nodes: [{ layer: { kind: 'input', name: cut }, inbound: [] }, ...after] };
    const headLayers = new Set(after.map((n) => n.layer.name));
    const trunkParamCount = this.paramSpecs.filter((s) => !headLayers.has(s.layer)).length;
    // Parameters are taken in node order, so the head's are this model's last ones.
    if (!this.paramSpecs.slice(trunkParamCount).every((s) => headLayers.has(s.layer))) return undefined;
    const { specs, outputShape, multiplyAdds } = inferParams(headGraph, this.file);
    const head = new Model(headGraph, specs, outputShape, this.params.slice(trunkParamCount), this.file, multiplyAdds, false);
    const trunkNodes = this.graph.nodes.slice(0, at + 1);
    const trunk = (input: tf.Tensor): tf.Tensor => {
      const values = new Map<string, Dual>();
      let paramIndex = 0;
      const take = (): { p: tf.Tensor; t: tf.Tensor | null } => ({ p: this.params[paramIndex++] as tf.Tensor, t: null });
      let last: Dual = { value: input, tangent: null };
      for (const node of trunkNodes) {
        const inbound = node.inbound[0];
        last = applyLayer(node, inbound === undefined ? { value: input, tangent: null } : (values.get(inbound) as Dual), take, this.graph.nodes[0]?.layer.name ?? '');
        values.set(node.layer.name, last);
      }
      return last.value;
    };
    return { head, trunkParamCount, trunk };
  }

  dispose(): void {
    if (this.ownsParams) for (const p of this.params) p.dispose();
    this.params = [];
  }
}

type Take = () => { p: tf.Tensor; t: tf.Tensor | null };

function applyLayer(node: GraphNode, x: Dual, take: Take, inputName: string): Dual {
  const layer = node.layer;
  switch (layer.kind) {
    case 'input':
    case 'identity':
      return x;
    case 'dense': {
      const k = take();
      const b = layer.useBias ? take() : null;
      // y = x K + b;  ẏ = ẋ K + x K̇ + ḃ (on the last axis).
      const value = addBias(denseMatMul(x.value, k.p), b?.p ?? null);
      const tangent = sum([x.tangent && denseMatMul(x.tangent, k.p), k.t && denseMatMul(x.value, k.t), b?.t ?? null]);
      return activate(layer.activation, { value, tangent });
    }
    case 'conv2d': {
      const k = take();
      const b = layer.useBias ? take() : null;
      const [s, pad] = [layer.strides, layer.padding];
      // Only what autodiff needs: the model's input and the tangent K̇ are constants.
      const fromInput = node.inbound[0] === inputName;
      const xv = x.value as tf.Tensor4D;
      const value = addBias(fromInput ? conv2dConstantInput(xv, k.p as tf.Tensor4D, s, pad) : conv2d(xv, k.p as tf.Tensor4D, s, pad), b?.p ?? null);
      const tangent = sum([
        x.tangent && conv2d(x.tangent as tf.Tensor4D, k.p as tf.Tensor4D, s, pad),
        k.t && (fromInput ? tf.conv2d(xv, k.t as tf.Tensor4D, s, pad) : conv2dConstantKernel(xv, k.t as tf.Tensor4D, s, pad)),
        b?.t ?? null,
      ]);
      return activate(layer.activation, { value, tangent });
    }
    case 'pool2d':
      return pool(layer, x);
    case 'flatten': {
      const n = x.value.shape[0] as number;
      const flat = (t: tf.Tensor): tf.Tensor => tf.reshape(t, [n, t.size / n]);
      return { value: flat(x.value), tangent: x.tangent && flat(x.tangent) };
    }
    case 'activation':
      return activate(layer.activation, x);
    case 'embedding': {
      const e = take();
      return { value: embeddingLookup(e.p as tf.Tensor2D, x.value), tangent: e.t && embeddingLookup(e.t as tf.Tensor2D, x.value) };
    }
    case 'globalAvgPool': {
      const axes = layer.rank === 1 ? [1] : [1, 2];
      return { value: tf.mean(x.value, axes), tangent: x.tangent && tf.mean(x.tangent, axes) };
    }
  }
}

/** x K on the last axis, for inputs of any rank ≥ 2. */
function denseMatMul(x: tf.Tensor, k: tf.Tensor): tf.Tensor {
  if (x.rank === 2) return tf.matMul(x as tf.Tensor2D, k as tf.Tensor2D);
  const inner = x.shape[x.rank - 1] as number;
  const outer = x.shape.slice(0, -1);
  const y = tf.matMul(tf.reshape(x, [-1, inner]) as tf.Tensor2D, k as tf.Tensor2D);
  return tf.reshape(y, [...outer, k.shape[1] as number]);
}

function addBias(y: tf.Tensor, b: tf.Tensor | null): tf.Tensor {
  return b ? tf.add(y, b) : y;
}

function sum(terms: (tf.Tensor | null)[]): tf.Tensor | null {
  const present = terms.filter((t): t is tf.Tensor => t !== null);
  if (present.length === 0) return null;
  return present.reduce((a, b) => tf.add(a, b));
}

/**
 * Elementwise activation and its tangent: (σ(y), σ'(y) ẏ), with σ' written in
 * differentiable ops of the input so that it can be differentiated once more.
 */
function activate(name: ActivationName, y: Dual): Dual {
  const t = y.tangent;
  switch (name) {
    case 'linear':
      return y;
    case 'relu':
      return { value: tf.relu(y.value), tangent: t && tf.mul(tf.step(y.value), t) };
    case 'tanh': {
      if (tanhKernelsAvailable()) return tanhDual(y.value, t);
      const a = tf.tanh(y.value);
      return { value: a, tangent: t && tf.mul(tf.sub(1, tf.square(a)), t) };
    }
    case 'sigmoid': {
      const a = tf.sigmoid(y.value);
      return { value: a, tangent: t && tf.mul(tf.mul(a, tf.sub(1, a)), t) };
    }
    case 'softplus':
      return { value: tf.softplus(y.value), tangent: t && tf.mul(tf.sigmoid(y.value), t) };
    case 'elu': {
      // elu'(y) = 1 for y > 0, exp(y) otherwise.
      const pos = tf.step(y.value);
      const value = tf.elu(y.value);
      const slope = tf.add(pos, tf.mul(tf.sub(1, pos), tf.exp(tf.minimum(y.value, 0))));
      return { value, tangent: t && tf.mul(slope, t) };
    }
    case 'softmax': {
      // ṡ = s ⊙ (ẏ − ⟨s, ẏ⟩) on the last axis.
      const s = tf.softmax(y.value);
      return { value: s, tangent: t && tf.mul(s, tf.sub(t, tf.sum(tf.mul(s, t), -1, true))) };
    }
  }
}

function pool(layer: Extract<LayerSpec, { kind: 'pool2d' }>, x: Dual): Dual {
  const v = x.value as tf.Tensor4D;
  const [n, h, w, c] = v.shape;
  const kk = layer.poolSize[0] * layer.poolSize[1];
  if (layer.mode === 'max' && flatIndexKernelsAvailable()) {
    // The same maths as the mask formulations below, as gathers at the maximisers (flatIndex.ts).
    const at = maxPoolArgmax(v, layer);
    return { value: gatherFlat(v, at), tangent: x.tangent && gatherFlat(x.tangent, at) };
  }
  if (isTiled(layer)) {
    // Non-overlapping windows: same maths as below on `[N, Ho, Wo, C, kk]` blocks.
    const win = tiledWindows(v, layer);
    if (layer.mode === 'max') {
      const mask = oneHotFloat(tf.argMax(win, -1), kk);
      const pick = (t: tf.Tensor): tf.Tensor => tf.sum(tf.mul(mask, t), -1);
      return { value: pick(win), tangent: x.tangent && pick(tiledWindows(x.tangent as tf.Tensor4D, layer)) };
    }
    return { value: tf.mean(win, -1), tangent: x.tangent && tf.mean(tiledWindows(x.tangent as tf.Tensor4D, layer), -1) };
  }
  if (layer.mode === 'max') {
    // The maximum of each window is ⟨onehot(argmax), window⟩: the one-hot is constant to
    // autodiff, so value, tangent and gradients agree on one (the first) maximiser.
    const win = windows(v, layer, -3.4e38);
    const mask = oneHotFloat(tf.argMax(win, -1), kk);
    const pick = (t: tf.Tensor4D): tf.Tensor4D => fromPerChannel(tf.sum(tf.mul(mask, t), -1) as tf.Tensor3D, n, c);
    return { value: pick(win), tangent: x.tangent && pick(windows(x.tangent as tf.Tensor4D, layer, 0)) };
  }
  const divisor = layer.padding === 'same' ? averageDivisor(h, w, layer) : tf.scalar(1 / kk);
  const avg = (t: tf.Tensor4D): tf.Tensor => tf.mul(fromPerChannel(tf.sum(windows(t, layer, 0), -1) as tf.Tensor3D, n, c), divisor);
  return { value: avg(v), tangent: x.tangent && avg(x.tangent as tf.Tensor4D) };
}

/** Shapes of every parameter, by propagating shapes through the graph. */
function inferParams(graph: ModelGraph, file: string): { specs: ParamSpec[]; outputShape: number[]; multiplyAdds: number; shapes: Map<string, number[]> } {
  const shapes = new Map<string, number[]>();
  const specs: ParamSpec[] = [];
  let offset = 0;
  const add = (layer: string, param: string, shape: number[]): void => {
    const size = shape.reduce((a, b) => a * b, 1);
    specs.push({ name: `${layer}/${param}`, layer, shape, size, offset });
    offset += size;
  };
  let out: number[] = [...graph.inputShape];
  let multiplyAdds = 0;
  for (const node of graph.nodes) {
    const l = node.layer;
    const inName = node.inbound[0];
    const s = inName === undefined ? [...graph.inputShape] : shapes.get(inName);
    if (!s) throw new Error(`shape of ${inName ?? '?'} unknown`);
    const bad = (expected: string): MsifError =>
      new MsifError('model', `layer '${l.name}' cannot take an input of shape [${s.join(', ')}]`, { file, field: `modelTopology (layer '${l.name}')`, expected });
    switch (l.kind) {
      case 'input':
      case 'identity':
      case 'activation':
        out = s;
        break;
      case 'dense': {
        const inner = s[s.length - 1];
        if (inner === undefined) throw bad('an input of rank ≥ 1');
        add(l.name, 'kernel', [inner, l.units]);
        if (l.useBias) add(l.name, 'bias', [l.units]);
        out = [...s.slice(0, -1), l.units];
        break;
      }
      case 'conv2d': {
        if (s.length !== 3) throw bad('an input of shape [height, width, channels]');
        const [h, w, c] = s as [number, number, number];
        const ho = convOut(h, l.kernelSize[0], l.strides[0], l.padding);
        const wo = convOut(w, l.kernelSize[1], l.strides[1], l.padding);
        if (ho <= 0 || wo <= 0) throw bad(`a spatial size of at least the kernel size ${l.kernelSize.join('×')}`);
        add(l.name, 'kernel', [l.kernelSize[0], l.kernelSize[1], c, l.filters]);
        if (l.useBias) add(l.name, 'bias', [l.filters]);
        out = [ho, wo, l.filters];
        break;
      }
      case 'pool2d': {
        if (s.length !== 3) throw bad('an input of shape [height, width, channels]');
        const [h, w, c] = s as [number, number, number];
        const ho = convOut(h, l.poolSize[0], l.strides[0], l.padding);
        const wo = convOut(w, l.poolSize[1], l.strides[1], l.padding);
        if (ho <= 0 || wo <= 0) throw bad(`a spatial size of at least the pool size ${l.poolSize.join('×')}`);
        out = [ho, wo, c];
        break;
      }
      case 'flatten':
        out = [s.reduce((a, b) => a * b, 1)];
        break;
      case 'embedding':
        add(l.name, 'embeddings', [l.inputDim, l.outputDim]);
        out = [...s, l.outputDim];
        break;
      case 'globalAvgPool':
        if (s.length !== l.rank + 1) throw bad(l.rank === 1 ? 'an input of shape [steps, features]' : 'an input of shape [height, width, channels]');
        out = [s[s.length - 1] as number];
        break;
    }
    shapes.set(l.name, out);
    // Multiply-adds of the layer's forward pass, per example: dense and conv kernels.
    const outSize = out.reduce((a, b) => a * b, 1);
    if (l.kind === 'dense') multiplyAdds += outSize * (s[s.length - 1] as number);
    if (l.kind === 'conv2d') multiplyAdds += outSize * l.kernelSize[0] * l.kernelSize[1] * (s[2] as number);
  }
  return { specs, outputShape: out, multiplyAdds, shapes };
}

function convOut(size: number, k: number, stride: number, padding: 'valid' | 'same'): number {
  return padding === 'same' ? Math.ceil(size / stride) : Math.floor((size - k) / stride) + 1;
}

/** The manifest key holding weight `name`, if exactly one does. */
function findWeight(map: tf.NamedTensorMap, name: string): string | undefined {
  if (map[name]) return name;
  // Writers may add scope prefixes ("model/dense/kernel") or suffixes (":0").
  const matches = Object.keys(map).filter((k) => {
    const clean = k.replace(/:\d+$/, '');
    return clean === name || clean.endsWith(`/${name}`);
  });
  return matches.length === 1 ? matches[0] : undefined;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function asObject(x: unknown): Record<string, unknown> | undefined {
  return x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, unknown>) : undefined;
}
