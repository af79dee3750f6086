/**
 * The extension as users get it: packaged with vsce (`.vscodeignore` decides what goes in),
 * installed into code-server from the VSIX, not loaded from the repository. Catches a
 * bundle, webview asset, wasm binary or icon that the allow-list leaves out, and files that
 * should not ship. Screenshots: test-results/e2e/vsix-*.png.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { E2eSession, ROOT, listPaletteCommands, runCommand, webviewFrame } from './harness';

const VSCE = path.join(ROOT, 'test/e2e/tools/node_modules/@vscode/vsce/vsce');

function vsce(args: readonly string[]): string {
  const r = spawnSync(process.execPath, [VSCE, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `vsce ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** Every `media/…` path the manifest's contributions name (icons). */
function manifestMedia(): string[] {
  const text = readFileSync(path.join(ROOT, 'package.json'), 'utf8');
  return [...new Set([...text.matchAll(/"(media\/[^"]+)"/g)].map((m) => m[1] as string))];
}

describe('the packaged extension (VSIX)', () => {
  let dir: string;
  let vsix: string;

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'msif-e2e-vsix-'));
    vsix = path.join(dir, 'msif.vsix');
    vsce(['package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '-o', vsix]);
  });

  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('holds the bundles, webview assets, wasm binaries and icons, and no source maps, CLI or test code', () => {
    const files = vsce(['ls', '--no-dependencies']).split('\n').map((l) => l.trim()).filter((l) => l !== '');
    for (const f of ['package.json', 'dist/extension.js', 'dist/worker.js', 'dist/webview/main.js', ...manifestMedia()]) {
      assert.ok(files.includes(f), `${f} is not in the VSIX; it holds ${JSON.stringify(files)}`);
    }
    assert.ok(files.some((f) => /^dist\/tfjs-backend-wasm.*\.wasm$/.test(f)), 'no tfjs wasm binary in the VSIX');
    const unwanted = files.filter((f) => /\.map$/.test(f) || f === 'dist/cli.js' || f.startsWith('dist/test/'));
    assert.deepEqual(unwanted, [], 'files .vscodeignore means to leave out');
  });

  test('installed from the VSIX, it activates and shows the misclassified test points', async () => {
    const session = await E2eSession.open({ name: 'vsix', vsix, loadExtension: false });
    try {
      const page = session.page;
      const title = await page.title();
      assert.ok(!/Extension Development Host/.test(title), `loaded as a development extension: ${title}`);
      const listed = await listPaletteCommands(page, 'MSIF:');
      assert.ok(listed.includes('MSIF: Show misclassified test points'), `palette: ${JSON.stringify(listed)}`);
      await runCommand(page, 'MSIF: Show misclassified test points');
      const frame = await webviewFrame(page, 'misclassified-panel', 180_000);
      await frame.locator('[data-testid=test-row][data-index]').first().waitFor({ timeout: 180_000 });
      await sleep(500);
      await session.screenshot('misclassified-panel');
      assert.deepEqual(await session.requestsThatLeftLoopback(), []);
    } finally {
      await session.close();
    }
  });
});
