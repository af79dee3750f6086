// Bundles the extension host, the engine worker, the CLI and the webview into dist/.
// Type checking is separate (`npm run typecheck`).
//
//   node esbuild.mjs               development build (source maps)
//   node esbuild.mjs --production  minified, no source maps
//   node esbuild.mjs --watch       rebuild on change
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

// Native TensorFlow bindings: optional dependencies, loaded at run time if installed.
const nativeTensorflow = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'];

const node = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
};

// Worker, CLI and webview do not mark 'vscode' external: importing it there fails the build.
const builds = [
  { ...node, entryPoints: ['src/worker/main.ts'], outfile: 'dist/worker.js', external: nativeTensorflow },
  { ...node, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', external: nativeTensorflow },
  { ...node, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] },
  {
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'esm',
    sourcemap: !production,
    minify: production,
    logLevel: 'warning',
    entryPoints: ['webview/main.ts'],
    outfile: 'dist/webview/main.js',
  },
];
// The extension-host test suite (run inside a real VS Code by test/e2e); not shipped.
if (!production) {
  builds.push({ ...node, entryPoints: ['test/extension/suite/index.ts'], outfile: 'dist/test/extension/suite.js', external: ['vscode'] });
}

/** Copies the tfjs-backend-wasm binaries next to the bundles, where src/worker/backend.ts looks. */
function copyWasmBinaries() {
  const require = createRequire(import.meta.url);
  const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  mkdirSync('dist', { recursive: true });
  const binaries = readdirSync(dist).filter((f) => /^tfjs-backend-wasm.*\.wasm$/.test(f));
  if (binaries.length === 0) throw new Error(`no tfjs-backend-wasm*.wasm in ${dist}`);
  for (const f of binaries) copyFileSync(join(dist, f), join('dist', f));
}

// A release build starts from an empty dist/, so that no development source map is left there.
if (production) rmSync('dist', { recursive: true, force: true });
copyWasmBinaries();
const contexts = await Promise.all(builds.map((options) => esbuild.context(options)));
if (watch) {
  await Promise.all(contexts.map((c) => c.watch()));
  console.log(`[watch] watching ${builds.map((b) => b.outfile).join(', ')}`);
} else {
  try {
    await Promise.all(contexts.map((c) => c.rebuild()));
    console.log(`built ${builds.map((b) => b.outfile).join(', ')}${production ? ' (production)' : ''}`);
  } catch {
    // esbuild has printed the errors.
    process.exitCode = 1;
  } finally {
    await Promise.all(contexts.map((c) => c.dispose()));
  }
}
