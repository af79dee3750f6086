/**
 * A float64 forward pass of a {@link TfjsModel} over a flat parameter vector, recorded on a
 * {@link SecondOrderTape} so that losses come with exact gradients and Hessians.
 *
 * Parameter order ("θ"): the trainable weights in the topology's layer order; within a
 * layer kernel then bias (Dense, Conv2D) or embeddings (Embedding); each weight row-major
 * in its tfjs shape (Dense kernel [in, out], Conv2D kernel [kh, kw, cin, cout],
 * embeddings [inputDim, outputDim]). Weights of layers with `trainable: false` are
 * constants, not parameters.
 */
import { SecondOrderTape, type NodeId } from './secondOrderTape';
import type { ActivationName, LayerSpec, ModelLayer, Padding, TfjsModel } from './tfjsModelReader';

/** Per-example losses of the contract (§1–2). */
export type ReferenceLoss = 'softmax_cross_entropy' | 'sigmoid_cross_entropy' | 'mse';

/** One example: the input flattened row-major in the model's input shape, and its label/target. */
export interface ReferenceExample {
  readonly x: Float64Array;
  /** A class index (softmax), a 0/1 label (sigmoid) or the flattened target (mse). */
  readonly y: Float64Array;
}

/** Where one weight tensor lives in θ. */
export interface ParamBlock {
  /** `<layer>/<param>`. */
  readonly name: string;
  readonly layer: string;
  readonly param: string;
  readonly shape: readonly number[];
  readonly offset: number;
  readonly size: number;
}

/** A value of the loss objective with, depending on the order asked for, ∇ and ∇². */
export interface Evaluation {
  readonly value: number;
  readonly gradient?: Float64Array;
  /** P×P, row-major. */
  readonly hessian?: Float64Array;
}

interface Tensor {
  readonly shape: readonly number[];
  readonly ids: readonly NodeId[];
}

/**
 * The model and loss as an exact float64 function of θ.
 *
 * ```tex
 * L(\theta) = \sum_i w_i\, \ell(\mathrm{net}(x_i;\theta), y_i),\qquad w_i = 1/N \text{ by default}
 * ```
 */
export class ReferenceNet {
  readonly blocks: readonly ParamBlock[];
  readonly paramCount: number;
  private readonly tape: SecondOrderTape;
  private readonly blockByKey: ReadonlyMap<string, ParamBlock>;

  constructor(
    readonly model: TfjsModel,
    readonly lossName: ReferenceLoss,
  ) {
    const blocks: ParamBlock[] = [];
    let offset = 0;
    for (const layer of model.layers) {
      if (!layer.trainable) continue;
      for (const w of layer.weights) {
        const size = w.values.length;
        blocks.push({ name: `${layer.name}/${w.param}`, layer: layer.name, param: w.param, shape: w.shape, offset, size });
        offset += size;
      }
    }
    this.blocks = blocks;
    this.paramCount = offset;
    this.blockByKey = new Map(blocks.map((b) => [b.name, b]));
    this.tape = new SecondOrderTape(offset);
  }

  /** `<layer>/<param>` of each weight tensor in θ order. */
  paramNames(): string[] {
    return this.blocks.map((b) => b.name);
  }

  /** θ as stored in the model file (float32 values, widened). */
  initialParams(): Float64Array {
    const params = new Float64Array(this.paramCount);
    for (const layer of this.model.layers) {
      for (const w of layer.weights) {
        const block = this.blockByKey.get(`${layer.name}/${w.param}`);
        if (block !== undefined && layer.trainable) params.set(w.values, block.offset);
      }
    }
    return params;
  }

  /** Indices into θ of every parameter of the named layers, in θ order. */
  indicesOfLayers(layers: readonly string[]): number[] {
    const wanted = new Set(layers);
    const out: number[] = [];
    for (const b of this.blocks) if (wanted.has(b.layer)) for (let i = 0; i < b.size; i++) out.push(b.offset + i);
    return out;
  }

  /** The model output (logits) for one input, flattened row-major. */
  predict(params: Float64Array, x: Float64Array): Float64Array {
    this.checkParams(params);
    this.tape.reset();
    const out = this.forward(params, x);
    return Float64Array.from(out.ids, (id) => this.tape.value(id));
  }

  /** ℓ(net(x; θ), y) for one example. */
  exampleLoss(params: Float64Array, example: ReferenceExample): number {
    return this.evaluate(params, [example], 0, [1]).value;
  }

  /** Mean loss over the examples. */
  loss(params: Float64Array, examples: readonly ReferenceExample[]): number {
    return this.evaluate(params, examples, 0).value;
  }

