/**
 * "MSIF: Cleanse pretraining data" and "MSIF: Compare task similarity" as a user runs them
 * in VS Code (code-server + chromium), on a copy of examples/fashion-mnist-small whose
 * `training` block is cut to 3 + 3 full-batch epochs (every arm retrains), plus a second
 * workspace `variant/msif.json` that finetunes on the first 100 finetuning examples only.
 * - Cleanse: the palette, the percentage and scoring picks, the progress notification,
 *   the panel (arms table, bars, removed rows); its numbers equal `msif cleanse` on the
 *   same copy; a removed row opens its line from the keyboard; "Write filtered dataset…"
 *   writes the pretraining set without the removed examples.
 * - Similarity: the two workspace picks, the panel (overlaid histograms, statistics,
 *   reading), equal to `msif similarity`; the overlay toggle.
 * Screenshots: test-results/e2e/cleanse-*.png.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { CleanseReport } from '../../src/protocol/cleanseReport';
import type { SimilarityReport } from '../../src/protocol/similarityReport';
import { E2eSession, EXAMPLE_WORKSPACE, ROOT, closeAllEditors, listPaletteCommands, pickQuickPickItem, runCommand, waitForNotification, waitForSavedEditors, webviewFrame } from './harness';

const TIMEOUT_MS = 300_000;

/** Runs the built `msif` with `args`; its stdout parsed as JSON. */
function cli<T>(args: readonly string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env['MSIF_DEBUG'];
    delete env['MSIF_BACKEND'];
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/msif.js'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (status) => (status === 0 ? resolve(JSON.parse(stdout) as T) : reject(new Error(`msif ${args[0]} exited ${status}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`))));
  });
}

/** The example with short training and a second workspace that finetunes on 100 examples. */
function prepareSource(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'msif-e2e-cleanse-src-'));
  const source = path.join(dir, 'fashion-mnist-small');
  cpSync(EXAMPLE_WORKSPACE, source, { recursive: true, filter: (src) => !/report\.json$/.test(src) });
  const config = JSON.parse(readFileSync(path.join(source, 'msif.json'), 'utf8')) as Record<string, Record<string, unknown>>;
  config['training'] = { ...config['training'], pretrainEpochs: 3, finetuneEpochs: 3 };
  writeFileSync(path.join(source, 'msif.json'), JSON.stringify(config, null, 2));
  const variant = path.join(source, 'variant');
  mkdirSync(variant);
  const lines = readFileSync(path.join(source, 'data/finetune_train.jsonl'), 'utf8').split('\n').slice(0, 100);
  writeFileSync(path.join(variant, 'finetune_train.jsonl'), `${lines.join('\n')}\n`);
  const pretrain = config['pretrain'] as Record<string, string>;
  const finetune = config['finetune'] as Record<string, string>;
  const variantConfig = {
    ...config,
    pretrain: { ...pretrain, model: '../pretrain/model.json', train: '../data/pretrain.jsonl' },
    finetune: { ...finetune, model: '../finetune/model.json', train: 'finetune_train.jsonl', test: '../data/finetune_test.jsonl' },
  };
  writeFileSync(path.join(variant, 'msif.json'), JSON.stringify(variantConfig, null, 2));
  return source;
}

/** Waits until the open quick input (the save dialog's path) matches `pattern`, then accepts it; its value. */
async function acceptQuickInput(page: Page, pattern: RegExp): Promise<string> {
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 30_000 });
  let value = await input.inputValue();
  // The dialog shows the folder first, then the default file name.
  for (let i = 0; i < 40 && !pattern.test(value); i++) {
    await new Promise((r) => setTimeout(r, 250));
    value = await input.inputValue();
  }
  assert.match(value, pattern);
  await page.keyboard.press('Enter');
  return value;
}

