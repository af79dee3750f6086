/**
 * Chooses the TensorFlow.js backend for this process. Must run before any tensor is
 * created (tfjs throws "backend not yet initialized" otherwise).
 *
 * Order: `tensorflow` (the native `@tensorflow/tfjs-node-gpu`, then `@tensorflow/tfjs-node`,
 * looked for first in the directories "MSIF: Install TensorFlow backend" installs into,
 * then by the normal resolution; loaded with a plain runtime `require` that esbuild leaves
 * external) → `native` (the cpu backend with its hot kernels in MSIF's own optional addon
 * on OpenBLAS, native/, when `npm run build:native` has built it; src/worker/native/) →
 * `wasm` (`@tensorflow/tfjs-backend-wasm`, bundled; SIMD, and threads where the machine
 * has more than one core: ./backendWasmThreads.ts) → `cpu` (pure JS).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { MsifError } from '../common/errors';
import { BACKEND_NAMES, BACKEND_PREFERENCES } from '../protocol/engineProtocol';
import { missingNativeBinding, packageDirIn } from './backendPackages';
import type { TensorflowPackage } from './backendPackages';
import { describeWasm, MAX_WASM_THREADS, pthreadsUnavailable, startThreadedWasm } from './backendWasmThreads';
import { registerEngineKernels } from './kernels/engineKernels';
import { registerNativeBackend } from './native/nativeBackend';
import type { BackendPreference } from '../protocol/engineProtocol';

/** The backend in use, why it was chosen, and why each backend tried before it was skipped. */
export interface BackendChoice {
  /** `tf.getBackend()` after initialisation. */
  readonly name: string;
  readonly reason: string;
  readonly tried: readonly { readonly name: string; readonly error?: string }[];
}

/** Where to look for backend packages besides the normal resolution. */
export interface BackendOptions {
  /**
   * npm prefixes holding `node_modules/@tensorflow/tfjs-node[-gpu]` (the extension's
   * `<globalStorage>/backends`), searched in order before the normal resolution. The
   * environment variable `MSIF_BACKEND_DIR` adds one more (for the CLI).
   */
  readonly packageDirs?: readonly string[];
}

type BackendName = (typeof BACKEND_NAMES)[number];

