/**
 * The `native` TensorFlow.js backend: tfjs-backend-cpu's MathBackendCPU with its hottest
 * kernels (matmul, convolutions and their gradients, transpose, broadcasting arithmetic,
 * sums, a few activations) replaced by the N-API addon in native/ on a system BLAS.
 *
 * ## Notes
 * Registered lazily by {@link registerNativeBackend} (src/worker/backend.ts calls it when
 * `native` is tried), never at import. Every `cpu` kernel is registered for `native` too:
 * tensors live in the same storage, so the cpu kernels run unchanged on it, and a native
 * kernel that declines a case (see kernels.ts) falls back to its cpu counterpart.
 */
import * as tf from '@tensorflow/tfjs';
import { loadNativeAddon } from './addon';
import type { NativeAddon } from './addon';
import { nativeKernels } from './kernels';
import { registerEngineKernels } from '../kernels/engineKernels';
import type { CpuStorage } from './kernels';

export const NATIVE_BACKEND = 'native';

export interface NativeBackendOptions {
  /** Backend name; another name registers a second copy (benchmarks compare subsets). */
  readonly name?: string;
  /** Only these kernels run natively (all by default); the rest use the cpu kernels. */
  readonly kernels?: ReadonlySet<string>;
}

export interface NativeRegistration {
  readonly name: string;
  readonly addon: NativeAddon;
  /** Where the addon was loaded from. */
  readonly file: string;
  /** The kernels that run natively. */
  readonly kernels: readonly string[];
}

const registered = new Map<string, NativeRegistration>();

/**
 * Registers the backend and its kernels (once per name). Returns why it cannot when the
 * addon is absent or fails to load; never throws for that.
 */
export function registerNativeBackend(options: NativeBackendOptions = {}): NativeRegistration | { readonly error: string } {
  const name = options.name ?? NATIVE_BACKEND;
  const done = registered.get(name);
  if (done) return done;
  const load = loadNativeAddon();
  if ('error' in load) return { error: load.error };
  const cpuFactory = tf.findBackendFactory('cpu');
  if (!cpuFactory) return { error: 'the tfjs cpu backend is not registered, and the native backend builds on it' };

  const natives = nativeKernels(load.addon);
  const used: string[] = [];
  for (const config of tf.getKernelsForBackend('cpu')) {
    const fast = options.kernels === undefined || options.kernels.has(config.kernelName) ? natives.get(config.kernelName) : undefined;
    const cpuKernel = config.kernelFunc;
    let kernelFunc = cpuKernel;
    if (fast) {
      used.push(config.kernelName);
      kernelFunc = (args) => fast(args, args.backend as CpuStorage) ?? cpuKernel(args);
    }
    if (tf.getKernel(config.kernelName, name) === undefined) tf.registerKernel({ ...config, backendName: name, kernelFunc });
  }
  // The engine's own kernels (src/engine/model/flatIndex.ts): native, else the JavaScript loops.
  registerEngineKernels(name, natives);
  // Priority 0: never picked by tfjs on its own, only when asked for by name.
  tf.registerBackend(name, () => cpuFactory() as tf.KernelBackend, 0);
  const registration: NativeRegistration = { name, addon: load.addon, file: load.file, kernels: used.sort() };
  registered.set(name, registration);
  return registration;
}
