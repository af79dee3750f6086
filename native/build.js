#!/usr/bin/env node
// Builds native/build/Release/msif_native.node, the optional addon behind MSIF's `native`
// TensorFlow.js backend (src/worker/native/), against the system OpenBLAS.
//
//   node native/build.js             build; exit 1 with the reason if it cannot
//   node native/build.js --optional  build if possible; otherwise print why and exit 0
//                                    (for postinstall: never fails an install)
//
// Needs: Linux, OpenBLAS with its C interface (Debian: apt-get install -y libopenblas-dev),
// python3, make and a C compiler (node-gyp), and Node's headers (found next to the node
// binary, e.g. /usr/include/node from Debian's nodejs, or $npm_config_nodedir; otherwise
// node-gyp downloads them). node-gyp is npm's own copy unless one is installed locally.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const optional = process.argv.includes('--optional');
const here = __dirname;
const addon = path.join(here, 'build', 'Release', 'msif_native.node');

function skip(reason) {
  const line = `msif native addon: not built: ${reason}. MSIF will use the wasm or cpu backend.`;
  if (optional) {
    console.log(line);
    process.exit(0);
  }
  console.error(line);
  process.exit(1);
}

function firstExisting(paths) {
  return paths.find((p) => p && fs.existsSync(p));
}

if (process.env.MSIF_SKIP_NATIVE_BUILD) skip('MSIF_SKIP_NATIVE_BUILD is set');
if (process.platform !== 'linux') skip(`only Linux is supported so far (this is ${process.platform})`);

// OpenBLAS: its C header and its shared library.
const multiarch = `${process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : process.arch}-linux-gnu`;
const header = firstExisting([
  `/usr/include/${multiarch}/cblas.h`,
  `/usr/include/${multiarch}/openblas-pthread/cblas.h`,
  '/usr/include/cblas.h',
  '/usr/include/openblas/cblas.h',
]);
const library = firstExisting([`/usr/lib/${multiarch}/libopenblas.so`, '/usr/lib64/libopenblas.so', '/usr/lib/libopenblas.so']);
if (!header || !library) skip('OpenBLAS is not installed (Debian/Ubuntu: apt-get install -y libopenblas-dev)');

// node-gyp: a local install, else the copy bundled with npm.
const npmDir = process.env.npm_execpath ? path.resolve(path.dirname(process.env.npm_execpath), '..') : undefined;
let nodeGyp;
try {
  nodeGyp = require.resolve('node-gyp/bin/node-gyp.js', { paths: [path.join(here, '..')] });
} catch {
  nodeGyp = firstExisting([
    npmDir && path.join(npmDir, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ]);
}
if (!nodeGyp) skip("node-gyp was not found (neither installed locally nor bundled with npm)");

// Node's headers: $npm_config_nodedir, else the prefix of this node if it has include/node.
const prefix = path.resolve(path.dirname(process.execPath), '..');
const nodedir = process.env.npm_config_nodedir || (fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined);

const args = [nodeGyp, 'rebuild', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
console.log(`msif native addon: building with OpenBLAS (${header}), node-gyp ${path.relative(process.cwd(), nodeGyp) || nodeGyp}${nodedir ? `, headers from ${nodedir}` : ''}`);
const built = spawnSync(process.execPath, args, { cwd: here, stdio: optional ? 'pipe' : 'inherit', encoding: 'utf8' });
if (built.status !== 0) {
  if (optional) {
    const tail = `${built.stdout ?? ''}${built.stderr ?? ''}`.split('\n').filter((l) => /error|ERR!/i.test(l)).slice(-5).join('\n');
    if (tail) console.log(tail);
  }
  skip(`node-gyp failed (exit ${built.status ?? built.signal}; needs python3, make and a C compiler)`);
}

// Load it in a fresh process: a link error (say, libopenblas.so.0 missing at run time) shows here.
const check = spawnSync(process.execPath, ['-e', `const a = require(${JSON.stringify(addon)}); console.log(JSON.stringify(a.info()))`], { encoding: 'utf8' });
if (check.status !== 0) skip(`the built addon does not load: ${(check.stderr || '').split('\n').find((l) => l.trim()) ?? `exit ${check.status}`}`);
const info = JSON.parse(check.stdout);
console.log(`msif native addon: built ${path.relative(process.cwd(), addon) || addon} (${info.blas}; core ${info.corename}; ${info.threads} threads)`);
