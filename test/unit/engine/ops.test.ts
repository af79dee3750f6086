/**
 * The engine's convolution gradients on every backend against the cpu backend's shipped
 * Conv2DBackpropInput/Filter kernels (a different algorithm): stride 1 on wasm takes the
 * forward-convolution route for ∂x, and the filter gradient is always a forward conv.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { conv2d, type Padding } from '../../../src/engine/model/ops';

interface Case {
  readonly x: [number, number, number, number];
  readonly k: [number, number, number, number];
  readonly strides: [number, number];
  readonly padding: Padding;
}

const CASES: Case[] = [
  { x: [2, 7, 6, 3], k: [3, 2, 3, 4], strides: [1, 1], padding: 'valid' },
  { x: [2, 7, 6, 3], k: [3, 2, 3, 4], strides: [1, 1], padding: 'same' },
  { x: [1, 6, 6, 2], k: [4, 4, 2, 2], strides: [1, 1], padding: 'same' },
  { x: [3, 5, 5, 1], k: [1, 1, 1, 3], strides: [1, 1], padding: 'valid' },
  { x: [2, 9, 8, 2], k: [3, 3, 2, 3], strides: [2, 2], padding: 'same' },
  { x: [2, 9, 8, 2], k: [2, 3, 2, 3], strides: [2, 1], padding: 'valid' },
];

/** ∂/∂(x, K) of Σ R ⊙ conv2d(x, K), by `grad` on the named backend. */
async function gradients(backend: string, c: Case, engine: boolean): Promise<[Float32Array, Float32Array]> {
  await tf.setBackend(backend);
  const [gx, gk] = tf.tidy(() => {
    const x = tf.randomNormal(c.x, 0, 1, 'float32', 1) as tf.Tensor4D;
    const k = tf.randomNormal(c.k, 0, 1, 'float32', 2) as tf.Tensor4D;
    const conv = (a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D => (engine ? conv2d(a, b, c.strides, c.padding) : tf.conv2d(a, b, c.strides, c.padding));
    const r = tf.randomNormal(conv(x, k).shape, 0, 1, 'float32', 3);
    const [gx, gk] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(r, conv(a as tf.Tensor4D, b as tf.Tensor4D))))([x, k]);
    return [(gx as tf.Tensor).dataSync() as Float32Array, (gk as tf.Tensor).dataSync() as Float32Array];
  });
  return [gx as Float32Array, gk as Float32Array];
}

function assertClose(a: Float32Array, e: Float32Array, what: string): void {
  // Sums of ≤ 100 float32 products of unit-normal values: 1e-4 absolute/relative.
  for (let i = 0; i < e.length; i++) {
    assert.ok(Math.abs((a[i] as number) - (e[i] as number)) <= 1e-4 * Math.max(1, Math.abs(e[i] as number)), `${what}[${i}]: ${a[i]} vs ${e[i]}`);
  }
}

describe('conv2d gradients', () => {
  for (const c of CASES) {
    const name = `x ${c.x.join('×')}, kernel ${c.k.join('×')}, strides ${c.strides.join(',')}, ${c.padding}`;
    for (const backend of ['cpu', 'wasm']) {
      it(`${name} on ${backend} equals the cpu backend's shipped kernels`, async () => {
        const [ex, ek] = await gradients('cpu', c, false);
        const [gx, gk] = await gradients(backend, c, true);
        assertClose(gx, ex, '∂x');
        assertClose(gk, ek, '∂K');
      });
    }
  }
});
