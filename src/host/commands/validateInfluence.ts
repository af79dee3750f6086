/**
 * "MSIF: Validate influence (leave-one-out)": the leave-one-out retraining check is not
 * in the worker yet. The command says so plainly and computes nothing.
 */
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';

export const VALIDATE_UNAVAILABLE_MESSAGE =
  'MSIF: Validate influence (leave-one-out) is not available in this version. ' +
  'The leave-one-out retraining job is not implemented yet, so nothing was computed.';

export function validateInfluence(ctx: Ctx) {
  return (): string => {
    ctx.log.info('validate influence: not available in this version');
    // Not awaited: the message stays until dismissed, the command is done.
    void vscode.window.showInformationMessage(VALIDATE_UNAVAILABLE_MESSAGE);
    return VALIDATE_UNAVAILABLE_MESSAGE;
  };
}
