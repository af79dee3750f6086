/**
 * Chooses between the backends `auto` found (native and wasm) for a given model, by its
 * forward cost: wasm has less overhead per op and wins on small models, native (OpenBLAS)
 * wins once the matrix products dominate. A rule, not a timing, so that two processes (the
 * CLI and the extension's worker) choose the same backend and give the same scores.
 *
 * The crossover comes from measurements on a 2-core machine (bench/results/): the bundled
 * example's CNN (≈26k multiply-adds per example) ran a Hessian-vector product in 19 ms on
 * wasm against 27 ms on native; the paper's MNIST CNN (≈3.8M) 2.8× faster on native.
 * Both run the whole engine: the engine's ops (src/engine/model/ops.ts) need only kernels
 * every backend has.
 */
import { backendReason, racingBackends, useBackend } from './backend';
import { loadModel } from './modelFiles';

/** Forward multiply-adds per example from which native is used instead of wasm. */
export const NATIVE_MIN_MULTIPLY_ADDS = 250_000;

/**
 * Makes the racing backend suited to `modelFile` current; returns a line saying which and
 * why (also {@link backendReason} from then on), or undefined when there was nothing to
 * choose.
 */
export async function chooseBackendForModel(modelFile: string): Promise<string | undefined> {
  const candidates = racingBackends();
  if (candidates.length < 2) return undefined;
  const model = await loadModel(modelFile, 'pretrain.model');
  const macs = model.multiplyAdds;
  model.dispose();
  const native = macs >= NATIVE_MIN_MULTIPLY_ADDS;
  const why = native
    ? `forward pass ${compact(macs)} multiply-adds per example ≥ ${compact(NATIVE_MIN_MULTIPLY_ADDS)}, where native's BLAS kernels beat wasm`
    : `forward pass ${compact(macs)} multiply-adds per example < ${compact(NATIVE_MIN_MULTIPLY_ADDS)}, where wasm's lower per-op overhead beats native`;
  await useBackend(native ? 'native' : 'wasm', why);
  return `backend ${backendReason()}`;
}

/** 3.7M, 250k, 26.1k, 950. */
function compact(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${Number((n / 1e3).toPrecision(3))}k`;
  return String(n);
}