/** Native packages that register the `tensorflow` backend, fastest first (./backendPackages.ts), and their plain requires. */
const TENSORFLOW_LOADERS: readonly (readonly [TensorflowPackage, () => unknown])[] = [
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
export async function initBackend(preference: BackendPreference = 'auto', options: BackendOptions = {}): Promise<BackendChoice> {
  const fromEnv = process.env['MSIF_BACKEND'];
  const wanted = fromEnv ? parsePreference(fromEnv) : preference;
  const dirs = packageDirs(options);
  const candidates: readonly BackendName[] = wanted === 'auto' ? BACKEND_NAMES : [wanted];
  const tried: { name: string; error?: string }[] = [];
  for (const name of candidates) {
    const error = await tryBackend(name, dirs);
    if (error === undefined) {
      tried.push({ name });
      // `native` wins on large models, `wasm` on small ones (less per-op overhead): with
      // both available, backendProbe.ts chooses by the model before a job.
      racing = wanted === 'auto' && name === 'native' && (await tryBackend('wasm', dirs)) === undefined ? ['native', 'wasm'] : [];
      if (racing.length > 0) await start(name);
      skipped = tried.filter((t) => t.error !== undefined).map((t) => `${t.name} (${t.error})`);
      const reason = await describeChoice(name, wanted, fromEnv);
      current = reason;
      return { name: tf.getBackend(), reason, tried };
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
/** Why each backend before the chosen one was not used, e.g. `tensorflow (… is not installed)`. */
let skipped: string[] = [];
/** Where the `tensorflow` backend was loaded from, when it was. */
let tensorflowSource: string | undefined;
/** The reason for the backend in use, in words. */
let current = '';

/** The backends to time on a model before a job; empty when the choice is already made. */
export function racingBackends(): readonly string[] {
  return racing;
}

/** Why the backend in use runs, and why the ones before it in the order do not. */
export function backendReason(): string {
  return current;
}

/**
 * Switches to an initialised backend (one of {@link racingBackends}); `why` says what
 * decided it, and becomes {@link backendReason} with the skipped backends appended.
 */
export async function useBackend(name: string, why: string): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} did not start`);
  await tf.ready();
  current = `${await label(name)}: ${why}${skippedSuffix()}`;
}

function parsePreference(value: string): BackendPreference {
  const found = BACKEND_PREFERENCES.find((p) => p === value);
  if (found === undefined) {
    throw new MsifError('usage', `MSIF_BACKEND is '${value}'`, { expected: `one of ${BACKEND_PREFERENCES.join(', ')}` });
  }
  return found;
}

function packageDirs(options: BackendOptions): string[] {
  const fromEnv = process.env['MSIF_BACKEND_DIR'];
  return [...(options.packageDirs ?? []), ...(fromEnv ? [fromEnv] : [])].map((d) => path.resolve(d));
}

/** Starts one backend; returns why it did not start, or undefined on success. */
async function tryBackend(name: BackendName, dirs: readonly string[]): Promise<string | undefined> {
  if (name === 'tensorflow') return tryTensorflow(dirs);
  if (name === 'native') {
    const registration = registerNativeBackend();
    if ('error' in registration) return registration.error;
  }
  if (name === 'wasm') return tryWasm();
  // The engine's optional kernels (pooling gathers, tanh derivatives), as JavaScript loops.
  if (name === 'cpu') registerEngineKernels('cpu');
  return (await start(name)) ? undefined : 'initialisation failed (tfjs printed the cause)';
}

/** Loads tfjs-node-gpu or tfjs-node from `dirs`, else from the normal resolution. */
async function tryTensorflow(dirs: readonly string[]): Promise<string | undefined> {
  const failures: string[] = [];
  for (const [pkg, loadResolved] of TENSORFLOW_LOADERS) {
    const installed = dirs.map((d) => packageDirIn(d, pkg)).filter((d) => fs.existsSync(path.join(d, 'package.json')));
    const locations: { dir?: string; load: () => unknown; where: string }[] = [
      ...installed.map((d) => ({ dir: d, load: () => require(d), where: d })),
      { dir: resolvedDir(pkg), load: loadResolved, where: 'node_modules' },
    ];
    let found = false;
    for (const { dir, load, where } of locations) {
      if (dir === undefined) continue;
      found = true;
      const missing = missingNativeBinding(dir);
      if (missing) {
        // Loading it anyway would register a second copy of every tfjs kernel before failing.
        failures.push(`${pkg} in ${where} ${missing}`);
        continue;
      }
      try {
        load();
      } catch (e) {
        failures.push(`${pkg} in ${where} failed to load: ${firstLine(e)}`);
        continue;
      }
      if (!(await start('tensorflow'))) return `${pkg} in ${where} loaded but the backend did not initialise`;
      tensorflowSource = `${pkg} from ${dir}`;
      return undefined;
    }
    if (!found) failures.push(`${pkg} is not installed${dirs.length > 0 ? ` (looked in ${dirs.join(', ')} and node_modules)` : ''}`);
  }
  return failures.join(', ');
}

/**
 * Starts wasm: with threads where {@link wasmThreads} asks for more than one, falling back
 * to one thread (saying why) if the threaded binary does not start.
 */
async function tryWasm(): Promise<string | undefined> {
  // Started before in this process (its threads are settled then): just switch to it.
  if (initialised('wasm')) return (await start('wasm')) ? undefined : 'initialisation failed';
  if (fs.existsSync(path.join(__dirname, WASM_BINARY))) {
    // Bundled: the binaries sit next to this bundle. Unbundled, the package finds its own.
    setWasmPaths(__dirname + path.sep);
  }
  const { threads, why } = wasmThreads();
  wasmNote = why;
  const unavailable = threads > 1 ? await pthreadsUnavailable() : undefined;
  if (unavailable !== undefined) wasmNote = `no threads: ${unavailable}`;
  else if (threads > 1) {
    try {
      if (await startThreadedWasm(threads, () => start('wasm'))) return undefined;
      wasmNote = 'the threaded binary did not start; one thread';
    } catch (e) {
      wasmNote = `the threaded binary did not start (${firstLine(e)}); one thread`;
    }
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  }
  return (await start('wasm')) ? undefined : 'initialisation failed (tfjs printed the cause)';
}

/** Why wasm runs on the threads it does, when not simply one per core (set by {@link tryWasm}). */
let wasmNote: string | undefined;

/**
 * Threads for the wasm backend, and why when fewer than the cores: `$MSIF_WASM_THREADS`,
 * else the cores idle at start-up (cores minus the 1-minute load average, rounded; at
 * least 1, at most {@link MAX_WASM_THREADS}). 1 runs the single-threaded SIMD binary.
 * Idle cores, not all cores: XNNPACK's pool waits for every thread at the end of each op,
 * so a thread the OS has descheduled for another process stalls the op (bench/README.md
 * has the numbers). Scores do not depend on the count (threads split outputs, not sums).
 */
export function wasmThreads(): { readonly threads: number; readonly why?: string } {
  const n = Number(process.env['MSIF_WASM_THREADS'] ?? '');
  if (Number.isInteger(n) && n > 0) return { threads: Math.min(n, MAX_WASM_THREADS), why: 'MSIF_WASM_THREADS' };
  const cores = os.cpus().length;
  const load = os.loadavg()[0] ?? 0;
  const threads = Math.min(Math.max(1, Math.round(cores - load)), cores, MAX_WASM_THREADS);
  return threads < Math.min(cores, MAX_WASM_THREADS) ? { threads, why: `${cores} cores, load average ${load.toFixed(1)}; MSIF_WASM_THREADS sets it` } : { threads };
}

/** Whether tfjs has an instance of the backend already (without starting one, unlike `tf.findBackend`). */
function initialised(name: string): boolean {
  return (tf.engine() as unknown as { registry: Record<string, unknown> }).registry[name] !== undefined;
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

/** The backend's name with what it runs on, e.g. `wasm (SIMD, 2 threads)`. */
async function label(name: string): Promise<string> {
  if (name === 'wasm') return `wasm (${await describeWasm()}${wasmNote ? `; ${wasmNote}` : ''})`;
  if (name === 'tensorflow' && tensorflowSource) return `tensorflow (${tensorflowSource})`;
  return name;
}

function skippedSuffix(): string {
  return skipped.length === 0 ? '' : `; not ${skipped.join(', not ')}`;
}

async function describeChoice(name: BackendName, wanted: BackendPreference, fromEnv: string | undefined): Promise<string> {
  const what = await label(name);
  if (wanted !== 'auto') return fromEnv ? `${what}: as MSIF_BACKEND asks` : `${what}: as requested`;
  const rest = racing.length > 0 ? ` (${racing.join(' or ')}, chosen per model before each job)` : '';
  return `${what}: the first available backend${rest}${skippedSuffix()}`;
}

/** The directory of `pkg` by the normal resolution, or undefined when it is not installed. */
function resolvedDir(pkg: string): string | undefined {
  try {
    return path.dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    return undefined;
  }
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
}
