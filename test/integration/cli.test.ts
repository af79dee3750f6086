/**
 * The built `msif` command (`node bin/msif.js`, contract §4) as a user runs it: exit
 * statuses, one-line errors on stderr, and `--out` written only on success. Needs
 * `npm run build` first (the `test` script does it).
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { version } from '../../package.json';
import type { TraceReport } from '../../src/protocol/report';
import { createTinyWorkspace, QUICK_INFLUENCE } from '../unit/worker/tinyWorkspace';
import type { TinyWorkspace } from '../unit/worker/tinyWorkspace';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin/msif.js');

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment without the variables that change what msif prints or runs on. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['MSIF_DEBUG'];
  delete env['MSIF_BACKEND'];
  return env;
}

/** Runs `msif ...args` in `cwd` and waits for it. */
function msif(args: readonly string[], cwd = ROOT): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env: cleanEnv(), encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `msif ...args`, sends SIGINT once it has printed progress, and waits for it to end. */
function interruptAfterProgress(args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: cleanEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      if (!stderr) child.kill('SIGINT');
      stderr += s;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Asserts the failure contract: the status, nothing on stdout, exactly one `msif: ` line on stderr. */
function assertFails(run: Run, status: number, pattern: RegExp): void {
  assert.equal(run.status, status, `exit status; stderr: ${run.stderr}`);
  assert.equal(run.stdout, '');
  const lines = run.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${run.stderr}`);
  assert.match(lines[0] ?? '', /^msif: /);
  assert.match(lines[0] ?? '', pattern);
}

describe('msif CLI', () => {
  let tmp: string;

  before(async () => {
    assert.ok(existsSync(path.join(ROOT, 'dist/cli.js')), 'dist/cli.js is missing: run npm run build first');
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'msif-cli-'));
  });

  after(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  describe('usage', () => {
    test('--help prints the usage on stdout and exits 0', () => {
      const run = msif(['--help']);
      assert.equal(run.status, 0);
      assert.match(run.stdout, /msif trace +--config msif\.json --test <index\|id\|all\|misclassified>/);
      assert.match(run.stdout, /msif train/);
      assert.match(run.stdout, /msif validate/);
      assert.equal(run.stderr, '');
    });

    test('--version prints the package version', () => {
      const run = msif(['--version']);
      assert.equal(run.status, 0);
      assert.equal(run.stdout, `${version}\n`);
    });

    test('bad flags exit 2 with one usage line', () => {
      assertFails(msif([]), 2, /missing command/);
      assertFails(msif(['trace', '--config', 'msif.json', '--test', '0', '--frobnicate']), 2, /unknown flag '--frobnicate'/);
      assertFails(msif(['trace', '--config', 'msif.json', '--test', '0', '--top', 'many']), 2, /--top is 'many'/);
      assertFails(msif(['trace', '--test', '0']), 2, /needs --config/);
      assertFails(msif(['trace', '--config']), 2, /--config needs a value/);
    });

    test('validate with an unknown retraining objective is a usage error (exit 2)', () => {
      assertFails(msif(['validate', '--config', 'msif.json', '--sample', '5', '--retrain', 'exact']), 2, /--retrain is 'exact' \(expected one of response, proximal, plain\)/);
    });

    test('--out in a missing directory fails before the job starts', () => {
      const out = path.join(tmp, 'no-such-dir', 'report.json');
      assertFails(msif(['trace', '--config', 'msif.json', '--test', '0', '--out', out]), 2, /no-such-dir/);
    });
  });

  describe('errors', () => {
    test('a missing config file: one line naming the file, no --out written', async () => {
      const out = path.join(tmp, 'report.json');
      const run = msif(['trace', '--config', 'missing-msif.json', '--test', 'all', '--out', out], tmp);
      assertFails(run, 1, /missing-msif\.json/);
      assert.ok(!existsSync(out), '--out is not created on error');
      assert.deepEqual(await fs.readdir(tmp), [], 'no temporary file is left behind');
    });
  });

  describe('trace on a small generated workspace', () => {
    let workspace: TinyWorkspace;

    before(async () => {
      workspace = await createTinyWorkspace(QUICK_INFLUENCE);
    });

    after(async () => {
      await workspace.dispose();
    });

    test('--out receives the report; stdout gets a readable summary; exit 0', async () => {
      const out = path.join(workspace.dir, 'report.json');
      const run = msif(['trace', '--config', workspace.config, '--test', 'all', '--top', '3', '--out', out]);
      assert.equal(run.status, 0, run.stderr);
      const report = JSON.parse(await fs.readFile(out, 'utf8')) as TraceReport;
      assert.equal(report.pretrainCount, 4000);
      assert.equal(report.scores.length, 4000);
      assert.equal(report.harmful.length, 3);
      assert.equal(report.test.length, 20, '--test all selects every test point');
      // The summary names the most harmful and most helpful examples of the report.
      assert.match(run.stdout, /Most harmful/);
      assert.match(run.stdout, /Most helpful/);
      for (const e of [...report.harmful, ...report.helpful]) assert.ok(run.stdout.includes(e.id), `summary lists ${e.id}`);
      assert.ok(run.stdout.includes(out));
    });

    test('SIGINT cancels the job: exit 130, "interrupted", no --out', async () => {
      const slow = await createTinyWorkspace();
      try {
        const out = path.join(slow.dir, 'report.json');
        const run = await interruptAfterProgress(['trace', '--config', slow.config, '--test', '0', '--out', out]);
        assert.equal(run.status, 130, run.stderr);
        assert.match(run.stderr, /msif: interrupted\n$/);
        assert.ok(!existsSync(out));
      } finally {
        await slow.dispose();
      }
    });
  });

  describe('the bundled example workspace (examples/fashion-mnist-small)', () => {
    const config = path.join(ROOT, 'examples/fashion-mnist-small/msif.json');

    test('trace --test <id> --case updated: a full report on stdout, contract fields filled', () => {
      const run = msif(['trace', '--config', config, '--test', 'test-00003', '--case', 'updated', '--top', '4']);
      assert.equal(run.status, 0, run.stderr);
      const report = JSON.parse(run.stdout) as TraceReport;
      assert.equal(report.version, 1);
      assert.equal(report.case, 'updated');
      assert.deepEqual(report.test.map((t) => t.id), ['test-00003']);
      assert.equal(report.pretrainCount, 2000);
      assert.equal(report.scores.length, 2000);
      assert.ok(report.scores.every(Number.isFinite));
      assert.equal(report.harmful.length, 4);
      assert.equal(report.helpful.length, 4);
      for (const e of report.harmful) assert.equal(e.score, report.scores[e.index]);
      assert.ok(report.harmful.every((e, i, a) => e.score > 0 && (i === 0 || (a[i - 1] as typeof e).score >= e.score)));
      assert.ok(report.helpful.every((e, i, a) => e.score < 0 && (i === 0 || (a[i - 1] as typeof e).score <= e.score)));
      assert.equal(report.settings.pretrainDamping, 0.03);
      assert.ok(report.diagnostics.cgResidual.length > 0);
      assert.ok(report.diagnostics.solves.length === 2);
      assert.ok(['native', 'wasm', 'cpu', 'tensorflow'].includes(report.diagnostics.backend));
    });

    test('trace --test misclassified: the sum over the misclassified points (eq. 8), summary on stdout', async () => {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'msif-example-'));
      try {
        const out = path.join(dir, 'report.json');
        const run = msif(['trace', '--config', config, '--test', 'misclassified', '--top', '5', '--out', out]);
        assert.equal(run.status, 0, run.stderr);
        const report = JSON.parse(await fs.readFile(out, 'utf8')) as TraceReport;
        assert.ok(report.test.length > 1);
        assert.ok(report.test.every((t) => t.label !== t.prediction));
        assert.match(run.stdout, /Most harmful/);
        assert.ok(run.stdout.includes(report.harmful[0]?.id ?? '?'));
      } finally {
        await fs.rm(dir, { recursive: true, force: true });
      }
    });
  });
});
