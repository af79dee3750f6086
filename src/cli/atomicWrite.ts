/**
 * Writing output files so that readers never see a partial file and a failed run
 * leaves nothing behind.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { MsifError } from '../common/errors';

/**
 * Fails early, before a long job, when `file` cannot be created because its directory
 * is missing.
 */
export async function assertCanCreate(file: string, flag: string): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  const stat = await fs.stat(dir).catch(() => undefined);
  if (!stat?.isDirectory()) {
    throw new MsifError('usage', `${flag} ${file}: directory ${dir} does not exist`, { expected: 'an existing directory' });
  }
}

/** Writes `text` (or bytes) to a temporary file beside `file`, then renames it over `file`. */
export async function writeFileAtomic(file: string, text: string | Uint8Array): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    await fs.writeFile(temp, text);
    await fs.rename(temp, file);
  } catch (e) {
    await fs.rm(temp, { force: true });
    throw new MsifError('internal', `cannot write ${file}: ${(e as Error).message}`);
  }
}
