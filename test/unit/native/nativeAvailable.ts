/**
 * Whether the native addon can be tested here, and what to do when it cannot: with
 * `MSIF_REQUIRE_NATIVE=1` (CI, which builds the addon) a missing addon fails the tests;
 * otherwise they are skipped with a loud message, so that `npm test` works without OpenBLAS.
 */
import * as tf from '@tensorflow/tfjs';
import { registerNativeBackend } from '../../../src/worker/native/nativeBackend';
import type { NativeRegistration } from '../../../src/worker/native/nativeBackend';

export interface NativeForTests {
  /** The registration, when the addon loaded. */
  readonly native?: NativeRegistration;
  /** Why the suites are skipped (undefined: they run, or fail when required). */
  readonly skip?: string;
}

export function nativeForTests(): NativeForTests {
  const r = registerNativeBackend();
  if (!('error' in r)) return { native: r };
  const required = process.env['MSIF_REQUIRE_NATIVE'] === '1';
  if (required) {
    // Let the suites run and fail on this message rather than pass vacuously.
    return {};
  }
  const skip = `native addon unavailable, native backend NOT TESTED: ${r.error} (set MSIF_REQUIRE_NATIVE=1 to make this a failure)`;
  process.stderr.write(`\n*** ${skip}\n\n`);
  return { skip };
}

/** Throws the load error: for `before` hooks when the addon is required but missing. */
export function requireNative(n: NativeForTests): NativeRegistration {
  if (n.native) return n.native;
  const r = registerNativeBackend();
  throw new Error(`MSIF_REQUIRE_NATIVE=1 but the native backend is unavailable: ${'error' in r ? r.error : 'unknown'}`);
}

/** Runs `fn` with `backend` as the current backend, restoring the previous one. */
export async function onBackend<T>(backend: string, fn: () => T): Promise<T> {
  const previous = tf.getBackend();
  await tf.setBackend(backend);
  try {
    return fn();
  } finally {
    if (previous) await tf.setBackend(previous);
  }
}
