/**
 * Installs `@tensorflow/tfjs-node` or `-gpu` into the extension's own storage with npm,
 * reporting npm's phases, cancellable, and telling a blocked download (the package's
 * install script fetches libtensorflow from storage.googleapis.com) from other failures.
 * Free of `vscode`: "MSIF: Install TensorFlow backend" (commands/installBackend.ts)
 * drives it, and tests run it with a real npm.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CancelledError } from '../common/errors';
import { missingNativeBinding, packageDirIn } from '../worker/backendPackages';

/** How to run npm: `command ...args install …`, with `pathPrefix` put first on PATH (the node npm runs on). */
export interface NpmCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly pathPrefix?: string;
  /** Windows `.cmd` shims need a shell. */
  readonly shell?: boolean;
}

/**
 * npm next to `nodePath` (msif.nodePath), else on PATH; undefined when there is none.
 * VS Code bundles no npm, and its own runtime (Electron) cannot stand in for node here.
 */
export function findNpm(env: NodeJS.ProcessEnv, nodePath?: string, platform: NodeJS.Platform = process.platform): NpmCommand | undefined {
  const win = platform === 'win32';
  const shim = win ? 'npm.cmd' : 'npm';
  if (nodePath) {
    const dir = path.dirname(nodePath);
    const cliScripts = [path.join(dir, 'node_modules', 'npm', 'bin', 'npm-cli.js'), path.join(dir, '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js')];
    const cli = cliScripts.find(isFile);
    // Run npm's own script on that node, so that npm and the install scripts use it.
    if (cli) return { command: nodePath, args: [cli], pathPrefix: dir };
    if (isFile(path.join(dir, shim))) return { command: path.join(dir, shim), args: [], pathPrefix: dir, shell: win };
  }
  const pathVar = env['PATH'] ?? env['Path'] ?? '';
  for (const dir of pathVar.split(path.delimiter).filter((d) => d !== '')) {
    const candidate = path.join(dir, shim);
    if (isFile(candidate)) return { command: candidate, args: [], shell: win };
  }
  return undefined;
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** A step of the install, as npm's output shows it. */
export interface InstallPhase {
  readonly id: 'resolve' | 'fetch' | 'script' | 'libtensorflow' | 'binding';
  readonly message: string;
  /** Rough share of the whole install done when this phase starts (0–1). */
  readonly fraction: number;
}

export interface InstallRequest {
  /** What npm installs: `@tensorflow/tfjs-node@4.22.0`, or a tarball path in tests. */
  readonly spec: string;
  /** The package's name, to find it afterwards under `prefix`. */
  readonly packageName: string;
  /** npm's `--prefix`: the extension's `<globalStorage>/backends`. */
  readonly prefix: string;
  readonly npm: NpmCommand;
  /** The child's environment; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  readonly signal?: AbortSignal;
  readonly onPhase?: (phase: InstallPhase) => void;
  /** Every output line, as it comes. */
  readonly onLine?: (line: string) => void;
}

/** How an install ended (a cancelled one throws {@link CancelledError} instead). */
export type InstallOutcome =
  | { readonly kind: 'installed'; readonly packageDir: string }
  | {
      readonly kind: 'blocked';
      /** `registry`: npm could not fetch the package; `script`: its install script could not download. */
      readonly stage: 'registry' | 'script';
      /** What could not be downloaded: `libtensorflow`, `the prebuilt binding`, `the package`. */
      readonly what: string;
      /** The host it tried, when the output names it. */
      readonly host?: string;
      readonly url?: string;
      /** The network error code, e.g. ENOTFOUND. */
      readonly code: string;
      readonly log: readonly string[];
    }
  | { readonly kind: 'failed'; readonly exitCode: number | null; readonly reason: string; readonly log: readonly string[] };

/** Lines of output kept for the outcome (the end of npm's output). */
const LOG_TAIL = 60;
/** How long a cancelled npm gets to stop before it is killed. */
const KILL_GRACE_MS = 3000;

/**
 * Runs `npm install --prefix <prefix> <spec>` with the install script's output in the
 * foreground (`--foreground-scripts`) and npm's network log (`--loglevel=http`), so that
 * phases and a blocked download can be read from it.
 */
export async function installBackendPackage(req: InstallRequest): Promise<InstallOutcome> {
  if (req.signal?.aborted) throw new CancelledError(`installing ${req.packageName}`);
  fs.mkdirSync(req.prefix, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...(req.env ?? process.env) };
  if (req.npm.pathPrefix) env['PATH'] = [req.npm.pathPrefix, env['PATH'] ?? ''].join(path.delimiter);
  const args = [
    ...req.npm.args,
    'install',
    '--prefix',
    req.prefix,
    '--no-audit',
    '--no-fund',
    '--no-update-notifier',
    '--foreground-scripts',
    '--loglevel=http',
    req.spec,
  ];
  const child = spawn(req.npm.command, args, {
    cwd: req.prefix,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so that Cancel stops npm and the install script it runs.
    detached: process.platform !== 'win32',
    shell: req.npm.shell ?? false,
    windowsHide: true,
  });
  const reader = new NpmOutputReader(req.onPhase);
  const tail: string[] = [];
  const onLine = (line: string): void => {
    tail.push(line);
    if (tail.length > LOG_TAIL) tail.shift();
    reader.read(line);
    req.onLine?.(line);
  };
  forwardLines(child.stdout, onLine);
  forwardLines(child.stderr, onLine);

  let cancelled = false;
  const onAbort = (): void => {
    cancelled = true;
    stopProcessTree(child.pid);
  };
  req.signal?.addEventListener('abort', onAbort, { once: true });
  let exit: { code: number | null; error?: Error };
  try {
    exit = await new Promise((resolve) => {
      child.once('error', (error) => resolve({ code: null, error }));
      child.once('close', (code) => resolve({ code }));
    });
  } finally {
    req.signal?.removeEventListener('abort', onAbort);
  }
  if (cancelled) throw new CancelledError(`installing ${req.packageName}`);
  if (exit.error) return { kind: 'failed', exitCode: null, reason: `npm could not run (${exit.error.message})`, log: tail };

  const packageDir = packageDirIn(req.prefix, req.packageName);
  if (exit.code === 0) {
    const missing = missingNativeBinding(packageDir);
    if (missing === undefined) return { kind: 'installed', packageDir };
    return { kind: 'failed', exitCode: 0, reason: `npm finished, but ${req.packageName} ${missing}`, log: tail };
  }
  const blocked = reader.blocked();
  if (blocked) return { kind: 'blocked', ...blocked, log: tail };
  return { kind: 'failed', exitCode: exit.code, reason: `npm exited with code ${exit.code}`, log: tail };
}

/** Network errors that mean "this host cannot be reached from here" (DNS, refused, timed out, TLS interception). */
const NETWORK_ERROR =
  /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|ECONNABORTED|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_VERIFY_LEAF_SIGNATURE|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_HAS_EXPIRED)\b/;