describe('Cleanse pretraining data and Compare task similarity in VS Code', () => {
  let source: string;
  let session: E2eSession;
  let page: Page;
  let config: string;
  let variant: string;

  before(async () => {
    source = prepareSource();
    session = await E2eSession.open({ name: 'cleanse', workspaceFrom: source });
    page = session.page;
    config = path.join(session.workspace, 'msif.json');
    variant = path.join(session.workspace, 'variant', 'msif.json');
    // Right after start-up the palette may not list the extension's commands yet.
    assert.deepEqual(await listPaletteCommands(page, 'MSIF: Cleanse', 60_000), ['MSIF: Cleanse pretraining data']);
  });

  after(async () => {
    await session?.close();
    if (source) rmSync(path.dirname(source), { recursive: true, force: true });
  });

  test('palette → 5% → held-out → progress → the arms panel, equal to msif cleanse', async () => {
    await runCommand(page, 'MSIF: Cleanse pretraining data');
    await pickQuickPickItem(page, 'msif.json', 60_000); // two configs: the first is fashion-mnist-small's
    await pickQuickPickItem(page, '5%');
    await pickQuickPickItem(page, 'Held-out split');
    await waitForNotification(page, /Cleansing 5% of the pretraining data/, { timeoutMs: 60_000 });
    await session.screenshot('progress');

    const frame = await webviewFrame(page, 'cleanse-panel', TIMEOUT_MS);
    const table = frame.locator('[data-testid=arms-table]');
    await table.waitFor({ timeout: TIMEOUT_MS });
    await frame.locator('[data-testid=example-row]').first().waitFor({ timeout: 30_000 });
    await session.screenshot('panel');

    const arms = await table.locator('tbody tr').evaluateAll((els) => els.map((el) => ({ kind: el.getAttribute('data-kind'), loss: el.getAttribute('data-loss-change') })));
    assert.deepEqual(arms.map((a) => a.kind), ['baseline', 'cleansed', 'random', 'random', 'random', 'random-mean']);
    const rows = await frame.locator('[data-testid=removed-list] [data-testid=example-row]').evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-index'))));
    assert.equal(rows.length, 25, 'the first 25 of the 100 removed examples');
    assert.ok(await frame.locator('[data-testid=loss-bars]').isVisible());

    const report = await cli<CleanseReport>(['cleanse', '--config', config, '--percent', '5']);
    assert.equal(report.removedCount, 100);
    assert.deepEqual(rows, report.removed.slice(0, 25).map((e) => e.index));
    assert.equal(arms[1]?.loss, String(report.arms.cleansed.change.loss));
    assert.deepEqual(arms.slice(2, 5).map((a) => a.loss), report.arms.random.map((a) => String(a.change.loss)));

    // Keyboard: the first removed row opens its line in the pretraining dataset.
    await frame.locator('[data-testid=removed-list] [data-testid=example-row]').first().focus();
    await page.keyboard.press('Enter');
    await page.locator('.tab.active', { hasText: 'pretrain.jsonl' }).waitFor({ timeout: 30_000 });
  });

  test('Write filtered dataset… writes the pretraining set without the removed examples', async () => {
    const frame = await webviewFrame(page, 'cleanse-panel', 60_000);
    await frame.locator('[data-testid=write-filtered]').click();
    const target = await acceptQuickInput(page, /data\/pretrain\.cleansed\.jsonl$/);
    assert.equal(target, path.join(session.workspace, 'data', 'pretrain.cleansed.jsonl'));
    await waitForNotification(page, /wrote 1900 pretraining examples to pretrain\.cleansed\.jsonl \(100 left out\)/, { timeoutMs: 60_000 });
    const written = path.join(session.workspace, 'data', 'pretrain.cleansed.jsonl');
    assert.ok(existsSync(written));
    const kept = readFileSync(written, 'utf8').trimEnd().split('\n');
    assert.equal(kept.length, 1900);
    // Byte for byte: the original lines, in order, without the removed ones.
    const original = readFileSync(path.join(session.workspace, 'data', 'pretrain.jsonl'), 'utf8').trimEnd().split('\n');
    const report = await cli<CleanseReport>(['cleanse', '--config', config, '--percent', '5']);
    const removed = new Set(report.arms.cleansed.removed);
    assert.deepEqual(kept, original.filter((_, i) => !removed.has(i)));
    await session.screenshot('written');
  });

  test('Compare task similarity: two workspaces, overlaid histograms and the reading, equal to msif similarity', async () => {
    await closeAllEditors(page);
    await runCommand(page, 'MSIF: Compare task similarity');
    await pickQuickPickItem(page, 'msif.json', 60_000);
    await pickQuickPickItem(page, 'variant/msif.json');
    await pickQuickPickItem(page, 'All test points');
    const frame = await webviewFrame(page, 'similarity-panel', TIMEOUT_MS);
    const reading = frame.locator('[data-testid=similarity-reading]');
    await reading.waitFor({ timeout: TIMEOUT_MS });
    await session.screenshot('similarity');
    const text = await reading.innerText();
    assert.match(text, /§4\.4: a larger finetuning set gives smaller influence magnitudes; A finetunes on 500 examples and B on 100/);
    const overlay = frame.locator('[data-testid=similarity-histogram]');
    assert.equal(await overlay.locator('polyline.series-0').count() > 0 && (await overlay.locator('polyline.series-1').count()) > 0, true);
    const report = await cli<SimilarityReport>(['similarity', '--config', config, '--other', variant]);
    assert.equal(await reading.getAttribute('data-ratio'), String(report.ratio.meanAbs));
    const stats = await frame.locator('[data-testid=similarity-stats] tbody tr').first().innerText();
    assert.match(stats, new RegExp(`mean \\|I\\|\\s+${report.a.perTestPoint.meanAbs.toExponential(3).replace('+', '\\+')}`));

    // The overlay toggle draws the two sides next to each other.
    await frame.locator('vscode-checkbox').first().click();
    await frame.locator('[data-testid=similarity-histogram-a]').waitFor({ timeout: 10_000 });
    assert.ok(await frame.locator('[data-testid=similarity-histogram-b]').isVisible());
    await session.screenshot('similarity-side-by-side');
  });

  test('the similarity panel comes back after a window reload, from its saved state', async () => {
    const frame = await webviewFrame(page, 'similarity-panel', 60_000);
    const ratio = await frame.locator('[data-testid=similarity-reading]').getAttribute('data-ratio');
    // The workbench saves the open editors (and the webview's state) every few seconds.
    await waitForSavedEditors(page, [new RegExp(`kind\\\\*"\\s*:\\s*\\\\*"similarity\\\\*"`)]);
    await session.reload();
    const revived = await webviewFrame(page, 'similarity-panel', 120_000);
    const reading = revived.locator('[data-testid=similarity-reading]');
    await reading.waitFor({ timeout: 60_000 });
    assert.equal(await reading.getAttribute('data-ratio'), ratio);
    let log = '';
    for (let i = 0; i < 40 && !/restored similarity panel/.test(log); i++) {
      log = session.outputChannelLog();
      if (!/restored similarity panel/.test(log)) await new Promise((r) => setTimeout(r, 250));
    }
    assert.match(log, /restored similarity panel for .*msif\.json/);
    await session.screenshot('similarity-after-reload');
  });
});
