/**
 * Finds and loads `msif_native.node`, the optional N-API addon of float32 CPU kernels on a
 * system BLAS (sources in native/, built by `npm run build:native`).
 *
 * ## Notes
 * The addon is looked for at `$MSIF_NATIVE_ADDON` if set, else at
 * `native/build/Release/msif_native.node` in the nearest ancestor of this file's directory
 * that has it (the repository root, both from src/worker/native/ and from the bundles in
 * dist/). It is loaded with a plain runtime `require` of a computed path, which esbuild
 * leaves alone. Loading never throws: a missing or broken addon is reported as a reason.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The addon's functions (native/src/msif_native.c documents each). All are synchronous. */
export interface NativeAddon {
  info(): { blas: string; corename: string; threads: number };
  setThreads(n: number): number;
  /** The im2col chunking: at most `budgetFloats` per patch buffer, at least `minRows` rows (1 Mi, 128). */
  setChunking(budgetFloats: number, minRows: number): void;
  batchMatMul(a: Float32Array, b: Float32Array, out: Float32Array, batch: number, batchA: number, batchB: number, m: number, n: number, k: number, transA: boolean, transB: boolean): void;
  conv2d(x: Float32Array, w: Float32Array, y: Float32Array, geom: Int32Array): void;
  conv2dBackpropInput(dy: Float32Array, w: Float32Array, dx: Float32Array, geom: Int32Array): void;
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, geom: Int32Array): void;
  transpose(x: Float32Array | Int32Array, out: Float32Array | Int32Array, shape: Int32Array, perm: Int32Array): void;
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array, outShape: Int32Array, aStrides: Int32Array, bStrides: Int32Array): void;
  unary(op: number, x: Float32Array, out: Float32Array): void;
  sumRows(x: Float32Array, out: Float32Array, rows: number, cols: number): void;
  argMaxRows(x: Float32Array, out: Int32Array, rows: number, cols: number): void;
  oneHot(indices: Int32Array, out: Float32Array, depth: number, on: number, off: number): void;
  sumColumns(x: Float32Array, out: Float32Array, rows: number, cols: number): void;
  /** pool: N H W C KH KW OH OW strideH strideW padTop padLeft. */
  maxPoolArgmax(x: Float32Array, out: Int32Array, pool: Int32Array): void;
  gatherFlat(x: Float32Array, indices: Int32Array, out: Float32Array): void;
  scatterAddFlat(dy: Float32Array, indices: Int32Array, out: Float32Array): void;
  tanhSlope(a: Float32Array, t: Float32Array, out: Float32Array): void;
  tanhCurvature(a: Float32Array, t: Float32Array, g: Float32Array, out: Float32Array): void;
}

/** The functions every addon must have: a stale build from an older source is refused. */
const REQUIRED: readonly (keyof NativeAddon)[] = ['info', 'setThreads', 'setChunking', 'batchMatMul', 'conv2d', 'conv2dBackpropInput', 'conv2dBackpropFilter', 'transpose', 'binary', 'unary', 'sumRows', 'argMaxRows', 'oneHot', 'sumColumns', 'maxPoolArgmax', 'gatherFlat', 'scatterAddFlat', 'tanhSlope', 'tanhCurvature'];

export const ADDON_RELATIVE_PATH = path.join('native', 'build', 'Release', 'msif_native.node');

export type AddonLoad = { readonly addon: NativeAddon; readonly file: string } | { readonly error: string };

let cached: AddonLoad | undefined;

/** Loads the addon once per process; later calls return the same answer. */
export function loadNativeAddon(): AddonLoad {
  cached ??= load();
  return cached;
}

function load(): AddonLoad {
  const explicit = process.env['MSIF_NATIVE_ADDON'];
  const file = explicit ? path.resolve(explicit) : findUpwards(__dirname, ADDON_RELATIVE_PATH);
  if (file === undefined || !fs.existsSync(file)) {
    const where = explicit ? `MSIF_NATIVE_ADDON=${explicit} does not exist` : `no ${ADDON_RELATIVE_PATH} above ${__dirname}`;
    return { error: `the native addon is not built (${where}; run \`npm run build:native\`, which needs libopenblas-dev, python3, make and g++)` };
  }
  let addon: NativeAddon;
  try {
    // A runtime require of a computed path: never bundled.
    addon = require(file) as NativeAddon;
  } catch (e) {
    return { error: `the native addon ${file} failed to load: ${firstLine(e)}` };
  }
  const missing = REQUIRED.filter((k) => typeof addon[k] !== 'function');
  if (missing.length > 0) return { error: `the native addon ${file} is out of date (no ${missing.join(', ')}); rebuild it with \`npm run build:native\`` };
  addon.setThreads(nativeThreads());
  return { addon, file };
}

/**
 * OpenBLAS threads: `$MSIF_NATIVE_THREADS`, else `$OPENBLAS_NUM_THREADS`, else the cores idle
 * at start-up (cores minus the 1-minute load average, rounded; at least 1), the rule the
 * wasm backend uses. Idle cores, not all: OpenBLAS's threads spin and wait for each other,
 * so on a busy machine a descheduled thread stalls every sgemm (on 2 cores under load,
 * 1,000-example HVPs of the paper CNN took 5.3 s with 1 thread and 10.6 s with 2,
 * bench/kernels.ts). Results agree across counts to float32 rounding (HVP of the paper CNN:
 * 3e-8 relative between 1 and 2 threads): OpenBLAS sums in another order with more threads.
 */
export function nativeThreads(): number {
  for (const name of ['MSIF_NATIVE_THREADS', 'OPENBLAS_NUM_THREADS']) {
    const n = Number(process.env[name] ?? '');
    if (Number.isInteger(n) && n > 0) return n;
  }
  const cores = os.cpus().length;
  return Math.min(Math.max(1, Math.round(cores - (os.loadavg()[0] ?? 0))), cores);
}

function findUpwards(start: string, relative: string): string | undefined {
  let dir = start;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, relative);
    if (fs.existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
}
