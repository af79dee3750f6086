/**
 * The leave-one-out check's journal on disk (src/engine/validate/leaveOneOut.ts,
 * `RetrainJournal`): one file per finished retraining run under
 * `<cache dir>/validate-<key>/`, where the key is a SHA-256 of everything the runs depend
 * on (ihvpCacheKey's inputs: model and dataset file contents, case, test points, backend;
 * here with the influence settings, the retraining options and the seed). A stopped
 * `msif validate` or `npm run bench:paper` then resumes at the run it stopped in, and a
 * repeated one reads every run back.
 *
 * Same place and switch as the solve cache (./ihvpCache.ts): `MSIF_CACHE_DIR`,
 * `MSIF_CACHE=off`. Entries are written atomically; a damaged one is run again.
 *
 * Several processes running the same check share its journal (`SharedRuns`): a process
 * takes a run by creating `<run>.claim` exclusively (its pid, host, and a heartbeat: the
 * file's mtime, touched every {@link HEARTBEAT_MS}), and the others leave that run to it.
 * A claim whose process is gone (same host, pid not alive) or whose heartbeat stopped
 * {@link STALE_MS} ago is anyone's. Two processes that take the same run anyway (a race
 * on a stale claim) only duplicate work: runs are deterministic and stored atomically.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { throwIfAborted } from '../engine/cancel';
import type { RetrainJournal, SharedRuns } from '../engine/validate/leaveOneOut';
import type { RetrainRun, StageRun } from '../engine/validate/retrainStages';
import { base64ToF64, diskEntry, f64ToBase64 } from './ihvpCache';
import type { CacheEvent } from './ihvpCache';

const FORMAT = 'msif-retrain-2';

/** How often a process holding a run touches its claim. */
export const HEARTBEAT_MS = 30_000;
/** A claim untouched this long is abandoned (its holder hung, or runs on a host we cannot ask). */
export const STALE_MS = 10 * 60_000;

export interface JournalOptions {
  /** Hears reads and writes of entries. */
  readonly onEvent?: (event: CacheEvent, detail: string) => void;
  /** How often `wait` looks for another process's run (default 2 s). */
  readonly pollMs?: number;
}

/** The journal in `dir` (a directory of its own per key), shared with other processes. */
export function diskRetrainJournal(dir: string, o: JournalOptions = {}): RetrainJournal {
  const file = (key: string, ext: string) => {
    if (!/^[a-z0-9-]+$/.test(key)) throw new Error(`retrain journal: bad run key ${key}`);
    return path.join(dir, `${key}.${ext}`);
  };
  const entry = (key: string) => diskEntry(file(key, 'json'), encodeRun, decodeRun, o.onEvent);
  return {
    load: (key) => entry(key).load(),
    store: (key, run) => entry(key).store(run),
    shared: sharedRuns(dir, (key) => file(key, 'claim'), (key) => entry(key).load(), o),
  };
}

interface Holder {
  readonly pid: number;
  readonly host: string;
}

