/**
 * Where the optional native TensorFlow packages live and whether an installed one can
 * work. Plain file checks, no tfjs: the extension host uses them after "MSIF: Install
 * TensorFlow backend", the worker (./backend.ts) before loading a package.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The packages that register tfjs's `tensorflow` backend, fastest first. */
export const TENSORFLOW_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

export type TensorflowPackage = (typeof TENSORFLOW_PACKAGES)[number];

/** The npm prefix the extension installs backend packages into, under its global storage. */
export function backendPackagesDir(globalStorageDir: string): string {
  return path.join(globalStorageDir, 'backends');
}

/** `pkg`'s directory under the npm prefix `prefix`, whether or not it exists. */
export function packageDirIn(prefix: string, pkg: string): string {
  return path.join(prefix, 'node_modules', ...pkg.split('/'));
}

/**
 * Why an installed tfjs-node package cannot work, or undefined when it may: its install
 * script downloads libtensorflow and builds `lib/napi-v<N>/tfjs_binding.node`; where the
 * download is blocked (or scripts were skipped) the package is there without it.
 */
export function missingNativeBinding(packageDir: string): string | undefined {
  const lib = path.join(packageDir, 'lib');
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(lib);
  } catch {
    // No lib/: the install script never got as far as the binding.
  }
  const hasBinding = entries.some((d) => d.startsWith('napi-v') && fs.existsSync(path.join(lib, d, 'tfjs_binding.node')));
  return hasBinding ? undefined : 'is installed without its native library (its libtensorflow download did not happen)';
}
