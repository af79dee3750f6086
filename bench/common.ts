/**
 * What the benchmark scripts share (bench/run.ts, bench/paper.ts): running `node …` as a
 * timed child process (GNU time for peak RSS and CPU seconds, progress phases from its
 * stderr), the machine's description, the backend a child will get, number formatting.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..');
const TIME_BIN = '/usr/bin/time';

export interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly wallSeconds: number;
  /** Peak resident set size of the child, bytes (GNU time's %M, or the last VmHWM seen). */
  readonly peakRssBytes: number | null;
  readonly rssSource: 'time' | 'proc' | 'none';
  readonly cpuUserSeconds: number | null;
  readonly cpuSystemSeconds: number | null;
  readonly stdout: string;
  /** When each `NN% phase: …` progress phase was first seen on stderr, seconds after start. */
  readonly phaseFirstSeen: Record<string, number>;
  /** When each progress phase was last seen on stderr, seconds after start. */
  readonly phaseLastSeen: Record<string, number>;
  /** Seconds after start of the first line starting with each of `marks` (runNode's argument). */
  readonly marks: Record<string, number>;
  /** Seconds after start of the last stderr line. */
  readonly lastLineAt: number;
  readonly stderrTail: string[];
  /** The CLI's `backend: <reason>` line (MSIF_DEBUG=1), without the prefix. */
  readonly backendLine?: string;
}

const hasTime = fs.existsSync(TIME_BIN);
/** The child running now (a process-group leader: killed as a group). */
let current: ReturnType<typeof spawn> | undefined;

/** Runs `node args…` (or `node --import tsx …`) in ROOT, logging stderr to `logFile`. */
export function runNode(args: readonly string[], logFile: string, env: NodeJS.ProcessEnv, label: string, markPrefixes: readonly string[] = []): Promise<ChildResult> {
  const timeFile = `${logFile}.time`;
  fs.rmSync(timeFile, { force: true });
  const argv = hasTime ? [TIME_BIN, '-o', timeFile, '-f', '%M %e %U %S', process.execPath, ...args] : [process.execPath, ...args];
  const started = performance.now();
  const log = fs.createWriteStream(logFile);
  log.write(`$ ${argv.join(' ')}\n`);
  // Its own process group, so that an interrupt reaches node under /usr/bin/time too.
  const child = spawn(argv[0] as string, argv.slice(1), { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  current = child;
  let stdout = '';
  const phaseFirstSeen: Record<string, number> = {};
  const phaseLastSeen: Record<string, number> = {};
  const marks: Record<string, number> = {};
  const tail: string[] = [];
  let lastLineAt = 0;
  let lastEcho = 0;
  let pending = '';
  let backendLine: string | undefined;
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    pending += d.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const t = (performance.now() - started) / 1000;
      lastLineAt = t;
      log.write(`[${t.toFixed(1).padStart(7)}s] ${line}\n`);
      tail.push(line);
      if (tail.length > 20) tail.shift();
      if (backendLine === undefined && line.startsWith('backend: ')) backendLine = line.slice('backend: '.length);
      const p = /^\s*\d+% ([\w-]+):/.exec(line);
      const phase = p?.[1];
      if (phase !== undefined && !(phase in phaseFirstSeen)) phaseFirstSeen[phase] = t;
      if (phase !== undefined) phaseLastSeen[phase] = t;
      for (const prefix of markPrefixes) if (!(prefix in marks) && line.startsWith(prefix)) marks[prefix] = t;
      // Progress lines at most every 20 s (and each new phase); other lines always.
      if (!p || t - lastEcho >= 20 || phaseFirstSeen[phase as string] === t) {
        lastEcho = t;
        process.stderr.write(`  [${label} ${t.toFixed(0)}s] ${line.trim()}\n`);
      }
    }
  });
  // Without GNU time: sample VmHWM (the kernel's own peak) until the child exits.
  let hwm: number | null = null;
  const sampler = hasTime
    ? undefined
    : setInterval(() => {
        try {
          const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
          const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
          if (kb !== undefined) hwm = Math.max(hwm ?? 0, Number(kb) * 1024);
        } catch {
          // gone, or no /proc
        }
      }, 200);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      if (sampler) clearInterval(sampler);
      current = undefined;
      if (pending) tail.push(pending);
      const wallSeconds = (performance.now() - started) / 1000;
      let peakRssBytes: number | null = hwm;
      let rssSource: ChildResult['rssSource'] = hwm === null ? 'none' : 'proc';
      let cpuUser: number | null = null;
      let cpuSys: number | null = null;
      if (hasTime && fs.existsSync(timeFile)) {
        // GNU time writes "Command exited with non-zero status N" first on failure.
        const last = fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
        const [kb, , user, sys] = last.split(' ').map(Number);
        if (kb !== undefined && Number.isFinite(kb)) {
          peakRssBytes = kb * 1024;
          rssSource = 'time';
        }
        cpuUser = user !== undefined && Number.isFinite(user) ? user : null;
        cpuSys = sys !== undefined && Number.isFinite(sys) ? sys : null;
      }
      log.end(`exit ${code ?? signal} after ${wallSeconds.toFixed(1)} s\n`);
      resolve({ code, signal, wallSeconds, peakRssBytes, rssSource, cpuUserSeconds: cpuUser, cpuSystemSeconds: cpuSys, stdout, phaseFirstSeen, phaseLastSeen, marks, lastLineAt, stderrTail: tail, ...(backendLine !== undefined ? { backendLine } : {}) });
    });
  });
}