  /** ∇θ of the mean loss. */
  gradient(params: Float64Array, examples: readonly ReferenceExample[]): Float64Array {
    return this.evaluate(params, examples, 1).gradient as Float64Array;
  }

  /** ∇²θ of the mean loss, P×P row-major (exact; the two triangles agree to rounding). */
  hessian(params: Float64Array, examples: readonly ReferenceExample[]): Float64Array {
    return this.evaluate(params, examples, 2).hessian as Float64Array;
  }

  /** ∇θ ℓ(net(xᵢ; θ), yᵢ) for each example (not divided by N). */
  perExampleGradients(params: Float64Array, examples: readonly ReferenceExample[]): Float64Array[] {
    return examples.map((e) => this.evaluate(params, [e], 1, [1]).gradient as Float64Array);
  }

  /**
   * Σᵢ wᵢ ℓᵢ(θ) and, for `order` ≥ 1, its gradient, for `order` 2 its Hessian.
   * `weights` defaults to 1/N each (the mean).
   */
  evaluate(params: Float64Array, examples: readonly ReferenceExample[], order: 0 | 1 | 2, weights?: ArrayLike<number>): Evaluation {
    this.checkParams(params);
    if (weights !== undefined && weights.length !== examples.length) throw new RangeError('one weight per example expected');
    const P = this.paramCount;
    const gradient = order >= 1 ? new Float64Array(P) : undefined;
    const hessian = order === 2 ? new Float64Array(P * P) : undefined;
    let value = 0;
    examples.forEach((example, i) => {
      const w = weights === undefined ? 1 / examples.length : (weights[i] as number);
      if (w === 0) return;
      this.tape.reset();
      const out = this.lossNode(this.forward(params, example.x), example.y);
      if (hessian !== undefined && gradient !== undefined) value += this.tape.accumulateHessian(out, w, gradient, hessian);
      else if (gradient !== undefined) value += this.tape.accumulateGradient(out, w, gradient);
      else value += w * this.tape.value(out);
    });
    return { value, gradient, hessian };
  }

  private checkParams(params: Float64Array): void {
    if (params.length !== this.paramCount) throw new RangeError(`θ has length ${params.length}, expected ${this.paramCount}`);
  }

  private forward(params: Float64Array, x: Float64Array): Tensor {
    const t = this.tape;
    const inputSize = this.model.inputShape.reduce((a, b) => a * b, 1);
    if (x.length !== inputSize) throw new RangeError(`input has ${x.length} values, expected ${inputSize} (shape [${this.model.inputShape.join(', ')}])`);
    const outputs = new Map<string, Tensor>();
    let last: Tensor | undefined;
    for (const layer of this.model.layers) {
      const input: Tensor =
        layer.inbound === null ? { shape: this.model.inputShape, ids: Array.from(x, (v) => t.constant(v)) } : (outputs.get(layer.inbound) as Tensor);
      last = this.applyLayer(layer, input, params);
      outputs.set(layer.name, last);
    }
    if (last === undefined) throw new Error('model has no layers');
    return last;
  }

  /** The weight of a layer as tape nodes: parameters, or constants if not trainable. */
  private weightNodes(layer: ModelLayer, param: string, params: Float64Array): NodeId[] {
    const w = layer.weights.find((x) => x.param === param);
    if (w === undefined) throw new Error(`layer ${layer.name} has no ${param}`);
    const t = this.tape;
    if (!layer.trainable) return Array.from(w.values, (v) => t.constant(v));
    const block = this.blockByKey.get(`${layer.name}/${param}`) as ParamBlock;
    const ids: NodeId[] = new Array<NodeId>(block.size);
    for (let i = 0; i < block.size; i++) ids[i] = t.param(block.offset + i, params[block.offset + i] as number);
    return ids;
  }

  private applyLayer(layer: ModelLayer, input: Tensor, params: Float64Array): Tensor {
    const spec: LayerSpec = layer.spec;
    switch (spec.kind) {
      case 'input':
      case 'dropout':
        return input;
      case 'flatten':
        return { shape: [input.ids.length], ids: input.ids };
      case 'activation':
        return { shape: input.shape, ids: input.ids.map((id) => this.activate(id, spec.activation)) };
      case 'dense':
        return this.dense(layer, spec.units, spec.activation, spec.useBias, input, params);
      case 'conv2d':
        return this.conv2d(layer, spec, input, params);
      case 'pool2d':
        return this.pool2d(spec.mode, spec.poolSize, spec.strides, spec.padding, input);
      case 'embedding':
        return this.embedding(layer, spec.inputDim, spec.outputDim, input, params);
      case 'globalAveragePooling1d':
        return this.globalAverage(input, 2, layer.name);
      case 'globalAveragePooling2d':
        return this.globalAverage(input, 3, layer.name);
    }
  }