const PHASE_ORDER: readonly InstallPhase['id'][] = ['resolve', 'fetch', 'script', 'libtensorflow', 'binding'];

/** Reads npm's output line by line: phases as they start, and what a network failure was about. */
export class NpmOutputReader {
  private phase: InstallPhase['id'] | undefined;
  private scriptStarted = false;
  private downloading: string | undefined;
  private lastUrl: string | undefined;
  private failure: { code: string; host?: string; url?: string; stage: 'registry' | 'script'; what: string } | undefined;
  private packages = 0;

  constructor(private readonly onPhase?: (phase: InstallPhase) => void) {}

  read(raw: string): void {
    const line = raw.trim();
    const http = /^npm http (?:fetch \S+ \d+|cache) (?:\S+@)?(https?:\/\/\S+)/.exec(line);
    if (http) {
      const url = http[1] as string;
      if (url.endsWith('.tgz')) this.enter('fetch', `downloading packages (${++this.packages})`, 0.3);
      else this.enter('resolve', 'resolving dependencies', 0.05);
    }
    const script = /^> (\S+)@\S+ (preinstall|install|postinstall)$/.exec(line);
    if (script) {
      this.scriptStarted = true;
      this.enter('script', `running ${script[1]}'s ${script[2]} script`, 0.5);
    }
    if (/Downloading libtensorflow/i.test(line)) {
      this.downloading = 'libtensorflow';
      this.enter('libtensorflow', 'downloading libtensorflow', 0.55);
    }
    if (/Building TensorFlow Node\.js bindings/i.test(line)) {
      this.downloading = 'the prebuilt binding';
      this.enter('binding', 'fetching the prebuilt binding (or building it)', 0.8);
    }
    const url = /\bhttps?:\/\/[^\s'"`)]+/.exec(line);
    if (url && !line.startsWith('npm http')) this.lastUrl = url[0];
    this.noteFailure(line);
  }

  /** The network failure seen, if the install failed because a host could not be reached. */
  blocked(): { stage: 'registry' | 'script'; what: string; host?: string; url?: string; code: string } | undefined {
    return this.failure;
  }

  private noteFailure(line: string): void {
    const code = NETWORK_ERROR.exec(line)?.[1];
    if (code === undefined) return;
    const named =
      /getaddrinfo \w+ ([^\s'"]+)/.exec(line)?.[1] ??
      /hostname: '([^']+)'/.exec(line)?.[1] ??
      hostOf(/request to (https?:\/\/\S+) failed/.exec(line)?.[1]);
    if (this.failure !== undefined) {
      // A later line may name the host the first one did not (Node prints `hostname: '…'` below the error).
      if (this.failure.host === undefined && named !== undefined) this.failure = { ...this.failure, host: named };
      const failedUrl = /request to (https?:\/\/\S+) failed/.exec(line)?.[1];
      if (this.failure.url === undefined && failedUrl !== undefined) this.failure = { ...this.failure, url: failedUrl };
      return;
    }
    const stage = this.scriptStarted ? 'script' : 'registry';
    const url = stage === 'script' ? this.lastUrl : /request to (https?:\/\/\S+) failed/.exec(line)?.[1];
    const host = named ?? hostOf(url);
    const what = stage === 'script' ? (this.downloading ?? 'a file') : 'the package';
    this.failure = { stage, what, code, ...(host !== undefined ? { host } : {}), ...(url !== undefined ? { url } : {}) };
  }

  /** Moves to phase `id` unless a later one has begun (npm interleaves metadata and tarball fetches); `fetch` reports each package. */
  private enter(id: InstallPhase['id'], message: string, fraction: number): void {
    const at = this.phase === undefined ? -1 : PHASE_ORDER.indexOf(this.phase);
    const to = PHASE_ORDER.indexOf(id);
    if (to < at || (to === at && id !== 'fetch')) return;
    this.phase = id;
    this.onPhase?.({ id, message, fraction });
  }
}

function hostOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

/** Stops npm and everything it started (its process group; on Windows its process tree). */
function stopProcessTree(pid: number | undefined): void {
  if (pid === undefined) return;
  if (process.platform === 'win32') {
    spawn('taskkill', ['/pid', String(pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true }).on('error', () => undefined);
    return;
  }
  const signal = (s: NodeJS.Signals): void => {
    try {
      process.kill(-pid, s);
    } catch {
      // Already gone.
    }
  };
  signal('SIGTERM');
  setTimeout(() => signal('SIGKILL'), KILL_GRACE_MS).unref();
}

function forwardLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (stream === null) return;
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (pending + chunk).split(/\r?\n|\r/);
    pending = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
  stream.on('end', () => {
    if (pending) onLine(pending);
  });
}

/** What the user reads when an install did not succeed: what happened, where, and how to go on. */
export function describeInstallFailure(outcome: Exclude<InstallOutcome, { kind: 'installed' }>, context: { readonly pkg: string; readonly spec: string; readonly prefix: string }): string {
  const manual = `npm install --prefix "${context.prefix}" ${context.spec}`;
  const keepWorking = 'Until then MSIF keeps running on its other backends (native, wasm or cpu).';
  if (outcome.kind === 'blocked') {
    const where = outcome.host ?? 'its download host';
    const cause = `${outcome.code}: ${outcome.code === 'ENOTFOUND' || outcome.code === 'EAI_AGAIN' ? 'the name does not resolve from this machine' : 'the connection failed'}`;
    const happened =
      outcome.stage === 'script'
        ? `${context.pkg} was not installed: its install script could not download ${outcome.what} from ${where} (${cause}).`
        : `${context.pkg} was not installed: npm could not reach the package registry at ${where} (${cause}).`;
    const how =
      outcome.stage === 'script'
        ? `To go on: allow ${where} or set a proxy (VS Code's http.proxy setting, or HTTPS_PROXY) and run this command again; or set TFJS_NODE_CDN_STORAGE to a mirror of ${where} and run \`${manual}\` yourself.`
        : `To go on: set a proxy or registry that works here (npm's proxy and registry settings, VS Code's http.proxy, or HTTPS_PROXY) and run this command again, or run \`${manual}\` yourself.`;
    return `${happened} ${how} ${keepWorking}`;
  }
  const last = outcome.log.filter((l) => l.trim() !== '' && !l.startsWith('npm http')).slice(-1)[0];
  return `${context.pkg} was not installed: ${outcome.reason}${last ? ` (last line: ${last.trim()})` : ''}. The full npm output is in "MSIF: Show log"; you can also run \`${manual}\` yourself. ${keepWorking}`;
}