export function childEnv(): NodeJS.ProcessEnv {
  // MSIF_DEBUG: the CLI prints `backend: <reason>` and, on failure, the stack.
  return { ...process.env, MSIF_DEBUG: '1' };
}

export function backendArgs(o: { readonly backend: string }): string[] {
  return o.backend === 'auto' ? [] : ['--backend', o.backend];
}

// ---------------------------------------------------------------------------- machine

export function machineInfo(): Record<string, unknown> {
  const cpuinfo = readOr('/proc/cpuinfo');
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  const flags = /^flags\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.split(' ') ?? [];
  const memKb = Number(/MemTotal:\s+(\d+)/.exec(readOr('/proc/meminfo'))?.[1] ?? NaN);
  let tfjs: string | undefined;
  try {
    tfjs = (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', '@tensorflow', 'tfjs', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    tfjs = undefined;
  }
  return {
    cpuModel: model.trim(),
    cores: os.cpus().length,
    avx512: flags.includes('avx512f'),
    avx2: flags.includes('avx2'),
    memoryGiB: Number.isFinite(memKb) ? round(memKb / 1024 / 1024, 1) : round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    tfjs,
    os: `${os.type()} ${os.release()}`,
    loadAverageAtStart: os.loadavg().map((x) => round(x, 2)),
  };
}

function readOr(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The backend a child will get, resolved in this process the same way (src/worker/backend.ts). */
export async function resolveBackend(o: { readonly backend: string }): Promise<Record<string, unknown>> {
  const { initBackend } = await import('../src/worker/backend');
  const choice = await initBackend(o.backend as Parameters<typeof initBackend>[0]);
  const out: Record<string, unknown> = { requested: process.env['MSIF_BACKEND'] ? `${o.backend} (MSIF_BACKEND=${process.env['MSIF_BACKEND']})` : o.backend, name: choice.name, reason: choice.reason };
  if (choice.name === 'native') {
    try {
      const { registerNativeBackend } = await import('../src/worker/native/nativeBackend');
      const reg = registerNativeBackend();
      if (!('error' in reg)) out['native'] = reg.addon.info();
    } catch {
      // informational only
    }
  }
  out['threadEnv'] = Object.fromEntries(['MSIF_NATIVE_THREADS', 'OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS'].filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]]));
  return out;
}

/** An option's integer (≥ min), or `fallback` when the option is absent. */
export function intOption(flag: string, text: string | undefined, fallback: number, min = 1): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (!/^\d+$/.test(text) || v < min) throw new Error(`--${flag} ${text}: expected an integer ≥ ${min}`);
  return v;
}

/** An option's number (≥ 0), or `fallback` when the option is absent. */
export function numberOption(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v < 0) throw new Error(`--${flag} ${text}: expected a number ≥ 0`);
  return v;
}

/** What --backend takes: a backend msif knows, or auto. */
export const BACKENDS = ['auto', 'tensorflow', 'native', 'wasm', 'cpu'] as const;
export type Backend = (typeof BACKENDS)[number];

/** --backend: one of {@link BACKENDS}. */
export function backendOption(text: string | undefined): Backend {
  const backend = BACKENDS.find((b) => b === (text ?? 'auto'));
  if (!backend) throw new Error(`--backend ${text}: expected one of ${BACKENDS.join(', ')}`);
  return backend;
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
export function mib(bytes: number | null): number | null {
  return bytes === null ? null : round(bytes / 2 ** 20, 1);
}
export function fmt(x: number | null | undefined): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '—';
  return Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2);
}

/** Forwards SIGINT/SIGTERM to the running child's process group, then exits 130. */
export function killChildOnSignals(): void {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (current?.pid !== undefined) {
        try {
          process.kill(-current.pid, sig);
        } catch {
          // already gone
        }
      }
      process.exit(130);
    });
  }
}
