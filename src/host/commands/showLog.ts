/** "MSIF: Show log": reveals the MSIF output channel (host and worker logs). */
import type { Ctx } from '../ctx';

export function showLog(ctx: Ctx) {
  return (): void => {
    ctx.log.show(true);
  };
}
