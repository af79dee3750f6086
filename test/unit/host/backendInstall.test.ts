/**
 * The backend installer (src/host/backendInstall.ts) with a real npm, offline: each case
 * packs a tiny local package whose install script behaves as @tensorflow/tfjs-node's does
 * (prints "* Downloading libtensorflow" and the URL, then downloads), and installs the
 * tarball with `npm install --prefix` into a temporary directory.
 *
 * The download failures are real socket errors, made without the network: DNS failure
 * through an `https.get` lookup function that fails as getaddrinfo does for a name that
 * does not resolve (what this machine gives for storage.googleapis.com: ENOTFOUND), and a
 * refused connection to a closed local port. npm runs with `offline` and its own cache, so
 * nothing here reaches a registry. Needs npm on PATH (skipped, saying so, without it).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { isCancelled } from '../../../src/common/errors';
import { describeInstallFailure, findNpm, installBackendPackage, NpmOutputReader } from '../../../src/host/backendInstall';
import type { InstallPhase, NpmCommand } from '../../../src/host/backendInstall';

const npm = findNpm(process.env);
let root: string;
let env: NodeJS.ProcessEnv;

/** The install script's beginning, as tfjs-node's scripts/install.js prints it. */
const PREAMBLE = `
console.log('CPU-linux-4.22.0.tar.gz');
console.warn('* Downloading libtensorflow');
`;

/** The fixture packages by name: each one's install script. */
function fixtures(port: number, pidFile: string): Record<string, string> {
  return {
    'fake-tfjs-node-dns': `${PREAMBLE}
const url = 'https://storage.googleapis.com/tensorflow/libtensorflow/libtensorflow-cpu-linux-x86_64-2.9.1.tar.gz';
console.log(url);
// getaddrinfo's failure for a name that does not resolve, without asking a DNS server.
const lookup = (host, options, cb) => cb(Object.assign(new Error('getaddrinfo ENOTFOUND ' + host), { errno: -3008, code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname: host }));
require('https').get(url, { lookup }); // no 'error' listener: the process dies as tfjs-node's does
`,
    'fake-tfjs-node-refused': `${PREAMBLE}
const url = 'https://127.0.0.1:${port}/tensorflow/libtensorflow/libtensorflow-cpu-linux-x86_64-2.9.1.tar.gz';
console.log(url);
require('https').get(url);
`,
    'fake-tfjs-node-broken': `${PREAMBLE}\nconsole.error('unsupported system: sparc'); process.exit(3);\n`,
    'fake-tfjs-node-nolib': `${PREAMBLE}\nconsole.log('skipped');\n`,
    'fake-tfjs-node-ok': `${PREAMBLE}
const fs = require('fs');
fs.mkdirSync('lib/napi-v8', { recursive: true });
fs.writeFileSync('lib/napi-v8/tfjs_binding.node', '');
`,
    'fake-tfjs-node-slow': `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid));
${PREAMBLE}
setInterval(() => undefined, 1000); // a download that never ends
`,
  };
}

