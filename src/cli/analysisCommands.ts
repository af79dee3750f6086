/**
 * `msif cleanse` (paper §4.2) and `msif similarity` (§4.3–4.4): run their jobs in this
 * process, the report (JSON) to `--out` or stdout, and, with `--out`, a readable summary
 * on stdout. `--write-filtered` is checked before the (long) job and written after it.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { MsifError } from '../common/errors';
import { parseWorkspaceConfig } from '../common/workspaceConfig';
import type { CleanseReport } from '../protocol/cleanseReport';
import type { SimilarityReport } from '../protocol/similarityReport';
import { initBackend } from '../worker/backend';
import { runCleanse, runWriteFiltered } from '../worker/cleanseJob';
import { assertWritableOutput, workspaceFiles } from '../worker/filteredDataset';
import type { JobContext } from '../worker/jobs';
import { runSimilarity } from '../worker/similarityJob';
import type { CliCommand } from './args';
import { assertCanCreate, writeFileAtomic } from './atomicWrite';
import { formatCleanseSummary, formatSimilaritySummary } from './analysisSummary';
import { createProgressDisplay } from './progressDisplay';

type AnalysisCommand = Extract<CliCommand, { kind: 'cleanse' | 'similarity' }>;

/** Runs `msif cleanse` or `msif similarity` and writes its results. */
export async function runAnalysisCommand(command: AnalysisCommand, signal: AbortSignal): Promise<void> {
  if (command.out !== undefined) await assertCanCreate(command.out, '--out');
  const filtered = command.kind === 'cleanse' ? command.writeFiltered : undefined;
  if (filtered !== undefined) {
    if (command.out !== undefined && path.resolve(command.out) === path.resolve(filtered)) {
      throw new MsifError('usage', '--out and --write-filtered name the same file', { expected: 'two different files' });
    }
    await assertWritableOutput(filtered, await workspaceFiles(await readConfig(command.config)), false);
  }
  const backend = await initBackend(command.backend);
  if (process.env['MSIF_DEBUG']) process.stderr.write(`backend: ${backend.reason}\n`);
  const display = createProgressDisplay(process.stderr);
  const ctx: JobContext = { signal, onProgress: display.update, log: display.log };
  let result: CleanseReport | SimilarityReport;
  try {
    if (command.kind === 'cleanse') {
      result = await runCleanse(command.config, command.options, ctx);
      if (filtered !== undefined) await runWriteFiltered(command.config, { exclude: result.arms.cleansed.removed, out: filtered }, ctx);
    } else {
      result = await runSimilarity(command.config, command.other, command.options, ctx);
    }
  } finally {
    display.dispose();
  }
  const json = `${JSON.stringify(result, null, 2)}\n`;
  if (command.out === undefined) {
    process.stdout.write(json);
    return;
  }
  await writeFileAtomic(command.out, json);
  process.stdout.write(result.kind === 'cleanse' ? formatCleanseSummary(result, command.out, filtered) : formatSimilaritySummary(result, command.out));
}

/** The parsed msif.json at `file` (relative paths resolved against its directory). */
async function readConfig(file: string) {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new MsifError('config', `cannot read the workspace config (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file, expected: 'an msif.json file' });
  }
  return parseWorkspaceConfig(text, file);
}
