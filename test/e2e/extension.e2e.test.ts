/**
 * The user's view of MSIF in a real VS Code (code-server), driven through chromium: the
 * command palette, the trace / misclassified / compare webview panels, the "Influential
 * examples" tree, CodeLenses, notifications, and a worker crash. The traces run on a copy of
 * examples/fashion-mnist-small and are checked against the `msif` CLI on the same copy.
 *
 * The tests share one session and run in order: the tree and CodeLens tests look at the
 * trace made by the first trace test, and the worker-crash test edits msif.json (of the copy)
 * and so runs last. Screenshots: test-results/e2e/ui-*.png.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { FrameLocator, Page } from 'playwright-core';
import type { RankedExample, TraceReport } from '../../src/protocol/report';
import { influenceLensTitle } from '../../src/host/codelens/lensPlan';
import {
  E2eSession, ROOT, closeAllEditors, goToLine, listPaletteCommands, notificationTexts, openFile,
  pickQuickPickItem, quickPickShown, runCommand, visibleCodeLenses, waitForNotification,
  webviewFrame, workerProcesses,
} from './harness';

const COMMANDS = {
  trace: 'MSIF: Trace to pretraining data',
  compare: 'MSIF: Compare Case 1 and Case 2',
  misclassified: 'MSIF: Show misclassified test points',
  validate: 'MSIF: Validate influence (leave-one-out)',
  restartWorker: 'MSIF: Restart worker',
  showLog: 'MSIF: Show log',
  selectConfig: 'MSIF: Select workspace config (msif.json)',
} as const;

/** Generous: a trace of the example takes about 10 s on 2 cores, plus worker start-up. */
const TRACE_TIMEOUT_MS = 180_000;

interface CliRun {
  readonly report: TraceReport;
  readonly seconds: number;
}

