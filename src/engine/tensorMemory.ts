/**
 * A high-water mark of tensor memory (bytes held by live tfjs tensors), sampled where the
 * engine's intermediates peak: at the end of each batch's forward/backward pass, before
 * its intermediates are freed. A lower bound of the true peak (kernels' scratch space and
 * moments between samples are not seen), good to show that memory is O(parameters + batch).
 */
import * as tf from '@tensorflow/tfjs';

let peak = 0;

/** Notes the bytes held by tensors now. */
export function sampleTensorMemory(): void {
  const bytes = tf.memory().numBytes;
  if (bytes > peak) peak = bytes;
}

/** Starts a new measurement from the bytes held now. */
export function resetTensorMemoryPeak(): void {
  peak = tf.memory().numBytes;
}

/** The largest sample since the last reset. */
export function peakTensorBytes(): number {
  return Math.max(peak, tf.memory().numBytes);
}
