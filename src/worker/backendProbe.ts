/**
 * Chooses between the backends `auto` found (native and wasm) for a given model, by its
 * forward cost: wasm has less overhead per op and wins on small models, native (OpenBLAS)
 * wins once the matrix products dominate. A rule, not a timing, so that two processes (the
 * CLI and the extension's worker) choose the same backend and give the same scores.
 *
 * The crossover comes from measurements on a 2-core machine (bench/results/): the bundled
 * example's CNN (≈26k multiply-adds per example) ran a Hessian-vector product in 19 ms on
 * wasm against 27 ms on native; the paper's MNIST CNN (≈3.8M) 2.8× faster on native.
 */
import { racingBackends, useBackend } from './backend';
import { loadModel } from './modelFiles';

/** Forward multiply-adds per example from which native is used instead of wasm. */
export const NATIVE_MIN_MULTIPLY_ADDS = 250_000;

/**
 * Makes the racing backend suited to `modelFile` current; returns a line saying why, or
 * undefined when there was nothing to choose.
 */
export async function chooseBackendForModel(modelFile: string): Promise<string | undefined> {
  const candidates = racingBackends();
  if (candidates.length < 2) return undefined;
  const model = await loadModel(modelFile, 'pretrain.model');
  const macs = model.multiplyAdds;
  model.dispose();
  const name = macs >= NATIVE_MIN_MULTIPLY_ADDS ? 'native' : 'wasm';
  await useBackend(name);
  return `backend ${name}: the model's forward pass is ${macs.toLocaleString('en-US')} multiply-adds per example (native from ${NATIVE_MIN_MULTIPLY_ADDS.toLocaleString('en-US')})`;
}
