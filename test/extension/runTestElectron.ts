/**
 * Runs the extension-host suite under @vscode/test-electron: downloads VS Code (the
 * `engines.vscode` minimum, or $VSCODE_TEST_VERSION), opens the example workspace and
 * runs `test/extension/suite`, as `npm run build` bundled it (dist/test/extension/suite.js).
 * Where VS Code cannot be downloaded (offline), it says so and exits 0: the same suite
 * runs in code-server (test/e2e) instead.
 *
 *     npm run test:electron
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { downloadAndUnzipVSCode, runTests } from '@vscode/test-electron';

const ROOT = path.resolve(__dirname, '..', '..');
/** The suite bundle that `npm run build` (esbuild.mjs) writes. */
const SUITE = path.join(ROOT, 'dist', 'test', 'extension', 'suite.js');
const SKIP_MESSAGE = 'skipped: cannot download VS Code (offline)';

async function main(): Promise<number> {
  const pkg = JSON.parse(await fs.readFile(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { vscode: string } };
  const version = process.env['VSCODE_TEST_VERSION'] ?? pkg.engines.vscode.replace(/^[^\d]*/, '');
  const workspace = process.env['MSIF_SUITE_WORKSPACE'] ?? path.join(ROOT, 'examples', 'fashion-mnist-small');
  try {
    await fs.access(path.join(workspace, 'msif.json'));
  } catch {
    console.error(`no msif.json in ${workspace}: generate the example workspace or set MSIF_SUITE_WORKSPACE`);
    return 1;
  }
  try {
    await fs.access(SUITE);
  } catch {
    console.error(`${SUITE} is missing: run npm run build first`);
    return 1;
  }

  let vscodeExecutablePath: string;
  try {
    vscodeExecutablePath = await withTimeout(downloadAndUnzipVSCode({ version, timeout: 30_000 }), 120_000);
  } catch (e) {
    console.log(`${SKIP_MESSAGE}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    return 0;
  }

  const result = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'msif-electron-')), 'ext-suite.json');
  try {
    await runTests({
      vscodeExecutablePath,
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: SUITE,
      launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
      extensionTestsEnv: { EXT_SUITE_RESULT: result, MSIF_SUITE_THROW: '1' },
    });
  } catch (e) {
    console.error(`extension-host suite failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    const checks = JSON.parse(await fs.readFile(result, 'utf8')) as { name: string; ok: boolean; error?: string; ms: number }[];
    for (const c of checks) console.log(`${c.ok ? 'ok    ' : 'FAILED'} ${c.name} (${c.ms} ms)${c.ok ? '' : `\n${c.error}`}`);
    return checks.every((c) => c.ok) ? 0 : 1;
  } catch {
    console.error('the suite wrote no result');
    return 1;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
