/**
 * The extension-host tier (test/extension): suites that run INSIDE VS Code's extension host
 * with the real `vscode` API, as @vscode/test-electron would run them. Here code-server runs
 * them: the workbench URL payload carries extensionTestsPath (see harness.runExtensionHostSuite
 * for the result-file contract). The suite, test/extension/suite/index.ts, is bundled by
 * `npm run build` (esbuild.mjs, 'vscode' external), which `npm run test:e2e` runs first.
 *
 * A suite that fails to build or reports nothing is a failure, never a skip.
 */
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { before, test } from 'node:test';
import { runExtensionHostSuite } from './harness';

const suite = path.resolve(__dirname, '../../dist/test/extension/suite.js');

before(() => {
  assert.ok(existsSync(suite), `${suite} is missing: run npm run build first`);
});

test('extension-host suite (test/extension) passes inside code-server', async (t) => {
  const results = await runExtensionHostSuite(suite, { name: 'extension-host' });
  assert.ok(results.length > 0, `${suite} reported no tests`);
  for (const r of results) {
    await t.test(r.name, () => {
      assert.ok(r.ok, r.error ?? 'failed');
    });
  }
});
