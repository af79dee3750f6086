/**
 * Extension-host suite: runs INSIDE VS Code (code-server's extension host, or
 * @vscode/test-electron) with the real `vscode` API, as `extensionTestsPath`. No mocha:
 * `run()` records each check and writes them as JSON to `$MSIF_E2E_SUITE_RESULT` (or
 * `$EXT_SUITE_RESULT`; default `<tmpdir>/msif-ext-suite.json`): `[{name, ok, error?, ms}]`. With `MSIF_SUITE_THROW=1`
 * it also rejects when a check failed (test-electron turns that into a failing exit code).
 *
 * Expects a workspace holding an msif.json (examples/fashion-mnist-small preferred; or
 * `$MSIF_SUITE_CONFIG`) and the extension built (`npm run build`). It runs one trace in
 * the worker and the same trace with the CLI: about a minute on the example.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { recordRanges } from '../../../src/common/lineRanges';
import { parseWorkspaceConfig } from '../../../src/common/workspaceConfig';
import type { WorkspaceConfig } from '../../../src/common/workspaceConfig';
import type { TraceReport } from '../../../src/protocol/report';
import type { ValidateReport } from '../../../src/protocol/validateReport';

const EXTENSION_ID = 'msif.msif';
const COMMANDS = [
  'msif.traceToPretraining',
  'msif.compareCases',
  'msif.showMisclassified',
  'msif.validateInfluence',
  'msif.restartWorker',
  'msif.showLog',
  'msif.selectConfig',
];
const TEST_INDEX = '3';

interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly error?: string;
  readonly ms: number;
}

async function findConfig(): Promise<string> {
  const fromEnv = process.env['MSIF_SUITE_CONFIG'];
  if (fromEnv) return path.resolve(fromEnv);
  const found = await vscode.workspace.findFiles('**/msif.json', '**/node_modules/**');
  assert.ok(found.length > 0, 'no msif.json in the workspace');
  const paths = found.map((u) => u.fsPath).sort();
  return paths.find((p) => p.includes(`fashion-mnist-small${path.sep}`)) ?? (paths[0] as string);
}

function lensTitles(lenses: vscode.CodeLens[] | undefined): string[] {
  return (lenses ?? []).map((l) => l.command?.title ?? '');
}

async function runCli(extensionPath: string, configPath: string, top: number): Promise<TraceReport> {
  const out = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'msif-suite-')), 'report.json');
  const cli = path.join(extensionPath, 'bin', 'msif.js');
  await promisify(execFile)(process.execPath, [cli, 'trace', '--config', configPath, '--test', TEST_INDEX, '--top', String(top), '--out', out], {
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 10 * 60 * 1000,
  });
  return JSON.parse(await fs.readFile(out, 'utf8')) as TraceReport;
}

export async function run(): Promise<void> {
  const results: CheckResult[] = [];
  const check = async (name: string, fn: () => Promise<void>): Promise<void> => {
    const started = Date.now();
    try {
      await fn();
      results.push({ name, ok: true, ms: Date.now() - started });
    } catch (e) {
      results.push({ name, ok: false, error: String((e instanceof Error && e.stack) || e), ms: Date.now() - started });
    }
  };

  let ext: vscode.Extension<unknown> | undefined;
  let configPath = '';
  let config: WorkspaceConfig | undefined;
  let report: TraceReport | undefined;

  await check('the extension activates on a workspace with msif.json', async () => {
    ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} not found`);
    await ext.activate();
    assert.ok(ext.isActive);
  });

  await check('every MSIF command is registered', async () => {
    const all = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(COMMANDS.filter((c) => !all.has(c)), []);
  });

  await check('the workspace config parses', async () => {
    configPath = await findConfig();
    config = parseWorkspaceConfig(await fs.readFile(configPath, 'utf8'), configPath);
    assert.equal(config.finetune.test.format, 'jsonl', 'the suite needs a JSON Lines test dataset');
  });

  await check('CodeLens on the test dataset: "Trace to pretraining data" on each record', async () => {
    assert.ok(config && config.finetune.test.format === 'jsonl');
    const uri = vscode.Uri.file(config.finetune.test.path);
    const document = await vscode.workspace.openTextDocument(uri);
    const ranges = recordRanges(document.getText());
    let lenses: vscode.CodeLens[] | undefined;
    // The provider may need a moment after activation (workspace scan).
    for (let i = 0; i < 40; i++) {
      lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
      if (lensTitles(lenses).includes('Trace to pretraining data')) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const traceLenses = (lenses ?? []).filter((l) => l.command?.title === 'Trace to pretraining data');
    assert.equal(traceLenses.length, Math.min(ranges.length, 2000));
    const first = traceLenses.sort((a, b) => a.range.start.line - b.range.start.line)[0];
    assert.equal(first?.range.start.line, (ranges[0]?.line ?? 1) - 1);
    assert.equal(first?.command?.command, 'msif.traceToPretraining');
    assert.deepEqual(first?.command?.arguments, [{ config: configPath, test: '0' }]);
  });

  await check('CodeLens on msif.json: "Trace misclassified" and "Compare cases"', async () => {
    const uri = vscode.Uri.file(configPath);
    await vscode.workspace.openTextDocument(uri); // the command needs a loaded model
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
    assert.deepEqual(lensTitles(lenses), ['Trace misclassified', 'Compare cases']);
    assert.ok((lenses ?? []).every((l) => l.range.start.line === 0));
  });

  await check(`msif.traceToPretraining {config, test: '${TEST_INDEX}'} equals msif trace --test ${TEST_INDEX}`, async () => {
    assert.ok(ext);
    report = await vscode.commands.executeCommand<TraceReport | undefined>('msif.traceToPretraining', { config: configPath, test: TEST_INDEX, rethrow: true });
    assert.ok(report, 'the command returned no report');
    assert.deepEqual(report.test.map((t) => t.index), [Number(TEST_INDEX)]);
    const top = vscode.workspace.getConfiguration('msif').get<number>('topK') ?? 10;
    const cli = await runCli(ext.extensionPath, configPath, top);
    assert.equal(report.scores.length, cli.scores.length);
    const differing = report.scores.flatMap((s, i) => (s === cli.scores[i] ? [] : [i]));
    if (differing.length > 0) {
      const worst = Math.max(...differing.map((i) => Math.abs((report!.scores[i] as number) - (cli.scores[i] as number)) / Math.max(1, Math.abs(cli.scores[i] as number))));
      assert.fail(`${differing.length} of ${cli.scores.length} scores differ (first at ${differing[0]}; largest relative difference ${worst})`);
    }
    assert.deepEqual(report.harmful.map((r) => [r.index, r.score]), cli.harmful.map((r) => [r.index, r.score]));
    assert.deepEqual(report.helpful.map((r) => [r.index, r.score]), cli.helpful.map((r) => [r.index, r.score]));
  });

  await check('the same trace again comes from the cache', async () => {
    assert.ok(report);
    const started = Date.now();
    const again = await vscode.commands.executeCommand<TraceReport | undefined>('msif.traceToPretraining', { config: configPath, test: TEST_INDEX, rethrow: true });
    assert.ok(again);
    assert.deepEqual(again.scores, report.scores);
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  });

  await check('CodeLens on the pretraining dataset shows "Influence <score> · rank r/m" after the trace', async () => {
    assert.ok(report && config && config.pretrain.train.format === 'jsonl');
    const uri = vscode.Uri.file(config.pretrain.train.path);
    await vscode.workspace.openTextDocument(uri);
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 3);
    const titles = lensTitles(lenses).filter((t) => t.startsWith('Influence'));
    assert.ok(titles.length >= 1, `no influence lens (${lensTitles(lenses).slice(0, 3).join(' | ')})`);
    const s0 = report.scores[0] as number;
    const rank0 = 1 + report.scores.filter((s, i) => s > s0 || (s === s0 && i < 0)).length;
    assert.equal(titles[0], `Influence ${s0.toPrecision(3)} · rank ${rank0}/${report.scores.length}`);
  });

  await check('"Validate influence" runs the leave-one-out check in the worker, then answers from the cache', async () => {
    assert.ok(configPath);
    // Two examples, retraining capped at 3 steps per stage: the pipeline, not the numbers.
    const args = { config: configPath, test: TEST_INDEX, sample: 2, retrain: { maxIterations: 3 }, rethrow: true };
    const first = await vscode.commands.executeCommand<ValidateReport | undefined>('msif.validateInfluence', args);
    assert.ok(first, 'a report');
    assert.equal(first.kind, 'validate');
    assert.deepEqual(first.rows.map((r) => r.sample), ['top', 'random']);
    assert.ok(first.rows.every((r) => Number.isFinite(r.actual) && Number.isFinite(r.predicted)));
    const started = Date.now();
    const again = await vscode.commands.executeCommand<ValidateReport | undefined>('msif.validateInfluence', args);
    assert.deepEqual(again?.rows, first.rows);
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  });

  const file = process.env['MSIF_E2E_SUITE_RESULT'] ?? process.env['EXT_SUITE_RESULT'] ?? path.join(os.tmpdir(), 'msif-ext-suite.json');
  // Written whole, then renamed: a reader polling for the file never sees half of it.
  await fs.writeFile(`${file}.tmp`, JSON.stringify(results, null, 2));
  await fs.rename(`${file}.tmp`, file);
  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0 && process.env['MSIF_SUITE_THROW'] === '1') {
    throw new Error(`${failed.length} MSIF extension check(s) failed: ${failed.map((f) => f.name).join('; ')}\n${failed.map((f) => f.error).join('\n')}`);
  }
}
