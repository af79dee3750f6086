/**
 * `msif validate` (contract §4, the paper's Fig. 2): runs the leave-one-out check in this
 * process. The report (JSON) goes to `--out` or stdout, as for trace; the readable summary
 * with Pearson's r goes to stdout with `--out`, and to stderr without it, so that the
 * terminal shows it either way.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as os from 'node:os';
import { MsifError } from '../common/errors';
import { retrainObjectiveText } from '../protocol/retrainObjectiveText';
import type { CorrelationSet, CorrelationView, ValidateReport } from '../protocol/validateReport';
import { initBackend } from '../worker/backend';
import { ihvpCacheDir } from '../worker/ihvpCache';
import type { JobContext } from '../worker/jobs';
import { runValidate } from '../worker/validateJob';
import { threadsPerJob, validateArgv } from './args';
import type { CliCommand } from './args';
import { assertCanCreate, writeFileAtomic } from './atomicWrite';
import { createProgressDisplay } from './progressDisplay';

type ValidateCommand = Extract<CliCommand, { kind: 'validate' }>;

/** Runs `msif validate` and writes its report and summary. */
export async function runValidateCommand(command: ValidateCommand, signal: AbortSignal): Promise<void> {
  if (command.out !== undefined) await assertCanCreate(command.out, '--out');
  const jobs = command.jobs ?? 1;
  if (jobs > 1) {
    if (ihvpCacheDir() === undefined) throw new MsifError('usage', `--jobs ${jobs} shares the runs through the run journal, and the cache is off (MSIF_CACHE=off)`, { field: '--jobs', expected: '1, or the cache on' });
    // Each process its share of the cores (read by the native backend when it starts).
    process.env['MSIF_NATIVE_THREADS'] ??= String(threadsPerJob(jobs, os.cpus().length));
  }
  const backend = await initBackend(command.backend);
  if (process.env['MSIF_DEBUG']) process.stderr.write(`backend: ${backend.reason}\n`);
  const display = createProgressDisplay(process.stderr);
  const helpers = new Helpers(command, jobs - 1, display.log);
  // The helpers start once this process has the scores (they then find its solves in the cache) and begins retraining.
  const log = (line: string): void => {
    display.log(line);
    if (/^validate: \d+ examples, \d+ retraining runs/.test(line)) helpers.start();
  };
  const ctx: JobContext = { signal, onProgress: display.update, log };
  let report: ValidateReport;
  try {
    report = await runValidate(command.config, command.options, ctx);
  } finally {
    // Done (every run is in the journal) or stopped: the helpers have nothing left to do here.
    await helpers.stop();
    display.dispose();
  }
  const json = `${JSON.stringify(report, null, 2)}\n`;
  if (command.out === undefined) {
    process.stdout.write(json);
    process.stderr.write(formatValidateSummary(report));
  } else {
    await writeFileAtomic(command.out, json);
    process.stdout.write(formatValidateSummary(report, command.out));
  }
}

/**
 * The helper processes of `msif validate --jobs J`: the same command (without --jobs and
 * --out) in J − 1 child processes, on the same journal; each takes runs nobody holds.
 * Their reports are not kept (they equal this one's); one that fails is reported, and its
 * runs fall to the others when its claims lapse.
 */
class Helpers {
  private readonly children: ChildProcess[] = [];

  constructor(
    private readonly command: ValidateCommand,
    private readonly count: number,
    private readonly log: (line: string) => void,
  ) {}

  start(): void {
    if (this.count < 1 || this.children.length > 0) return;
    const argv = [process.argv[1] as string, ...validateArgv(this.command)];
    for (let k = 1; k <= this.count; k++) {
      const child = spawn(process.execPath, argv, { stdio: ['ignore', 'ignore', 'pipe'], env: process.env });
      const tail: string[] = [];
      child.stderr?.setEncoding('utf8').on('data', (d: string) => {
        tail.push(...d.split('\n').filter((l) => l.trim() !== ''));
        tail.splice(0, Math.max(0, tail.length - 5));
      });
      child.once('exit', (code, sig) => {
        if (code !== 0 && !this.stopping) this.log(`validate: helper process ${k} (pid ${child.pid ?? '?'}) exited with ${code ?? sig}; its runs fall to the others. Its last lines: ${tail.join(' | ')}`);
      });
      child.once('error', (e) => this.log(`validate: helper process ${k} did not start: ${e.message}`));
      this.children.push(child);
    }
    this.log(`validate: ${this.count} helper process${this.count === 1 ? '' : 'es'} (pid ${this.children.map((c) => c.pid ?? '?').join(', ')}) share the runs, ${process.env['MSIF_NATIVE_THREADS'] ?? 'auto'} BLAS thread(s) each`);
  }