function sharedRuns(dir: string, claimFile: (key: string) => string, load: (key: string) => Promise<RetrainRun | undefined>, o: JournalOptions): SharedRuns {
  const me: Holder = { pid: process.pid, host: os.hostname() };
  const heartbeats = new Map<string, NodeJS.Timeout>();
  const take = async (f: string): Promise<boolean> => {
    try {
      await fs.writeFile(f, JSON.stringify({ ...me, since: new Date().toISOString() }), { flag: 'wx' });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
  };
  return {
    async claim(key) {
      const f = claimFile(key);
      try {
        await fs.mkdir(dir, { recursive: true });
        if (!(await take(f))) {
          const holder = await claimHolder(f);
          if (isMe(holder, me)) {
            // Ours already (a run this process took and has not let go).
          } else if (holderLive(holder, me)) {
            return false;
          } else {
            // Gone, stale, or its holder is dead: clear it and take it (or lose the race to another taker).
            await fs.rm(f, { force: true });
            if (!(await take(f))) return false;
          }
        }
        const beat = setInterval(() => void fs.utimes(f, new Date(), new Date()).catch(() => undefined), HEARTBEAT_MS);
        beat.unref();
        heartbeats.set(key, beat);
        return true;
      } catch (e) {
        // A journal directory that cannot hold claims: run it here (at worst, twice).
        o.onEvent?.('unwritable', `${f}: ${(e as Error).message}`);
        return true;
      }
    },
    async release(key) {
      clearInterval(heartbeats.get(key));
      heartbeats.delete(key);
      const f = claimFile(key);
      if (isMe(await claimHolder(f), me)) await fs.rm(f, { force: true });
    },
    async wait(key, signal) {
      for (;;) {
        throwIfAborted(signal, 'retraining');
        const run = await load(key);
        if (run) return run;
        if (!holderLive(await claimHolder(claimFile(key)), me)) return undefined;
        try {
          await sleep(o.pollMs ?? 2000, undefined, signal ? { signal } : {});
        } catch {
          throwIfAborted(signal, 'retraining');
        }
      }
    },
  };
}

/**
 * Who holds a claim file: its holder; 'live' for a fresh file not yet readable (being
 * written); 'gone' for no file; 'stale' when its heartbeat stopped {@link STALE_MS} ago.
 */
async function claimHolder(f: string): Promise<Holder | 'live' | 'gone' | 'stale'> {
  let text: string;
  let mtime: number;
  try {
    [text, mtime] = await Promise.all([fs.readFile(f, 'utf8'), fs.stat(f).then((st) => st.mtimeMs)]);
  } catch {
    return 'gone';
  }
  if (Date.now() - mtime > STALE_MS) return 'stale';
  try {
    const h = JSON.parse(text) as Partial<Holder>;
    if (typeof h.pid === 'number' && typeof h.host === 'string') return { pid: h.pid, host: h.host };
  } catch {
    // Being written.
  }
  return 'live';
}

/** Whether a claim is this process's own. */
function isMe(h: Holder | 'live' | 'gone' | 'stale', me: Holder): boolean {
  return typeof h === 'object' && h.pid === me.pid && h.host === me.host;
}

/** Whether a claim still holds its run: fresh, and its holder running. */
function holderLive(h: Holder | 'live' | 'gone' | 'stale', me: Holder): boolean {
  return h === 'live' || (typeof h === 'object' && holderAlive(h, me));
}

/** Whether a claim's holder runs: on this host, its pid answers; on another, assumed (the heartbeat decides). */
function holderAlive(h: Holder, me: Holder): boolean {
  if (h.host !== me.host) return true;
  try {
    process.kill(h.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function encodeRun(r: RetrainRun): string {
  return JSON.stringify({
    format: FORMAT,
    testLoss: r.testLoss,
    testLossChange: r.testLossChange,
    pretrain: r.pretrain,
    finetune: r.finetune,
    end: { pretrain: f64ToBase64(r.end.pretrain), finetune: f64ToBase64(r.end.finetune) },
  });
}

function decodeRun(text: string): RetrainRun | undefined {
  try {
    const o = JSON.parse(text) as Record<string, unknown>;
    const end = o['end'] as { pretrain?: unknown; finetune?: unknown } | undefined;
    if (o['format'] !== FORMAT || typeof o['testLoss'] !== 'number' || typeof o['testLossChange'] !== 'number' || typeof end?.pretrain !== 'string' || typeof end.finetune !== 'string') return undefined;
    const pretrain = stageRun(o['pretrain']);
    const finetune = stageRun(o['finetune']);
    if (!pretrain || !finetune) return undefined;
    return { testLoss: o['testLoss'], testLossChange: o['testLossChange'], pretrain, finetune, end: { pretrain: base64ToF64(end.pretrain), finetune: base64ToF64(end.finetune) } };
  } catch {
    return undefined;
  }
}

function stageRun(v: unknown): StageRun | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const s = v as Record<string, unknown>;
  const numbers = ['iterations', 'evaluations', 'initialGradientNorm', 'maxGradientNorm', 'gradientNorm', 'objective'] as const;
  if (!numbers.every((k) => typeof s[k] === 'number') || typeof s['converged'] !== 'boolean' || typeof s['stop'] !== 'string') return undefined;
  return s as unknown as StageRun;
}
