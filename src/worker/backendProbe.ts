/**
 * Picks the faster of the backends `auto` found (native and wasm) for a given model, by
 * timing the engine's hot operation, a Hessian-vector product, on a batch of that model.
 * Small models run faster on wasm (less overhead per op), large ones on native (BLAS).
 */
import * as tf from '@tensorflow/tfjs';
import type { LossName } from '../common/workspaceConfig';
import { ParamBlock, accumulateHessianVectorProduct } from '../engine/autodiff/hessianVectorProduct';
import { racingBackends, useBackend } from './backend';
import { loadModel } from './modelFiles';

const PROBE_BATCH = 64;
const chosen = new Map<string, string>();

/**
 * Makes the fastest racing backend current for `modelFile` (cached per file); returns a
 * line saying what was measured, or undefined when there was nothing to choose.
 */
export async function chooseBackendForModel(modelFile: string, loss: LossName): Promise<string | undefined> {
  const candidates = racingBackends();
  if (candidates.length < 2) return undefined;
  const known = chosen.get(modelFile);
  if (known) {
    await useBackend(known);
    return undefined;
  }
  const timings: { name: string; seconds: number }[] = [];
  for (const name of candidates) {
    await useBackend(name);
    timings.push({ name, seconds: await timeHessianVectorProduct(modelFile, loss) });
  }
  timings.sort((a, b) => a.seconds - b.seconds);
  const best = timings[0] as { name: string; seconds: number };
  chosen.set(modelFile, best.name);
  await useBackend(best.name);
  return `backend ${best.name}: fastest on this model (Hessian-vector product on ${PROBE_BATCH} examples: ${timings.map((t) => `${t.name} ${(t.seconds * 1000).toFixed(0)} ms`).join(', ')})`;
}

/** Seconds for one Hessian-vector product of `loss` on a batch of zeros (after a warm-up). */
async function timeHessianVectorProduct(modelFile: string, loss: LossName): Promise<number> {
  const model = await loadModel(modelFile, 'model');
  try {
    const block = ParamBlock.all(model);
    const n = PROBE_BATCH;
    const x = model.inputTensor(new Float32Array(n * model.graph.inputShape.reduce((a, b) => a * b, 1)), n);
    const labelSize = loss === 'mse' ? model.outputShape.reduce((a, b) => a * b, 1) : 1;
    const y = tf.zeros(loss === 'mse' ? [n, labelSize] : [n]);
    const v = new Float64Array(block.size).fill(1e-3);
    const out = new Float64Array(block.size);
    const batch = { x, y, n, indices: [] };
    try {
      accumulateHessianVectorProduct(loss, block, block, v, batch, out);
      const t0 = process.hrtime.bigint();
      accumulateHessianVectorProduct(loss, block, block, v, batch, out);
      return Number(process.hrtime.bigint() - t0) / 1e9;
    } finally {
      tf.dispose([x, y]);
    }
  } finally {
    model.dispose();
  }
}