/** Runs `msif trace --config <workspace copy>/msif.json ...args` and parses its report. */
function cliTrace(config: string, args: readonly string[]): Promise<CliRun> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env['MSIF_DEBUG'];
    delete env['MSIF_BACKEND'];
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/msif.js'), 'trace', '--config', config, ...args],
      { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (status) => {
      if (status !== 0) {
        reject(new Error(`msif trace ${args.join(' ')} exited ${status}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
        return;
      }
      resolve({ report: JSON.parse(stdout) as TraceReport, seconds: (Date.now() - t0) / 1000 });
    });
  });
}

interface PanelRow {
  readonly index: number;
  readonly score: string;
}

/** The `[data-testid=example-row]` rows of one list of the trace panel, in display order. */
async function panelRows(frame: FrameLocator, list: 'harmful-list' | 'helpful-list'): Promise<PanelRow[]> {
  const rows = frame.locator(`[data-testid=${list}] [data-testid=example-row]`);
  return rows.evaluateAll((els) => els.map((el) => ({
    index: Number(el.getAttribute('data-index')),
    score: el.getAttribute('data-score') ?? '',
  })));
}

/** What the panel must show for a report's list: index and String(score). */
function expectedRows(examples: readonly RankedExample[]): PanelRow[] {
  return examples.map((e) => ({ index: e.index, score: String(e.score) }));
}

/** Waits until the trace panel shows rows in both lists, and the row count has settled. */
async function waitForTraceRows(page: Page): Promise<FrameLocator> {
  const frame = await webviewFrame(page, 'trace-panel', TRACE_TIMEOUT_MS);
  const error = frame.locator('[data-testid=panel-error]');
  const firstRow = frame.locator('[data-testid=harmful-list] [data-testid=example-row]').first();
  await Promise.race([
    firstRow.waitFor({ timeout: TRACE_TIMEOUT_MS }),
    error.waitFor({ timeout: TRACE_TIMEOUT_MS }).then(async () => {
      throw new Error(`the trace panel shows an error: ${await error.innerText()}`);
    }),
  ]);
  let count = -1;
  for (let i = 0; i < 20; i++) {
    const n = await frame.locator('[data-testid=example-row]').count();
    if (n === count) break;
    count = n;
    await sleep(250);
  }
  return frame;
}

/** Answers a quick pick if one comes up (e.g. which test point), preferring an item containing `prefer`. */
async function answerOptionalQuickPick(page: Page, prefer: string): Promise<void> {
  if (!(await quickPickShown(page, 3_000))) return;
  try {
    await pickQuickPickItem(page, prefer, 5_000);
  } catch {
    await page.keyboard.press('Enter'); // the first item
  }
}

/** A dataset field of msif.json that must be a JSON Lines path for the CodeLens tests. */
function jsonlPath(config: Record<string, unknown>, stage: 'pretrain' | 'finetune', field: 'train' | 'test'): string {
  const value = (config[stage] as Record<string, unknown> | undefined)?.[field];
  assert.ok(typeof value === 'string' && value.endsWith('.jsonl'),
    `the CodeLens tests need ${stage}.${field} of the example's msif.json to be a .jsonl path (it is ${JSON.stringify(value)})`);
  return value;
}

describe('MSIF in VS Code (code-server + chromium)', () => {
  let session: E2eSession;
  let page: Page;
  let config: string;
  let msifJson: Record<string, unknown>;
  /** `msif trace --test misclassified`: which test points are misclassified (report.test). */
  let misclassifiedRun: Promise<CliRun>;
  /** The first misclassified test point: what test (a) picks in the quick pick. */
  let firstMisclassified: TraceReport['test'][number];
  /** The CLI's report for that point, with --top K = the panel's row count (set by test a). */
  let reference: TraceReport | undefined;

  before(async () => {
    session = await E2eSession.open({ name: 'ui' });
    page = session.page;
    config = path.join(session.workspace, 'msif.json');
    msifJson = JSON.parse(readFileSync(config, 'utf8')) as Record<string, unknown>;
    // Starts now, beside the workbench; awaited where needed.
    misclassifiedRun = cliTrace(config, ['--test', 'misclassified', '--top', '1']);
    void misclassifiedRun.catch(() => undefined); // awaited by the tests; no unhandled rejection meanwhile
    await session.screenshot('01-workbench');
  });

  after(async () => {
    await session?.close();
  });

  test('the command palette lists every MSIF command', async () => {
    const listed = await listPaletteCommands(page, 'MSIF:');
    for (const title of Object.values(COMMANDS)) assert.ok(listed.includes(title), `"${title}" missing; listed: ${JSON.stringify(listed)}`);
  });

  test('(a) "Trace to pretraining data" on the first misclassified test point matches the CLI', async () => {
    const { report: misclassified } = await misclassifiedRun;
    assert.ok(misclassified.test.length > 0, 'the example has no misclassified test point');
    firstMisclassified = misclassified.test[0] as TraceReport['test'][number];

    await runCommand(page, COMMANDS.trace);
    await quickPickShown(page, 15_000);
    await session.screenshot('a1-quick-pick');
    // Items "#<index> <id>" are listed once the extension has found the misclassified points.
    await pickQuickPickItem(page, firstMisclassified.id, TRACE_TIMEOUT_MS);
    const frame = await waitForTraceRows(page);
    await frame.locator('[data-testid=score-histogram]').waitFor();
    await frame.locator('[data-testid=solver-diagnostics]').waitFor();
    await session.screenshot('a2-trace-panel');

    const harmful = await panelRows(frame, 'harmful-list');
    const helpful = await panelRows(frame, 'helpful-list');
    assert.ok(harmful.length > 0 && helpful.length > 0, `rows: ${harmful.length} harmful, ${helpful.length} helpful`);
    const k = Math.max(harmful.length, helpful.length);
    const cli = await cliTrace(config, ['--test', String(firstMisclassified.index), '--top', String(k)]);
    reference = cli.report;
    assert.deepEqual(reference.test.map((t) => t.index), [firstMisclassified.index]);
    assert.deepEqual(harmful, expectedRows(reference.harmful).slice(0, harmful.length), 'harmful list vs msif trace');
    assert.deepEqual(helpful, expectedRows(reference.helpful).slice(0, helpful.length), 'helpful list vs msif trace');
    assert.equal(harmful.length, reference.harmful.length, 'harmful list length vs --top K');
    assert.equal(helpful.length, reference.helpful.length, 'helpful list length vs --top K');
  });

  test('(b) the "Influential examples" tree shows config → test point → Harmful/Helpful → examples', async () => {
    assert.ok(reference, 'needs the trace of test (a)');
    await page.locator('.part.activitybar').getByRole('tab', { name: 'MSIF' }).click();
    const sidebar = page.locator('.part.sidebar');
    // A container's only view has its header hidden: look for it in the DOM, not on screen.
    await sidebar.locator('.pane-header[aria-label^="Influential examples"]').waitFor({ state: 'attached', timeout: 15_000 });
    const items = sidebar.locator('[role=treeitem]');
    /** Expands the first item at `level` (1 = top) whose text contains `name` (any, if undefined). */
    const expand = async (name: string | RegExp | undefined, level: number): Promise<void> => {
      const atLevel = sidebar.locator(`[role=treeitem][aria-level="${level}"]`);
      const item = (name === undefined ? atLevel : atLevel.filter({ hasText: name })).first();
      await item.waitFor({ timeout: 30_000 });
      if ((await item.getAttribute('aria-expanded')) === 'false') await item.click();
      await sidebar.locator(`[role=treeitem][aria-level="${level + 1}"]`).first().waitFor({ timeout: 15_000 });
    };
    await expand(undefined, 1); // the workspace config
    await expand(firstMisclassified.id, 2);
    await items.filter({ hasText: 'Helpful' }).and(sidebar.locator('[aria-level="3"]')).first().waitFor();
    await expand('Harmful', 3);
    const top = reference.harmful[0] as RankedExample;
    await items.filter({ hasText: top.id }).and(sidebar.locator('[aria-level="4"]')).first().waitFor({ timeout: 15_000 });
    await session.screenshot('b-tree');
  });

  test('(c) CodeLenses: influence on the pretraining file, "Trace to pretraining data" on the test file, actions on msif.json', async () => {
    assert.ok(reference, 'needs the trace of test (a)');
    await closeAllEditors(page);
    await page.locator('.part.activitybar').getByRole('tab', { name: /^Explorer/ }).click();

    await openFile(page, jsonlPath(msifJson, 'pretrain', 'train'));
    const top = reference.harmful[0] as RankedExample;
    assert.ok(top.line, 'the report gives the line of the top harmful example');
    await goToLine(page, top.line);
    const expected = influenceLensTitle(top.score, 1, reference.pretrainCount);
    await page.locator('.monaco-editor .codelens-decoration', { hasText: expected }).first()
      .waitFor({ timeout: 30_000 })
      .catch(async () => assert.fail(`no lens "${expected}"; visible: ${JSON.stringify(await visibleCodeLenses(page))}`));
    const lenses = await visibleCodeLenses(page);
    assert.ok(lenses.every((t) => /^Influence \S+ · rank \d+\/\d+$/.test(t)), `unexpected lens titles: ${JSON.stringify(lenses)}`);
    await session.screenshot('c1-pretrain-lenses');

    await openFile(page, jsonlPath(msifJson, 'finetune', 'test'));
    await page.locator('.monaco-editor .codelens-decoration', { hasText: 'Trace to pretraining data' }).first().waitFor({ timeout: 30_000 });
    await session.screenshot('c2-test-file-lenses');

    await openFile(page, 'msif.json');
    await page.locator('.monaco-editor .codelens-decoration', { hasText: 'Trace misclassified' }).first().waitFor({ timeout: 30_000 });
    await page.locator('.monaco-editor .codelens-decoration', { hasText: 'Compare cases' }).first().waitFor();
    await session.screenshot('c3-config-lenses');
    await closeAllEditors(page);
  });

  test('(d) "Compare Case 1 and Case 2" shows the scatter plot and a Spearman correlation', async () => {
    await runCommand(page, COMMANDS.compare);
    await answerOptionalQuickPick(page, firstMisclassified?.id ?? 'misclassified');
    const frame = await webviewFrame(page, 'compare-panel', TRACE_TIMEOUT_MS * 2);
    const spearman = frame.locator('[data-testid=spearman]');
    await frame.locator('[data-testid=compare-scatter]').waitFor({ timeout: TRACE_TIMEOUT_MS * 2 });
    await frame.locator('[data-testid=topk-overlap]').waitFor();
    // The value arrives with the result; before it the element may hold a placeholder.
    let value = Number.NaN;
    for (let i = 0; i < 4 * 240 && !Number.isFinite(value); i++) {
      const m = /-?\d+(?:\.\d+)?(?:e[-+]?\d+)?/i.exec(await spearman.innerText());
      value = m ? Number(m[0]) : Number.NaN;
      if (!Number.isFinite(value)) await sleep(250);
    }
    await session.screenshot('d-compare-panel');
    assert.ok(Number.isFinite(value) && value >= -1 && value <= 1, `Spearman: ${await spearman.innerText()}`);
  });

  test('(e) "Show misclassified test points" lists exactly the misclassified test points', async () => {
    const { report: misclassified } = await misclassifiedRun;
    await runCommand(page, COMMANDS.misclassified);
    await answerOptionalQuickPick(page, 'msif.json');
    const frame = await webviewFrame(page, 'misclassified-panel', TRACE_TIMEOUT_MS);
    const rows = frame.locator('[data-testid=test-row][data-index]');
    await rows.first().waitFor({ timeout: TRACE_TIMEOUT_MS });
    await sleep(500);
    const shown = await rows.evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-index'))));
    await session.screenshot('e-misclassified-panel');
    assert.deepEqual([...shown].sort((x, y) => x - y), misclassified.test.map((t) => t.index).sort((x, y) => x - y));
  });

  test('(g) "Validate influence (leave-one-out)" asks which test points, then how many examples', async () => {
    // The full run and its panel: validate.e2e.test.ts. Here only the questions, then Escape.
    await runCommand(page, COMMANDS.validate);
    // One msif.json in this workspace: the first question is the test selection.
    await pickQuickPickItem(page, 'All test points', 60_000);
    // The input box for N (it reuses the quick pick's widget: wait for its prompt).
    const box = page.locator('.quick-input-widget').filter({ hasText: 'How many pretraining examples' });
    await box.waitFor({ state: 'visible', timeout: 30_000 });
    assert.equal(await box.locator('input').first().inputValue(), '20');
    await session.screenshot('g-validate');
    await page.keyboard.press('Escape');
  });

  test('"Show log" opens the MSIF output channel', async () => {
    await runCommand(page, COMMANDS.showLog);
    // The Output view's channel picker (a <select>) shows the channel on display.
    const pickers = page.locator('.part.panel select.monaco-select-box');
    let selected: string[] = [];
    for (let i = 0; i < 60 && !selected.some((t) => /^MSIF/.test(t)); i++) {
      selected = await pickers.evaluateAll((els) => els.map((el) => {
        const select = el as unknown as { selectedIndex: number; options: ArrayLike<{ textContent: string | null }> };
        return select.options[select.selectedIndex]?.textContent?.trim() ?? '';
      }));
      if (!selected.some((t) => /^MSIF/.test(t))) await sleep(250);
    }
    await session.screenshot('log');
    assert.ok(selected.some((t) => /^MSIF/.test(t)), `output channel shown: ${JSON.stringify(selected)}`);
  });

  test('(f) killing the worker during a trace: an error naming the worker, then the next trace succeeds', async () => {
    assert.ok(reference, 'needs the trace of test (a)');
    const original = readFileSync(config, 'utf8');
    // A slow trace: CG on the pretraining Hessian with a tolerance it cannot reach.
    const slow = JSON.parse(original) as { influence?: Record<string, unknown> };
    slow.influence = { ...slow.influence, solver: 'cg', cgIterations: 100_000, cgTolerance: 1e-30 };
    writeFileSync(config, JSON.stringify(slow, null, 2));
    try {
      await closeAllEditors(page);
      await runCommand(page, COMMANDS.trace);
      await pickQuickPickItem(page, 'All test points');
      // The worker is up and the trace is under way once a progress message shows.
      const deadline = Date.now() + 60_000;
      while (workerProcesses(session).length === 0 && Date.now() < deadline) await sleep(200);
      const workers = workerProcesses(session);
      assert.ok(workers.length > 0, 'no dist/worker.js process under code-server');
      await sleep(3000);
      await session.screenshot('f1-trace-running');
      for (const w of workers) process.kill(w.pid, 'SIGKILL');
      const toast = await waitForNotification(page, /worker/i, { severity: 'error', timeoutMs: 60_000 });
      await session.screenshot('f2-worker-error');
      assert.match(await toast.innerText(), /worker/i);
      for (const w of workers) assert.ok(!workerProcesses(session).some((p) => p.pid === w.pid), `worker ${w.pid} still alive`);
    } finally {
      writeFileSync(config, original);
    }

    // Another test point than test (a)'s, so that no cached result can stand in for the worker.
    const { report: misclassified } = await misclassifiedRun;
    const next = misclassified.test[1] ?? firstMisclassified;
    await closeAllEditors(page);
    await runCommand(page, COMMANDS.trace);
    await pickQuickPickItem(page, next.id, TRACE_TIMEOUT_MS);
    const frame = await waitForTraceRows(page);
    await session.screenshot('f3-next-trace');
    const harmful = await panelRows(frame, 'harmful-list');
    const cli = await cliTrace(config, ['--test', String(next.index), '--top', String(harmful.length)]);
    assert.deepEqual(harmful, expectedRows(cli.report.harmful), 'the trace after the crash vs msif trace');
    assert.ok(workerProcesses(session).length > 0, 'a new worker runs');
    const errors = (await notificationTexts(page)).filter((t) => /error|failed/i.test(t) && !/worker/i.test(t));
    assert.deepEqual(errors, [], 'no further error notification');
  });

  test('(h) the Settings editor lists MSIF\'s settings: backend, Node path, top-K, damping and CG overrides', async () => {
    await runCommand(page, 'Preferences: Open Settings (UI)');
    const editor = page.locator('.settings-editor');
    await editor.waitFor({ timeout: 30_000 });
    // The search box has the focus when the editor opens. The list is virtualised (only rows in
    // view exist), so each setting is looked up by its id; the screenshot shows the first ones.
    const body = editor.locator('.settings-body');
    const wanted: [string, string][] = [
      ['msif.backend', 'Backend'],
      ['msif.topK', 'Top K'],
      ['msif.pretrainDamping', 'Pretrain Damping'],
      ['msif.finetuneDamping', 'Finetune Damping'],
      ['msif.cgIterations', 'Cg Iterations'],
    ];
    const search = editor.locator('.settings-header .monaco-editor').first();
    const query = async (q: string): Promise<void> => {
      await search.click();
      await page.keyboard.press('Control+A');
      await page.keyboard.press('Backspace');
      await page.keyboard.type(q);
    };
    for (const [id, title] of wanted) {
      await query(id);
      let text = '';
      for (let i = 0; i < 40 && !text.includes(`Msif: ${title}`); i++) {
        await sleep(250);
        text = (await body.innerText().catch(() => '')) ?? '';
      }
      assert.ok(text.includes(`Msif: ${title}`), `searching the Settings editor for ${id} shows "Msif: ${title}" (it showed: ${text.slice(0, 300)})`);
    }
    // msif.nodePath is machine-overridable: code-server (a remote window) lists it under the
    // Remote and Workspace tabs, not under User.
    await editor.locator('.settings-tabs-widget .action-label').filter({ hasText: /^Workspace$/ }).first().click();
    await query('msif.nodePath');
    let nodePathText = '';
    for (let i = 0; i < 40 && !nodePathText.includes('Msif: Node Path'); i++) {
      await sleep(250);
      nodePathText = (await body.innerText().catch(() => '')) ?? '';
    }
    await session.screenshot('h-settings-node-path');
    assert.ok(nodePathText.includes('Msif: Node Path'), `the Workspace tab shows "Msif: Node Path" (it showed: ${nodePathText.slice(0, 300)})`);
    await editor.locator('.settings-tabs-widget .action-label').filter({ hasText: /^User$/ }).first().click();
    await query('@ext:msif.msif');
    await sleep(1000);
    await session.screenshot('h-settings');
    await page.keyboard.press('Escape');
  });

  test('no request left 127.0.0.1', async () => {
    assert.deepEqual(await session.requestsThatLeftLoopback(), []);
  });
});