  /** y[…, j] = act(Σᵢ x[…, i] K[i, j] + b[j]) on the last axis. */
  private dense(layer: ModelLayer, units: number, act: ActivationName, useBias: boolean, input: Tensor, params: Float64Array): Tensor {
    const t = this.tape;
    const inDim = input.shape[input.shape.length - 1] as number;
    const kernel = this.weightNodes(layer, 'kernel', params);
    if (kernel.length !== inDim * units) throw new Error(`layer ${layer.name}: kernel does not fit input of last dimension ${inDim}`);
    const bias = useBias ? this.weightNodes(layer, 'bias', params) : null;
    const rows = input.ids.length / inDim;
    const ids: NodeId[] = [];
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < units; j++) {
        const terms: NodeId[] = [];
        for (let i = 0; i < inDim; i++) terms.push(t.mul(input.ids[r * inDim + i] as NodeId, kernel[i * units + j] as NodeId));
        if (bias !== null) terms.push(bias[j] as NodeId);
        ids.push(this.activate(t.sum(terms), act));
      }
    }
    return { shape: [...input.shape.slice(0, -1), units], ids };
  }

  /** TF Conv2D, channels_last, stride s, valid or same padding (pad_before = ⌊pad_total/2⌋). */
  private conv2d(layer: ModelLayer, spec: Extract<LayerSpec, { kind: 'conv2d' }>, input: Tensor, params: Float64Array): Tensor {
    const t = this.tape;
    const [H, W, C] = hwc(input, layer.name);
    const [kh, kw] = spec.kernelSize;
    const F = spec.filters;
    const kernel = this.weightNodes(layer, 'kernel', params);
    if (kernel.length !== kh * kw * C * F) throw new Error(`layer ${layer.name}: kernel does not fit ${C} input channels`);
    const bias = spec.useBias ? this.weightNodes(layer, 'bias', params) : null;
    const rows = windows(H, kh, spec.strides[0], spec.padding);
    const cols = windows(W, kw, spec.strides[1], spec.padding);
    const ids: NodeId[] = [];
    for (let oy = 0; oy < rows.count; oy++) {
      for (let ox = 0; ox < cols.count; ox++) {
        for (let f = 0; f < F; f++) {
          const terms: NodeId[] = [];
          for (let dy = 0; dy < kh; dy++) {
            const y = oy * spec.strides[0] - rows.padBefore + dy;
            if (y < 0 || y >= H) continue;
            for (let dx = 0; dx < kw; dx++) {
              const x = ox * spec.strides[1] - cols.padBefore + dx;
              if (x < 0 || x >= W) continue;
              for (let c = 0; c < C; c++) {
                terms.push(t.mul(input.ids[(y * W + x) * C + c] as NodeId, kernel[((dy * kw + dx) * C + c) * F + f] as NodeId));
              }
            }
          }
          if (bias !== null) terms.push(bias[f] as NodeId);
          ids.push(this.activate(t.sum(terms), spec.activation));
        }
      }
    }
    return { shape: [rows.count, cols.count, F], ids };
  }

  /** TF max/average pooling; with same padding, padded cells are ignored (not averaged in). */
  private pool2d(mode: 'max' | 'avg', size: readonly [number, number], strides: readonly [number, number], padding: Padding, input: Tensor): Tensor {
    const t = this.tape;
    const [H, W, C] = hwc(input, 'pooling');
    const rows = windows(H, size[0], strides[0], padding);
    const cols = windows(W, size[1], strides[1], padding);
    const ids: NodeId[] = [];
    for (let oy = 0; oy < rows.count; oy++) {
      for (let ox = 0; ox < cols.count; ox++) {
        for (let c = 0; c < C; c++) {
          const cells: NodeId[] = [];
          for (let dy = 0; dy < size[0]; dy++) {
            const y = oy * strides[0] - rows.padBefore + dy;
            if (y < 0 || y >= H) continue;
            for (let dx = 0; dx < size[1]; dx++) {
              const x = ox * strides[1] - cols.padBefore + dx;
              if (x >= 0 && x < W) cells.push(input.ids[(y * W + x) * C + c] as NodeId);
            }
          }
          if (mode === 'max') {
            let best = cells[0] as NodeId;
            for (const id of cells) if (t.value(id) > t.value(best)) best = id;
            ids.push(best);
          } else {
            ids.push(t.scale(t.sum(cells), 1 / cells.length));
          }
        }
      }
    }
    return { shape: [rows.count, cols.count, C], ids };
  }

  /** Rows of the embedding matrix selected by the integer ids of the (constant) input. */
  private embedding(layer: ModelLayer, inputDim: number, outputDim: number, input: Tensor, params: Float64Array): Tensor {
    const t = this.tape;
    const table = this.weightNodes(layer, 'embeddings', params);
    const ids: NodeId[] = [];
    for (const id of input.ids) {
      const token = t.value(id);
      if (!t.isConstant(id) || !Number.isInteger(token) || token < 0 || token >= inputDim) {
        throw new Error(`layer ${layer.name}: input ${token} is not a token id in [0, ${inputDim})`);
      }
      for (let d = 0; d < outputDim; d++) ids.push(table[token * outputDim + d] as NodeId);
    }
    return { shape: [...input.shape, outputDim], ids };
  }

  /** Mean over every axis but the last; `rank` is the expected rank of the input. */
  private globalAverage(input: Tensor, rank: number, name: string): Tensor {
    if (input.shape.length !== rank) throw new Error(`layer ${name}: expected rank ${rank} input, got [${input.shape.join(', ')}]`);
    const t = this.tape;
    const C = input.shape[rank - 1] as number;
    const count = input.ids.length / C;
    const ids: NodeId[] = [];
    for (let c = 0; c < C; c++) {
      const cells: NodeId[] = [];
      for (let i = 0; i < count; i++) cells.push(input.ids[i * C + c] as NodeId);
      ids.push(t.scale(t.sum(cells), 1 / count));
    }
    return { shape: [C], ids };
  }

  private activate(id: NodeId, act: ActivationName): NodeId {
    const t = this.tape;
    switch (act) {
      case 'linear':
        return id;
      case 'relu':
        return t.relu(id);
      case 'tanh':
        return t.tanh(id);
      case 'sigmoid':
        return t.sigmoid(id);
      case 'softplus':
        return t.softplus(id);
      case 'elu':
        return t.elu(id);
    }
  }

  /**
   * The per-example loss on the logits o:
   * softmax CE  m + log Σ_k e^{o_k − m} − o_y  (m = max_k o_k, held constant: exact);
   * sigmoid CE  softplus(o) − y·o;  mse  mean_k (o_k − y_k)².
   */
  private lossNode(out: Tensor, y: Float64Array): NodeId {
    const t = this.tape;
    const o = out.ids;
    switch (this.lossName) {
      case 'softmax_cross_entropy': {
        const label = y[0] as number;
        if (y.length !== 1 || !Number.isInteger(label) || label < 0 || label >= o.length) {
          throw new Error(`softmax_cross_entropy: label ${Array.from(y).join(',')} is not a class in [0, ${o.length})`);
        }
        let m = -Infinity;
        for (const id of o) m = Math.max(m, t.value(id));
        const lse = t.shift(t.log(t.sum(o.map((id) => t.exp(t.shift(id, -m))))), m);
        return t.sub(lse, o[label] as NodeId);
      }
      case 'sigmoid_cross_entropy': {
        const label = y[0] as number;
        if (o.length !== 1 || y.length !== 1 || (label !== 0 && label !== 1)) {
          throw new Error('sigmoid_cross_entropy: expected one logit and a 0/1 label');
        }
        const logit = o[0] as NodeId;
        return t.sub(t.softplus(logit), t.scale(logit, label));
      }
      case 'mse': {
        if (y.length !== o.length) throw new Error(`mse: target has ${y.length} values, output has ${o.length}`);
        return t.scale(t.sum(o.map((id, k) => t.square(t.shift(id, -(y[k] as number))))), 1 / o.length);
      }
    }
  }
}

/** Output size and leading padding of TF windows along one axis. */
function windows(size: number, k: number, stride: number, padding: Padding): { count: number; padBefore: number } {
  if (padding === 'valid') return { count: Math.floor((size - k) / stride) + 1, padBefore: 0 };
  const count = Math.ceil(size / stride);
  const total = Math.max((count - 1) * stride + k - size, 0);
  return { count, padBefore: Math.floor(total / 2) };
}

function hwc(input: Tensor, name: string): [number, number, number] {
  const [H, W, C] = input.shape;
  if (input.shape.length !== 3 || H === undefined || W === undefined || C === undefined) {
    throw new Error(`${name}: expected an [H, W, C] input, got [${input.shape.join(', ')}]`);
  }
  return [H, W, C];
}
