/** Registers every MSIF command: one factory `(ctx) => handler` per command. */
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import { CommandIds } from './commandIds';
import type { CommandId } from './commandIds';
import { compareCases } from './compareCases';
import { cleansePretraining } from './cleansePretraining';
import { writeFilteredPretraining } from './cleanseWriteFiltered';
import { compareTaskSimilarity } from './similarityCompare';
import { installBackend } from './installBackend';
import { restartWorker } from './restartWorker';
import { selectConfig } from './selectConfig';
import { showLog } from './showLog';
import { showMisclassified } from './showMisclassified';
import { traceToPretraining } from './traceToPretraining';
import { validateInfluence } from './validateInfluence';

type CommandFactory = (ctx: Ctx) => (...args: unknown[]) => unknown;

const COMMANDS: Record<CommandId, CommandFactory> = {
  [CommandIds.traceToPretraining]: traceToPretraining,
  [CommandIds.compareCases]: compareCases,
  [CommandIds.showMisclassified]: showMisclassified,
  [CommandIds.validateInfluence]: validateInfluence,
  [CommandIds.restartWorker]: restartWorker,
  [CommandIds.showLog]: showLog,
  [CommandIds.selectConfig]: selectConfig,
  [CommandIds.installTensorflowBackend]: installBackend,
  [CommandIds.cleansePretraining]: cleansePretraining,
  [CommandIds.writeFilteredPretraining]: writeFilteredPretraining,
  [CommandIds.compareTaskSimilarity]: compareTaskSimilarity,
};

export function registerCommands(ctx: Ctx): vscode.Disposable[] {
  return (Object.entries(COMMANDS) as [CommandId, CommandFactory][]).map(([id, factory]) =>
    vscode.commands.registerCommand(id, factory(ctx)),
  );
}
