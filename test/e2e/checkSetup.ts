/**
 * `npm run test:e2e`'s first step: fails with one clear message (and status 1) when the
 * e2e tier is not set up, instead of letting every test time out. The tier must never be
 * skipped silently.
 */
import { checkE2eSetup, workspaceSource } from './harness';

try {
  checkE2eSetup();
  workspaceSource();
} catch (e) {
  process.stderr.write(`test:e2e: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