  private stopping = false;

  /** Interrupts the helpers that still run (they let go of their runs) and waits for them to exit. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGINT');
          }),
      ),
    );
  }
}

/** The check in a few lines: the sample, r and ρ per half for the method and the baselines, the noise floor, warnings. */
export function formatValidateSummary(r: ValidateReport, reportPath?: string): string {
  const out: string[] = [];
  const tests = r.test.length === 1 ? `test point ${r.test[0]?.id ?? ''}` : `${r.test.length} test points (losses summed)`;
  out.push(`Leave-one-out check, Case ${r.case === 'fixed' ? '1 (embedding fixed)' : '2 (embedding updated)'}, ${tests}`);
  out.push(
    `${r.rows.length} of ${r.pretrainCount} pretraining examples retrained without: ${r.sample.top} of largest |score|, ${r.sample.random} random (seed ${r.sample.seed})`,
  );
  const rt = r.settings.retrain;
  const objective = retrainObjectiveText(rt);
  out.push(
    `Retraining: L-BFGS from the saved weights${rt.start === 'base' ? " (leave-one-out runs from the base run's end)" : ''}, ${objective}, ‖∇‖ ≤ ${rt.gradientTolerance.toExponential(0)} (and on to 1% of its start where round-off allows) or ${rt.maxIterations} steps per stage; ` +
      `${r.rows.length + 2} runs, ${r.diagnostics.unconvergedRuns} not converged; ${r.diagnostics.seconds.toFixed(1)} s on ${r.diagnostics.backend}`,
  );
  const journal = r.diagnostics.journal;
  if (journal) {
    const shared = journal.sharedRuns ? `, ${journal.sharedRuns} waited for while another process ran them` : '';
    out.push(`Journal: ${journal.resumedRuns} of ${r.rows.length + 2} runs read back from ${journal.dir} (finished earlier or by another process)${shared}; a stopped check resumes there, and the same command in another process shares the runs out`);
  }
  out.push('');
  const c = r.correlations;
  const head = (s: keyof CorrelationSet): string => `${s === 'top' ? 'top-|score|' : s} (n=${c.influence[s].n})`;
  out.push(`${'Pearson r (Spearman ρ)'.padEnd(28)}${head('top').padEnd(22)}${head('random').padEnd(22)}${head('all')}`);
  const line = (name: string, set: CorrelationSet): string =>
    `${name.padEnd(28)}${cell(set.top).padEnd(22)}${cell(set.random).padEnd(22)}${cell(set.all)}`;
  out.push(line('influence (−I/m)', c.influence));
  out.push(line('identity Hessians', c.identity));
  out.push(line('random scores', c.random));
  out.push('');
  const nf = r.noiseFloor;
  const med = (v: number | null): string => (v === null ? '—' : v.toExponential(2));
  out.push(
    `Noise floor: |ΔL| ${nf.spread.toExponential(2)} between two no-removal retrainings; median |actual ΔL|: top ${med(nf.medianAbsActual.top)}, ` +
      `random ${med(nf.medianAbsActual.random)} (comparable above ${nf.threshold}×: ${comparableText(nf.comparable)})`,
  );
  out.push(`Test loss: saved ${r.testLoss.saved.toPrecision(6)}, retrained on everything ${r.testLoss.base.toPrecision(6)}`);
  for (const w of r.diagnostics.warnings) out.push(`warning: ${w}`);
  if (reportPath !== undefined) out.push(`Full report: ${reportPath}`);
  return `${out.join('\n')}\n`;
}

function cell(v: CorrelationView): string {
  const f = (x: number | null): string => (x === null ? '—' : x.toFixed(3));
  return `${f(v.pearson)} (${f(v.spearman)})`;
}

function comparableText(c: ValidateReport['noiseFloor']['comparable']): string {
  const parts = (['top', 'random'] as const).filter((k) => c[k]).map((k) => (k === 'top' ? 'top half' : 'random half'));
  return parts.length === 0 ? 'neither half' : parts.join(' and ');
}
