/**
 * The leave-one-out journal's sharing between processes (src/worker/retrainJournal.ts):
 * claims of live, dead and hung holders, waiting for another process's run, letting go.
 * "Another process" is a real child process (its pid is alive, then dead); the journal's
 * own process is this one.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { diskRetrainJournal, STALE_MS } from '../../../src/worker/retrainJournal';
import type { RetrainRun, StageRun } from '../../../src/engine/validate/retrainStages';
import type { SharedRuns } from '../../../src/engine/validate/leaveOneOut';

const stage: StageRun = { iterations: 3, evaluations: 4, initialGradientNorm: 1e-3, maxGradientNorm: 1e-3, gradientNorm: 1e-8, objective: 0.5, converged: true, stop: 'converged' };
const run = (change: number): RetrainRun => ({ testLoss: 1.25, testLossChange: change, pretrain: stage, finetune: stage, end: { pretrain: new Float64Array([1, 2]), finetune: new Float64Array([3]) } });

/** A child process that lives until killed: another holder on this host. */
function otherProcess(): { pid: number; stop: () => Promise<void> } {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    pid: child.pid as number,
    stop: async () => {
      child.kill();
      await exited;
    },
  };
}

async function writeClaim(dir: string, key: string, pid: number, host = os.hostname()): Promise<string> {
  const f = path.join(dir, `${key}.claim`);
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(f, JSON.stringify({ pid, host, since: new Date().toISOString() }));
  return f;
}

describe('retrain journal shared between processes', () => {
  let root: string;
  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'msif-journal-'));
  });
  after(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  const shared = (dir: string): { journal: ReturnType<typeof diskRetrainJournal>; runs: SharedRuns } => {
    const journal = diskRetrainJournal(dir, { pollMs: 20 });
    assert.ok(journal.shared);
    return { journal, runs: journal.shared };
  };

  it('takes a free run, holds it across repeated claims, and lets go of it', async () => {
    const dir = path.join(root, 'free');
    const { runs } = shared(dir);
    assert.equal(await runs.claim('without-3'), true);
    const holder = JSON.parse(await fs.readFile(path.join(dir, 'without-3.claim'), 'utf8')) as { pid: number; host: string };
    assert.deepEqual([holder.pid, holder.host], [process.pid, os.hostname()]);
    assert.equal(await runs.claim('without-3'), true, 'its own claim');
    await runs.release('without-3');
    await assert.rejects(fs.stat(path.join(dir, 'without-3.claim')), /ENOENT/);
  });

  it("leaves a live process's run to it and waits for it to be stored", async () => {
    const dir = path.join(root, 'live');
    const { journal, runs } = shared(dir);
    const other = otherProcess();
    try {
      const claimFile = await writeClaim(dir, 'base', other.pid);
      assert.equal(await runs.claim('base'), false);
      const waited = runs.wait('base');
      await new Promise((r) => setTimeout(r, 100));
      // The other process stores its run, then lets go of its claim.
      await journal.store('base', run(0.125));
      await fs.rm(claimFile);
      const got = await waited;
      assert.equal(got?.testLossChange, 0.125);
      assert.deepEqual(Array.from(got?.end.pretrain ?? []), [1, 2]);
    } finally {
      await other.stop();
    }
  });

  it('wait returns undefined when the holder lets go unfinished, or dies', async () => {
    const dir = path.join(root, 'unfinished');
    const { runs } = shared(dir);
    const other = otherProcess();
    const claimFile = await writeClaim(dir, 'noise', other.pid);
    const waited = runs.wait('noise');
    await new Promise((r) => setTimeout(r, 100));
    await fs.rm(claimFile);
    assert.equal(await waited, undefined);

    await writeClaim(dir, 'noise', other.pid);
    const waitedOnDeath = runs.wait('noise');
    await other.stop();
    assert.equal(await waitedOnDeath, undefined);
    // ...and the dead holder's run is anyone's.
    assert.equal(await runs.claim('noise'), true);
  });

  it("takes a hung holder's run once its heartbeat is older than STALE_MS, even on another host", async () => {
    const dir = path.join(root, 'stale');
    const { runs } = shared(dir);
    const f = await writeClaim(dir, 'without-7', 1, 'some-other-host');
    assert.equal(await runs.claim('without-7'), false, 'another host: assumed alive while its heartbeat is fresh');
    const old = new Date(Date.now() - STALE_MS - 60_000);
    await fs.utimes(f, old, old);
    assert.equal(await runs.claim('without-7'), true);
    const holder = JSON.parse(await fs.readFile(f, 'utf8')) as { pid: number };
    assert.equal(holder.pid, process.pid);
  });

  it('wait stops when cancelled', async () => {
    const dir = path.join(root, 'cancel');
    const { runs } = shared(dir);
    const other = otherProcess();
    try {
      await writeClaim(dir, 'base', other.pid);
      const abort = new AbortController();
      const waited = runs.wait('base', abort.signal);
      setTimeout(() => abort.abort(), 50);
      await assert.rejects(waited, (e: Error) => /cancel/i.test(e.name + e.message));
    } finally {
      await other.stop();
    }
  });
});
