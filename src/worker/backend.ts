/**
 * Chooses the TensorFlow.js backend for this process. Must run before any tensor is
 * created (tfjs throws "backend not yet initialized" otherwise).
 *
 * Order: `tensorflow` (the native `@tensorflow/tfjs-node-gpu`, then `@tensorflow/tfjs-node`,
 * both optional dependencies loaded with a plain runtime `require` that esbuild leaves
 * external) → `native` (the cpu backend with its hot kernels in MSIF's own optional addon
 * on OpenBLAS, native/, when `npm run build:native` has built it; src/worker/native/) →
 * `wasm` (`@tensorflow/tfjs-backend-wasm`, bundled) → `cpu` (pure JS).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { MsifError } from '../common/errors';
import { BACKEND_NAMES, BACKEND_PREFERENCES } from '../protocol/engineProtocol';
import { registerNativeBackend } from './native/nativeBackend';
import type { BackendPreference } from '../protocol/engineProtocol';

/** The backend in use, why it was chosen, and why each backend tried before it was skipped. */
export interface BackendChoice {
  /** `tf.getBackend()` after initialisation. */
  readonly name: string;
  readonly reason: string;
  readonly tried: readonly { readonly name: string; readonly error?: string }[];
}

type BackendName = (typeof BACKEND_NAMES)[number];

/** Native packages that register the `tensorflow` backend, fastest first. */
const TENSORFLOW_PACKAGES: readonly (readonly [string, () => unknown])[] = [
  ['@tensorflow/tfjs-node-gpu', () => require('@tensorflow/tfjs-node-gpu')],
  ['@tensorflow/tfjs-node', () => require('@tensorflow/tfjs-node')],
];

/** The plain wasm binary: beside this file only in a bundle, where esbuild.mjs copies the binaries. */
const WASM_BINARY = 'tfjs-backend-wasm.wasm';

/**
 * Selects and initialises the backend. The environment variable `MSIF_BACKEND`, when set,
 * overrides `preference`. With `auto` the first backend that starts wins; a named
 * backend that cannot start is an error (code `usage`) rather than a silent fallback.
 */
export async function initBackend(preference: BackendPreference = 'auto'): Promise<BackendChoice> {
  const fromEnv = process.env['MSIF_BACKEND'];
  const wanted = fromEnv ? parsePreference(fromEnv) : preference;
  const candidates: readonly BackendName[] = wanted === 'auto' ? BACKEND_NAMES : [wanted];
  const tried: { name: string; error?: string }[] = [];
  for (const name of candidates) {
    const error = await tryBackend(name);
    if (error === undefined) {
      tried.push({ name });
      // `native` wins on large models, `wasm` on small ones (less per-op overhead): with
      // both available, backendProbe.ts times each on the model before a job.
      racing = wanted === 'auto' && name === 'native' && (await tryBackend('wasm')) === undefined ? ['native', 'wasm'] : [];
      if (racing.length > 0) await start(name);
      return { name: tf.getBackend(), reason: describeChoice(name, wanted, fromEnv, tried), tried };
    }
    tried.push({ name, error });
  }
  const why = tried.map((t) => `${t.name}: ${t.error ?? ''}`).join('; ');
  throw new MsifError('usage', `backend '${wanted}' is not available (${why})`, {
    expected: `one of ${BACKEND_PREFERENCES.join(', ')}`,
  });
}

/** Backends `auto` found available and whose speed depends on the model (see {@link initBackend}). */
let racing: BackendName[] = [];

/** The backends to time on a model before a job; empty when the choice is already made. */
export function racingBackends(): readonly string[] {
  return racing;
}

/** Switches to an initialised backend (one of {@link racingBackends}). */
export async function useBackend(name: string): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} did not start`);
  await tf.ready();
}

function parsePreference(value: string): BackendPreference {
  const found = BACKEND_PREFERENCES.find((p) => p === value);
  if (found === undefined) {
    throw new MsifError('usage', `MSIF_BACKEND is '${value}'`, { expected: `one of ${BACKEND_PREFERENCES.join(', ')}` });
  }
  return found;
}

/** Starts one backend; returns why it did not start, or undefined on success. */
async function tryBackend(name: BackendName): Promise<string | undefined> {
  if (name === 'tensorflow') {
    const failures: string[] = [];
    for (const [pkg, load] of TENSORFLOW_PACKAGES) {
      const missing = missingNativeBinding(pkg);
      if (missing) {
        // Loading it anyway would register a second copy of every tfjs kernel before failing.
        failures.push(`${pkg} ${missing}`);
        continue;
      }
      try {
        load();
      } catch (e) {
        failures.push(`${pkg} ${isNotInstalled(e, pkg) ? 'is not installed' : `failed to load: ${firstLine(e)}`}`);
        continue;
      }
      return (await start(name)) ? undefined : `${pkg} loaded but the backend did not initialise`;
    }
    return failures.join(', ');
  }
  if (name === 'native') {
    const registration = registerNativeBackend();
    if ('error' in registration) return registration.error;
  }
  if (name === 'wasm' && fs.existsSync(path.join(__dirname, WASM_BINARY))) {
    // Bundled: the binaries sit next to this bundle. Unbundled, the package finds its own.
    setWasmPaths(__dirname + path.sep);
  }
  return (await start(name)) ? undefined : 'initialisation failed (tfjs printed the cause)';
}

async function start(name: BackendName): Promise<boolean> {
  // Production mode: no debug checks, and no "install tfjs-node" banner on stderr.
  tf.enableProdMode();
  try {
    if (!(await tf.setBackend(name))) return false;
    await tf.ready();
    return true;
  } catch {
    return false;
  }
}

function describeChoice(name: BackendName, wanted: BackendPreference, fromEnv: string | undefined, tried: readonly { name: string; error?: string }[]): string {
  if (wanted !== 'auto') return fromEnv ? `${name}, as MSIF_BACKEND asks` : `${name}, as requested`;
  const skipped = tried.filter((t) => t.error !== undefined).map((t) => `${t.name} (${t.error})`);
  return skipped.length === 0
    ? `${name}, the first available backend`
    : `${name}, the first available backend; skipped ${skipped.join(', ')}`;
}

/**
 * Why an installed tfjs-node package cannot work, or undefined when it may: its install
 * script downloads libtensorflow and builds `lib/napi-v<N>/tfjs_binding.node`; where the
 * download is blocked (or scripts were skipped) the package is there without it.
 */
function missingNativeBinding(pkg: string): string | undefined {
  let dir: string;
  try {
    dir = path.dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    return 'is not installed';
  }
  const lib = path.join(dir, 'lib');
  const hasBinding =
    fs.existsSync(lib) &&
    fs.readdirSync(lib).some((d) => d.startsWith('napi-v') && fs.existsSync(path.join(lib, d, 'tfjs_binding.node')));
  return hasBinding ? undefined : 'is installed without its native library (its libtensorflow download did not happen)';
}

/** True when `pkg` itself is missing (not one of the files it loads, such as its native binding). */
function isNotInstalled(e: unknown, pkg: string): boolean {
  return (e as { code?: unknown } | null)?.code === 'MODULE_NOT_FOUND' && firstLine(e).includes(`'${pkg}'`);
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
}