/** Writes every fixture package and packs them all with one npm call; returns the tarballs by name. */
function packFixtures(scripts: Record<string, string>): Map<string, string> {
  const out = path.join(root, 'packs');
  fs.mkdirSync(out, { recursive: true });
  const dirs = Object.entries(scripts).map(([name, script]) => {
    const dir = path.join(root, 'src', name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', scripts: { install: 'node install.js' } }));
    fs.writeFileSync(path.join(dir, 'install.js'), script);
    return dir;
  });
  const npmCmd = npm as NpmCommand;
  execFileSync(npmCmd.command, [...npmCmd.args, 'pack', ...dirs, '--pack-destination', out], { env, stdio: 'ignore' });
  return new Map(Object.keys(scripts).map((name) => [name, path.join(out, `${name}-1.0.0.tgz`)]));
}

let tarballs: Map<string, string>;
let pidFile: string;

async function install(name: string, extra: { signal?: AbortSignal; onPhase?: (p: InstallPhase) => void } = {}) {
  const spec = tarballs.get(name) as string;
  const prefix = path.join(root, `prefix-${name}`);
  const outcome = await installBackendPackage({
    spec,
    packageName: name,
    prefix,
    npm: npm as NpmCommand,
    env,
    ...(extra.signal ? { signal: extra.signal } : {}),
    ...(extra.onPhase ? { onPhase: extra.onPhase } : {}),
  });
  return { outcome, prefix };
}

describe('installBackendPackage with a real npm (offline)', { skip: npm === undefined ? 'no npm on PATH' : false }, () => {
  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'msif-install-'));
    env = { ...process.env, npm_config_offline: 'true', npm_config_cache: path.join(root, 'npm-cache'), npm_config_update_notifier: 'false' };
    // A port nothing listens on (for the refused connection): open one, then close it.
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    pidFile = path.join(root, 'script.pid');
    tarballs = packFixtures(fixtures(port, pidFile));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  test('a libtensorflow download that cannot resolve its host is reported as blocked, naming the host', async () => {
    const phases: string[] = [];
    const { outcome, prefix } = await install('fake-tfjs-node-dns', { onPhase: (p) => phases.push(p.id) });
    assert.equal(outcome.kind, 'blocked', JSON.stringify(outcome));
    if (outcome.kind !== 'blocked') return;
    assert.equal(outcome.stage, 'script');
    assert.equal(outcome.what, 'libtensorflow');
    assert.equal(outcome.host, 'storage.googleapis.com');
    assert.equal(outcome.code, 'ENOTFOUND');
    assert.match(outcome.url ?? '', /^https:\/\/storage\.googleapis\.com\/tensorflow\/libtensorflow\//);
    assert.ok(phases.includes('script') && phases.includes('libtensorflow'), `phases ${phases.join(', ')}`);
    // npm rolls the failed install back: nothing half-installed is left for the worker to find.
    assert.equal(fs.existsSync(path.join(prefix, 'node_modules', 'fake-tfjs-node-dns')), false);

    const message = describeInstallFailure(outcome, { pkg: '@tensorflow/tfjs-node', spec: '@tensorflow/tfjs-node@4.22.0', prefix });
    assert.match(message, /could not download libtensorflow from storage\.googleapis\.com \(ENOTFOUND/);
    assert.match(message, /proxy/);
    assert.ok(message.includes(`npm install --prefix "${prefix}" @tensorflow/tfjs-node@4.22.0`), message);
    assert.match(message, /other backends \(native, wasm or cpu\)/);
  });

  test('a refused connection is blocked too, with the host from the URL the script printed', async () => {
    const { outcome } = await install('fake-tfjs-node-refused');
    assert.equal(outcome.kind, 'blocked', JSON.stringify(outcome));
    if (outcome.kind !== 'blocked') return;
    assert.equal(outcome.code, 'ECONNREFUSED');
    assert.equal(outcome.host, '127.0.0.1');
    assert.equal(outcome.what, 'libtensorflow');
  });

  test('a script that fails for another reason is a plain failure, with its last line', async () => {
    const { outcome, prefix } = await install('fake-tfjs-node-broken');
    assert.equal(outcome.kind, 'failed', JSON.stringify(outcome));
    if (outcome.kind !== 'failed') return;
    assert.notEqual(outcome.exitCode, 0);
    const message = describeInstallFailure(outcome, { pkg: '@tensorflow/tfjs-node', spec: '@tensorflow/tfjs-node@4.22.0', prefix });
    assert.match(message, /was not installed: npm exited with code/);
  });

  test('an install that completes without the native binding is a failure, not an install', async () => {
    const { outcome } = await install('fake-tfjs-node-nolib');
    assert.equal(outcome.kind, 'failed');
    if (outcome.kind === 'failed') assert.match(outcome.reason, /without its native library/);
  });

  test('an install whose script builds lib/napi-v8/tfjs_binding.node is installed', async () => {
    const { outcome, prefix } = await install('fake-tfjs-node-ok');
    assert.deepEqual(outcome, { kind: 'installed', packageDir: path.join(prefix, 'node_modules', 'fake-tfjs-node-ok') });
  });

  test('Cancel stops npm and the install script it runs', async () => {
    const controller = new AbortController();
    const started = Date.now();
    await assert.rejects(
      install('fake-tfjs-node-slow', { signal: controller.signal, onPhase: (p) => p.id === 'libtensorflow' && setTimeout(() => controller.abort(), 200) }),
      (e: unknown) => isCancelled(e),
    );
    assert.ok(Date.now() - started < 30_000);
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    assert.ok(pid > 0);
    // The script is gone (SIGTERM to npm's process group; SIGKILL after a grace period).
    const deadline = Date.now() + 6000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(alive(pid), false, `install script ${pid} still running after Cancel`);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('NpmOutputReader (lines recorded from real npm runs)', () => {
  test('a registry that cannot be reached: blocked at the registry stage, host from the error', () => {
    const r = new NpmOutputReader();
    for (const line of [
      'npm error code ENOTFOUND',
      'npm error syscall getaddrinfo',
      'npm error errno ENOTFOUND',
      'npm error network request to https://registry.npmjs.org/@tensorflow%2ftfjs-node failed, reason: getaddrinfo ENOTFOUND registry.npmjs.org',
    ]) {
      r.read(line);
    }
    assert.deepEqual(r.blocked(), { stage: 'registry', what: 'the package', code: 'ENOTFOUND', host: 'registry.npmjs.org', url: 'https://registry.npmjs.org/@tensorflow%2ftfjs-node' });
  });

  test('phases only move forward, though npm interleaves metadata and tarball fetches', () => {
    const seen: string[] = [];
    const r = new NpmOutputReader((p) => seen.push(p.id));
    for (const line of [
      'npm http fetch GET 200 https://registry.npmjs.org/@tensorflow%2ftfjs-node 151ms (cache updated)',
      'npm http cache tar@https://registry.npmjs.org/tar/-/tar-6.2.1.tgz 0ms (cache hit)',
      'npm http fetch GET 200 https://registry.npmjs.org/glob 12ms (cache updated)',
      'npm http cache rimraf@https://registry.npmjs.org/rimraf/-/rimraf-3.0.2.tgz 0ms (cache hit)',
      '> @tensorflow/tfjs-node@4.22.0 install',
      '* Downloading libtensorflow',
      '* Building TensorFlow Node.js bindings',
    ]) {
      r.read(line);
    }
    assert.deepEqual(seen, ['resolve', 'fetch', 'fetch', 'script', 'libtensorflow', 'binding']);
    assert.equal(r.blocked(), undefined);
  });
});

describe('findNpm', () => {
  test('npm-cli.js beside msif.nodePath runs on that node; else npm on PATH; else none', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'msif-npm-'));
    try {
      const bin = path.join(dir, 'node-20', 'bin');
      const cli = path.join(dir, 'node-20', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
      fs.mkdirSync(bin, { recursive: true });
      fs.mkdirSync(path.dirname(cli), { recursive: true });
      fs.writeFileSync(path.join(bin, 'node'), '');
      fs.writeFileSync(cli, '');
      const onPath = path.join(dir, 'usr', 'bin');
      fs.mkdirSync(onPath, { recursive: true });
      fs.writeFileSync(path.join(onPath, 'npm'), '');
      const nodePath = path.join(bin, 'node');
      assert.deepEqual(findNpm({ PATH: onPath }, nodePath, 'linux'), { command: nodePath, args: [path.join(bin, '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js')], pathPrefix: bin });
      assert.deepEqual(findNpm({ PATH: [path.join(dir, 'empty'), onPath].join(path.delimiter) }, undefined, 'linux'), { command: path.join(onPath, 'npm'), args: [], shell: false });
      assert.equal(findNpm({ PATH: path.join(dir, 'empty') }, path.join(dir, 'elsewhere', 'node'), 'linux'), undefined);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
