/**
 * The e2e tier's harness: a real VS Code (code-server 4.100.3, i.e. VS Code 1.100.3) on
 * 127.0.0.1 with THIS extension loaded from the repository root (the `extensionDevelopmentPath`
 * URL payload, after `npm run build`), driven by Debian's chromium through playwright-core.
 * Fully offline: the gallery is off (`EXTENSIONS_GALLERY='{}'`) and every browser request is
 * recorded so a test can assert that none left 127.0.0.1.
 *
 * Each session runs in its own temporary directory: code-server's config, user data,
 * extensions dir, XDG dirs, the chromium profile, and a COPY of the example workspace
 * (examples/fashion-mnist-small), so tests never modify the repository.
 * Screenshots and code-server's logs go to test-results/e2e/.
 *
 * Setup: `npm run setup:e2e` (scripts/setup-code-server.sh); recipe and pitfalls in
 * ../shared/notes/vscode-e2e.md. Environment:
 *   MSIF_E2E_WORKSPACE  workspace folder to copy instead of examples/fashion-mnist-small
 *   MSIF_E2E_CHROMIUM   browser executable (default /usr/bin/chromium)
 *   MSIF_E2E_KEEP=1     keep the temporary directories (their path is logged)
 *   MSIF_E2E_EXTENSION  load the extension from this folder instead of the repository root
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { Dirent } from 'node:fs';
import {
  cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync,
} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BrowserContext, FrameLocator, Locator, Page, Request } from 'playwright-core';

export const ROOT = path.resolve(__dirname, '../..');
const CODE_SERVER = path.join(ROOT, 'test/e2e/tools/node_modules/code-server');
const ENTRY = path.join(CODE_SERVER, 'out/node/entry.js');
/** Written by scripts/setup-code-server.sh when every step succeeded. */
const SETUP_STAMP = path.join(CODE_SERVER, '.msif-e2e-setup');
const CHROMIUM = process.env['MSIF_E2E_CHROMIUM'] ?? '/usr/bin/chromium';
export const RESULTS_DIR = path.join(ROOT, 'test-results/e2e');
export const EXAMPLE_WORKSPACE = path.join(ROOT, 'examples/fashion-mnist-small');
/** The extension under test: this repository (its package.json and dist/). */
const EXTENSION_PATH = path.resolve(process.env['MSIF_E2E_EXTENSION'] ?? ROOT);

/** User settings for a quiet, deterministic workbench that never reaches for the network. */
const SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'json.schemaDownload.enable': false,
  'git.enabled': false,
  'npm.autoDetect': 'off',
  'editor.codeLens': true,
  'window.restoreWindows': 'none',
};

/**
 * Fails with one actionable message when the e2e tier cannot run: the tier must fail, never
 * skip, on a machine that is not set up.
 */
export function checkE2eSetup(options: { readonly extension?: boolean } = {}): void {
  const missing: string[] = [];
  if (!existsSync(ENTRY)) missing.push('test/e2e/tools/node_modules/code-server (npm run setup:e2e installs it)');
  else if (!existsSync(SETUP_STAMP)) missing.push('the code-server setup (scripts/setup-code-server.sh has not completed)');
  if (!existsSync(CHROMIUM)) missing.push(`${CHROMIUM} (apt-get install -y chromium)`);
  if (!existsSync(path.join(ROOT, 'node_modules/playwright-core'))) missing.push('node_modules/playwright-core');
  if (missing.length > 0) {
    throw new Error(`e2e tests cannot run, missing: ${missing.join('; ')}. ` +
      'Run `npm run setup:e2e` (after apt-get install -y chromium libkrb5-dev ripgrep and npm ci --ignore-scripts).');
  }
  if (options.extension !== false && !existsSync(path.join(EXTENSION_PATH, 'dist/extension.js'))) {
    throw new Error('dist/extension.js missing: run `npm run build` (npm run test:e2e does) before the e2e tests.');
  }
}

/** The workspace the tests copy: $MSIF_E2E_WORKSPACE or examples/fashion-mnist-small. */
export function workspaceSource(): string {
  const dir = path.resolve(process.env['MSIF_E2E_WORKSPACE'] ?? EXAMPLE_WORKSPACE);
  if (!existsSync(path.join(dir, 'msif.json'))) {
    throw new Error(`no msif.json in ${dir}: the e2e tests trace the example workspace ` +
      '(examples/fashion-mnist-small, or set MSIF_E2E_WORKSPACE)');
  }
  return dir;
}

export interface SessionOptions {
  /** Prefix of this session's screenshots and log folder under test-results/e2e/. */
  readonly name: string;
  /** Folder copied as the workspace; default workspaceSource(). */
  readonly workspaceFrom?: string;
  /** Extra workbench URL payload entries, [key, absolute path on this machine]. */
  readonly payload?: readonly (readonly [string, string])[];
  /** Extra environment for code-server (the extension host and worker inherit it). */
  readonly env?: Readonly<Record<string, string>>;
  /** File the explorer must list before the workbench counts as ready. */
  readonly readyFile?: string;
  /** Load the extension (extensionDevelopmentPath = repo root); default true. */
  readonly loadExtension?: boolean;
  /**
   * Install this VSIX (code-server --install-extension) before the first start, as a user
   * installs the extension; usually with `loadExtension: false`.
   */
  readonly vsix?: string;
}

interface Server {
  readonly child: ChildProcess;
  readonly url: string;
  readonly output: () => string;
}

/** One code-server + chromium, with the workspace copy open. Close it in `after`. */
export class E2eSession {
  /** Browser requests for hosts other than 127.0.0.1; see {@link requestsThatLeftLoopback}. */
  private readonly nonLoopback: Request[] = [];
  /** Page errors and console errors of the workbench, for diagnosis. */
  readonly consoleErrors: string[] = [];
  private closed = false;

  private constructor(
    readonly name: string,
    readonly base: string,
    /** The workspace copy (absolute path); the folder VS Code has open. */
    readonly workspace: string,
    private readonly server: Server,
    readonly context: BrowserContext,
    readonly page: Page,
    /** The explorer entry that marks the workbench as ready (see {@link SessionOptions.readyFile}). */
    private readonly readyFile: string = 'msif.json',
  ) {}

  static async open(options: SessionOptions): Promise<E2eSession> {
    checkE2eSetup({ extension: options.loadExtension !== false && !options.vsix });
    const from = options.workspaceFrom ?? workspaceSource();
    const base = mkdtempSync(path.join(os.tmpdir(), 'msif-e2e-'));
    let server: Server | undefined;
    let context: BrowserContext | undefined;
    try {
      const dirs = prepareDirs(base, from);
      if (options.vsix) installVsix(base, options.vsix);
      server = await startCodeServer(base, dirs.workspace, options.env ?? {});
      context = await launchBrowser(base);
      const page = context.pages()[0] ?? (await context.newPage());
      const readyFile = options.readyFile ?? 'msif.json';
      const session = new E2eSession(options.name, base, dirs.workspace, server, context, page, readyFile);
      context.on('request', (r) => {
        const u = new URL(r.url());
        if (/^(https?|wss?):$/.test(u.protocol) && u.hostname !== '127.0.0.1') session.nonLoopback.push(r);
      });
      page.on('pageerror', (e) => session.consoleErrors.push(`pageerror: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error') session.consoleErrors.push(`console: ${m.text()}`);
      });
      const payload: [string, string][] = [];
      if (options.loadExtension !== false) payload.push(['extensionDevelopmentPath', EXTENSION_PATH]);
      for (const [k, v] of options.payload ?? []) payload.push([k, v]);
      const t0 = Date.now();
      await page.goto(workbenchUrl(server.url, dirs.workspace, payload));
      await session.waitForWorkbench();
      log(`${options.name}: workbench ready in ${Date.now() - t0} ms (${server.url}, ${base})`);
      return session;
    } catch (e) {
      await context?.close().catch(() => undefined);
      if (server) await stopProcessTree(server.child);
      if (!process.env['MSIF_E2E_KEEP']) rmSync(base, { recursive: true, force: true });
      throw e;
    }
  }

  /**
   * The browser requests that went (or tried to go) beyond 127.0.0.1; should be empty.
   * Webview resources (`https://*.vscode-resource.vscode-cdn.net/…`) do not count when the
   * webview's service worker answered them: they never reach the network.
   */
  async requestsThatLeftLoopback(): Promise<string[]> {
    const left: string[] = [];
    for (const r of this.nonLoopback) {
      const response = await Promise.race([r.response().catch(() => null), sleep(5000).then(() => null)]);
      if (!response?.fromServiceWorker()) left.push(r.url());
    }
    return left;
  }

  /** Waits until the workbench shows and its explorer lists the ready file. */
  private async waitForWorkbench(timeoutMs = 60_000): Promise<void> {
    await this.page.locator('.monaco-workbench').waitFor({ timeout: timeoutMs });
    await this.page.locator('.explorer-folders-view').getByText(this.readyFile, { exact: true }).first()
      .waitFor({ timeout: timeoutMs });
  }

  /**
   * Reloads the workbench page (the browser's reload: a new extension host, editors and
   * webview panels restored from the saved UI state, see {@link waitForSavedEditors}) and
   * waits until it is ready again. Returns the milliseconds it took.
   */
  async reload(timeoutMs = 120_000): Promise<number> {
    const t0 = Date.now();
    await this.page.reload({ timeout: timeoutMs });
    await this.waitForWorkbench(timeoutMs);
    log(`${this.name}: workbench reloaded in ${Date.now() - t0} ms`);
    return Date.now() - t0;
  }

  /**
   * The text an extension's log output channel (`createOutputChannel(name, {log: true})`)
   * has written so far, from every extension host of this session (a reload starts a new
   * one): VS Code writes it to user-data/logs/<time>/exthost<N>/<extension id>/<name>.log.
   */
  outputChannelLog(name = 'MSIF'): string {
    const logs = path.join(this.base, 'user-data/logs');
    const files: string[] = [];
    const walk = (dir: string, depth: number): void => {
      let entries: Dirent[];
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const p = path.join(dir, e.name);
        if (e.isDirectory() && depth < 4) walk(p, depth + 1);
        else if (e.isFile() && e.name === `${name}.log` && /[\\/]exthost\d*[\\/]/.test(p)) files.push(p);
      }
    };
    walk(logs, 0);
    return files.sort().map((f) => readFileSync(f, 'utf8')).join('\n');
  }

  /** The PID of the code-server process this session started. */
  get serverPid(): number {
    return this.server.child.pid ?? -1;
  }

  /** code-server's stdout and stderr so far. */
  serverOutput(): string {
    return this.server.output();
  }

  /** Saves a full-window screenshot to test-results/e2e/<session name>-<name>.png. */
  async screenshot(name: string): Promise<string> {
    mkdirSync(RESULTS_DIR, { recursive: true });
    const file = path.join(RESULTS_DIR, `${this.name}-${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /**
   * Saves a screenshot of one element (scrolled into view first; in a webview too) to
   * test-results/e2e/<session name>-<name>.png.
   */
  async elementScreenshot(element: Locator, name: string): Promise<string> {
    mkdirSync(RESULTS_DIR, { recursive: true });
    const file = path.join(RESULTS_DIR, `${this.name}-${name}.png`);
    await element.screenshot({ path: file });
    return file;
  }

  /** Stops the browser and code-server (and every process under it), keeps the logs. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.screenshot('99-final').catch(() => undefined);
    await this.context.close().catch(() => undefined);
    await stopProcessTree(this.server.child);
    const logs = path.join(RESULTS_DIR, 'logs', this.name);
    rmSync(logs, { recursive: true, force: true });
    mkdirSync(logs, { recursive: true });
    writeFileSync(path.join(logs, 'code-server.log'), this.server.output());
    writeFileSync(path.join(logs, 'browser-errors.log'), this.consoleErrors.join('\n'));
    const vscodeLogs = path.join(this.base, 'user-data/logs');
    if (existsSync(vscodeLogs)) cpSync(vscodeLogs, path.join(logs, 'vscode'), { recursive: true });
    if (process.env['MSIF_E2E_KEEP']) log(`${this.name}: kept ${this.base}`);
    else rmSync(this.base, { recursive: true, force: true });
  }
}

function log(message: string): void {
  process.stderr.write(`[e2e] ${message}\n`);
}

function prepareDirs(base: string, from: string): { workspace: string } {
  const userData = path.join(base, 'user-data');
  for (const d of ['user-data/User', 'extensions', 'xdg', 'chromium-profile']) mkdirSync(path.join(base, d), { recursive: true });
  writeFileSync(path.join(userData, 'User/settings.json'), JSON.stringify(SETTINGS, null, 2));
  writeFileSync(path.join(base, 'config.yaml'), 'auth: none\ncert: false\n');
  const workspace = path.join(base, 'workspace', path.basename(from));
  // A copy, so that traces, caches and edits never touch the repository. Caches left by
  // earlier runs stay behind: every session starts cold.
  cpSync(from, workspace, {
    recursive: true,
    filter: (src) => !/(^|[\\/])(\.msif-cache|node_modules|\.git)$/.test(src),
  });
  return { workspace };
}

function serverArgs(base: string): string[] {
  return ['--config', path.join(base, 'config.yaml'),
    '--user-data-dir', path.join(base, 'user-data'), '--extensions-dir', path.join(base, 'extensions')];
}

function serverEnv(base: string, env: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    // code-server's own state (coder.json, logs, caches) stays out of $HOME; no extension
    // gallery (open-vsx.org), so the workbench makes no request beyond 127.0.0.1.
    XDG_DATA_HOME: path.join(base, 'xdg'),
    XDG_CONFIG_HOME: path.join(base, 'xdg'),
    XDG_CACHE_HOME: path.join(base, 'xdg/cache'), // VS Code's device id
    EXTENSIONS_GALLERY: '{}',
    ...env,
  };
}

/**
 * Installs a VSIX into the session's extensions dir. Must run before code-server's first
 * start there: once extensions.json exists, later additions are not picked up.
 */
function installVsix(base: string, vsix: string): void {
  const r = spawnSync(process.execPath, [ENTRY, ...serverArgs(base), '--install-extension', path.resolve(vsix)],
    { encoding: 'utf8', env: serverEnv(base), timeout: 60_000 });
  if (r.status !== 0 || !/successfully installed/i.test(r.stdout)) {
    throw new Error(`code-server --install-extension ${vsix} failed (${r.status}): ${r.stdout}${r.stderr}`);
  }
}

async function startCodeServer(base: string, workspace: string, env: Readonly<Record<string, string>>): Promise<Server> {
  const child = spawn(process.execPath, [ENTRY, ...serverArgs(base),
    '--auth', 'none', '--bind-addr', '127.0.0.1:0',
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
    '--disable-getting-started-override', '--ignore-last-opened', workspace,
  ], { stdio: ['ignore', 'pipe', 'pipe'], env: serverEnv(base, env) });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`code-server did not start within 30 s:\n${output}`)), 30_000);
    const onData = (buf: Buffer): void => {
      output += buf.toString();
      const m = /HTTP server listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(output);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`code-server exited with ${code}:\n${output}`));
    });
  });
  return { child, url, output: () => output };
}

/** Workbench URL for `folder`; payload values are absolute server paths (made vscode-remote URIs). */
function workbenchUrl(serverUrl: string, folder: string, payload: readonly (readonly [string, string])[]): string {
  const host = new URL(serverUrl).host;
  let url = `${serverUrl}/?folder=${encodeURIComponent(folder)}`;
  if (payload.length > 0) {
    const entries = payload.map(([k, v]) => [k, `vscode-remote://${host}${v}`]);
    url += `&payload=${encodeURIComponent(JSON.stringify(entries))}`;
  }
  return url;
}

async function launchBrowser(base: string): Promise<BrowserContext> {
  // Loaded here, so that a missing playwright-core gets checkE2eSetup's message, not a stack.
  const { chromium } = await import('playwright-core');
  // launchPersistentContext: Playwright rejects --user-data-dir in launch() args.
  return chromium.launchPersistentContext(path.join(base, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    // Chromium's crash reporter writes under $XDG_CONFIG_HOME: keep it in the session dir.
    env: { ...process.env, XDG_CONFIG_HOME: path.join(base, 'xdg'), XDG_CACHE_HOME: path.join(base, 'xdg/cache') },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// ---------------------------------------------------------------------------------------
// Processes

export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly cmdline: string;
}

function readProcesses(): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      out.push({ pid: Number(entry), ppid, cmdline });
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

/** Every living process below `root` (children, grandchildren, …). */
export function descendants(root: number): ProcessInfo[] {
  const all = readProcesses();
  const found: ProcessInfo[] = [];
  let frontier = new Set([root]);
  while (frontier.size > 0) {
    const next = new Set<number>();
    for (const p of all) {
      if (frontier.has(p.ppid)) {
        found.push(p);
        next.add(p.pid);
      }
    }
    frontier = next;
  }
  return found;
}

/** The engine worker(s) (`node …/dist/worker.js`) under this session's code-server. */
export function workerProcesses(session: E2eSession): ProcessInfo[] {
  return descendants(session.serverPid).filter((p) => /dist[\\/]worker\.js\b/.test(p.cmdline));
}

/** SIGTERM to code-server, then SIGKILL to it and anything it left behind (only its descendants). */
async function stopProcessTree(child: ChildProcess): Promise<void> {
  if (child.pid === undefined) return;
  const tree = descendants(child.pid);
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(5000)]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  await sleep(200);
  for (const p of tree) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

// ---------------------------------------------------------------------------------------
// Workbench helpers

const quickInput = (page: Page): Locator => page.locator('.quick-input-widget');
const quickInputRows = (page: Page): Locator => page.locator('.quick-input-widget .quick-input-list .monaco-list-row');

/** Opens the command palette with `>filter` typed and returns the listed commands' labels that contain `filter`. */
export async function listPaletteCommands(page: Page, filter: string, timeoutMs = 30_000): Promise<string[]> {
  // Right after start-up the palette may not know the extension's commands yet: retry.
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await page.keyboard.press('F1');
    const input = quickInput(page).locator('input');
    await input.waitFor();
    await input.fill(`>${filter}`);
    await quickInputRows(page).first().waitFor({ timeout: 10_000 });
    await sleep(300); // the list settles after filtering
    const labels = (await quickInputRows(page).locator('.label-name').allTextContents()).map((l) => l.trim());
    await page.keyboard.press('Escape');
    const matching = labels.filter((l) => l.toLowerCase().includes(filter.toLowerCase()));
    if (matching.length > 0 || Date.now() > deadline) return matching;
    await sleep(1000);
  }
}

/** Runs a command from the palette (F1) by its exact title, e.g. "MSIF: Show log". */
export async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = quickInput(page).locator('input');
  await input.waitFor();
  await input.fill(`>${title}`);
  const row = quickInputRows(page).filter({ has: page.locator('.label-name').getByText(title, { exact: true }) }).first();
  try {
    await row.waitFor({ timeout: 15_000 });
  } catch {
    const shown = await quickInputRows(page).locator('.label-name').allTextContents();
    await page.keyboard.press('Escape');
    throw new Error(`command "${title}" is not in the palette; it lists: ${JSON.stringify(shown)}`);
  }
  await row.click();
}

/** Waits for a quick pick and returns whether one showed within `timeoutMs`. */
export async function quickPickShown(page: Page, timeoutMs: number): Promise<boolean> {
  try {
    await quickInputRows(page).first().waitFor({ state: 'visible', timeout: timeoutMs });
    return true;
  } catch {
    return false;
  }
}

/**
 * Picks the quick-pick item whose text contains `text`: first among the rows shown, then by
 * typing `text` into the filter (the list is virtualised, only visible rows exist in the DOM).
 * Waits up to `timeoutMs` for the quick pick and again for the item.
 */
export async function pickQuickPickItem(page: Page, text: string, timeoutMs = 30_000): Promise<void> {
  await quickInputRows(page).first().waitFor({ timeout: timeoutMs });
  const row = quickInputRows(page).filter({ hasText: text }).first();
  if (!(await row.isVisible())) {
    await quickInput(page).locator('input').fill(text);
  }
  try {
    await row.waitFor({ timeout: timeoutMs }); // items may arrive later (e.g. once the worker found them)
  } catch {
    const shown = await quickInputRows(page).allInnerTexts();
    throw new Error(`no quick-pick item contains "${text}"; shown: ${JSON.stringify(shown)}`);
  }
  await row.click();
}

export interface NotificationQuery {
  readonly severity?: 'error' | 'warning' | 'info';
  readonly timeoutMs?: number;
}

/**
 * Waits for a notification toast whose message matches `text` and returns it, once its
 * fade-in animation is over (so that a screenshot shows it).
 */
export async function waitForNotification(page: Page, text: string | RegExp, query: NotificationQuery = {}): Promise<Locator> {
  let toast = page.locator('.notifications-toasts .notification-toast.notification-fade-in-done').filter({ hasText: text });
  if (query.severity) toast = toast.filter({ has: page.locator(`.notification-list-item-icon.codicon-${query.severity}`) });
  try {
    await toast.first().waitFor({ timeout: query.timeoutMs ?? 30_000 });
  } catch {
    const shown = await page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts();
    throw new Error(`no ${query.severity ?? ''} notification matching ${String(text)}; shown: ${JSON.stringify(shown)}`);
  }
  return toast.first();
}

/** Texts of the notification toasts shown now. */
export async function notificationTexts(page: Page): Promise<string[]> {
  return page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts();
}

/** Dismisses every notification toast ("Notifications: Clear All Notifications"). */
export async function clearNotifications(page: Page): Promise<void> {
  await runCommand(page, 'Notifications: Clear All Notifications');
}

/** Closes all editors, panels included ("View: Close All Editors"). */
export async function closeAllEditors(page: Page): Promise<void> {
  await runCommand(page, 'View: Close All Editors');
}

/**
 * The content frame of the webview panel whose document contains `[data-testid=<testId>]`
 * (e.g. 'trace-panel'). A webview is two iframes: `iframe.webview.ready` (VS Code's host
 * page, same origin) > `#active-frame` (the extension's HTML). Hidden panels keep their
 * iframes, so only visible ones are searched.
 */
export async function webviewFrame(page: Page, testId: string, timeoutMs = 60_000): Promise<FrameLocator> {
  const outer = page.locator('iframe.webview.ready').filter({ visible: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = await outer.count();
    for (let i = 0; i < n; i++) {
      const inner = outer.nth(i).contentFrame().locator('#active-frame').contentFrame();
      if ((await inner.locator(`[data-testid=${testId}]`).count().catch(() => 0)) > 0) return inner;
    }
    if (Date.now() > deadline) {
      throw new Error(`no visible webview shows [data-testid=${testId}] within ${timeoutMs} ms (${n} visible webviews)`);
    }
    await sleep(250);
  }
}

/**
 * Like {@link webviewFrame}, but the frame returned stays on the webview it found (located
 * by its iframe's unique `name`, the webview's id) rather than on the n-th visible webview,
 * which becomes another one when panels show, hide or get restored. With `has`, waits until
 * that webview also shows an element matching this selector.
 */
export async function pinnedWebviewFrame(
  page: Page,
  testId: string,
  options: { readonly has?: string; readonly timeoutMs?: number } = {},
): Promise<FrameLocator> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const outer = page.locator('iframe.webview.ready').filter({ visible: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = await outer.count();
    for (let i = 0; i < n; i++) {
      const name = await outer.nth(i).getAttribute('name', { timeout: 1000 }).catch(() => null);
      if (!name) continue;
      const inner = page.locator(`iframe.webview[name="${name}"]`).contentFrame().locator('#active-frame').contentFrame();
      if ((await inner.locator(`[data-testid=${testId}]`).count().catch(() => 0)) === 0) continue;
      if (options.has && (await inner.locator(options.has).count().catch(() => 0)) === 0) continue;
      return inner;
    }
    if (Date.now() > deadline) {
      throw new Error(`no visible webview shows [data-testid=${testId}]${options.has ? ` with ${options.has}` : ''} ` +
        `within ${timeoutMs} ms (${n} visible webviews)`);
    }
    await sleep(250);
  }
}

/**
 * The workbench's persisted UI state for this workspace: the value of `key` (e.g.
 * 'memento/workbench.parts.editor', the open editors and webview panels with their state;
 * an extension's id, its workspaceState) in the browser's IndexedDB
 * (`vscode-web-state-db-<workspace id>`, table ItemTable), or undefined if not saved yet.
 */
export async function savedWorkbenchState(page: Page, key: string): Promise<string | undefined> {
  // Browser code as text: this project's TypeScript has no DOM typings.
  const script = `(async (key) => {
    const open = (name) => new Promise((resolve, reject) => {
      const r = indexedDB.open(name);
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    for (const info of await indexedDB.databases()) {
      if (!info.name || !info.name.startsWith('vscode-web-state-db-') || info.name === 'vscode-web-state-db-global') continue;
      const db = await open(info.name);
      try {
        if (!db.objectStoreNames.contains('ItemTable')) continue;
        const value = await new Promise((resolve, reject) => {
          const r = db.transaction('ItemTable').objectStore('ItemTable').get(key);
          r.onsuccess = () => resolve(r.result);
          r.onerror = () => reject(r.error);
        });
        if (value !== undefined) return String(value);
      } finally {
        db.close();
      }
    }
    return undefined;
  })(${JSON.stringify(key)})`;
  return (await page.evaluate(script)) as string | undefined;
}

/**
 * Waits until the workbench has saved its open editors (webview panels and their webview
 * state, a JSON string, included) with every string of `needles` in them (or matching it). Needed before a browser reload:
 * VS Code in a browser saves its UI state every 5 s while the page has focus, and on unload
 * only optimistically (IndexedDB writes started in `pagehide` may never finish), so a
 * reload soon after opening a panel can lose it. ("Developer: Reload Window" awaits the
 * save; a browser reload does not.)
 */
export async function waitForSavedEditors(page: Page, needles: readonly (string | RegExp)[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const saved = (await savedWorkbenchState(page, 'memento/workbench.parts.editor')) ?? '';
    const missing = needles.filter((n) => (typeof n === 'string' ? !saved.includes(n) : !n.test(saved))).map(String);
    if (missing.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`the workbench did not save its editors with ${JSON.stringify(missing)} within ${timeoutMs} ms ` +
        `(saved: ${saved === '' ? 'nothing' : `${saved.length} characters`})`);
    }
    await sleep(500);
  }
}

/** Opens a workspace file by name with Quick Open (Ctrl+P). */
export async function openFile(page: Page, relativePath: string): Promise<void> {
  await page.keyboard.press('Control+P');
  const input = quickInput(page).locator('input');
  await input.waitFor();
  await input.fill(relativePath);
  const name = path.basename(relativePath);
  await quickInputRows(page).filter({ hasText: name }).first().waitFor({ timeout: 15_000 });
  await page.keyboard.press('Enter');
  await page.locator('.tabs-container .tab.active').filter({ hasText: name }).waitFor({ timeout: 15_000 });
}

/** Moves the cursor of the active editor to a 1-based line (Ctrl+G) and reveals it. */
export async function goToLine(page: Page, line: number): Promise<void> {
  await page.keyboard.press('Control+G');
  const input = quickInput(page).locator('input');
  await input.waitFor();
  await input.fill(`:${line}`);
  await sleep(200);
  await page.keyboard.press('Enter');
}

/** The CodeLens titles rendered in the visible part of the active editor. */
export async function visibleCodeLenses(page: Page): Promise<string[]> {
  const lenses = page.locator('.editor-group-container.active .monaco-editor .codelens-decoration a, ' +
    '.editor-group-container.active .monaco-editor .codelens-decoration span');
  return (await lenses.allInnerTexts()).map((t) => t.trim()).filter((t) => t !== '' && t !== '|');
}

// ---------------------------------------------------------------------------------------
// Extension-host suites

export interface SuiteResult {
  readonly name: string;
  readonly ok: boolean;
  readonly error?: string;
}

/**
 * Runs an extension-host test suite (what @vscode/test-electron runs) inside code-server:
 * the workbench URL payload carries extensionDevelopmentPath (the repo) and
 * extensionTestsPath (`suitePath`, a CommonJS file exporting `run(): Promise<void>`).
 *
 * Contract with the suite: it runs with the real `vscode` API and code-server's environment,
 * and writes its results as JSON to the file named by $MSIF_E2E_SUITE_RESULT, either
 * `[{name, ok, error?}]` or `{results: [{name, ok, error?}]}`. The file appearing ends the
 * wait; a suite that writes nothing fails after `timeoutMs`.
 */
export async function runExtensionHostSuite(
  suitePath: string,
  options: { readonly name?: string; readonly workspaceFrom?: string; readonly timeoutMs?: number } = {},
): Promise<SuiteResult[]> {
  const absolute = path.resolve(ROOT, suitePath);
  if (!existsSync(absolute)) {
    throw new Error(`extension-host suite ${path.relative(ROOT, absolute)} does not exist: build it ` +
      '(an esbuild entry in esbuild.mjs, run by npm run build)');
  }
  const resultDir = mkdtempSync(path.join(os.tmpdir(), 'msif-e2e-suite-'));
  const resultFile = path.join(resultDir, 'result.json');
  const session = await E2eSession.open({
    name: options.name ?? 'extension-host',
    workspaceFrom: options.workspaceFrom,
    payload: [['extensionTestsPath', absolute]],
    env: { MSIF_E2E_SUITE_RESULT: resultFile },
  });
  try {
    const timeoutMs = options.timeoutMs ?? 180_000;
    const deadline = Date.now() + timeoutMs;
    while (!existsSync(resultFile) && Date.now() < deadline) await sleep(250);
    await session.screenshot('suite-done').catch(() => undefined);
    if (!existsSync(resultFile)) {
      throw new Error(`the suite wrote no result to $MSIF_E2E_SUITE_RESULT within ${timeoutMs / 1000} s; ` +
        `see test-results/e2e/logs/${session.name}/`);
    }
    await sleep(200); // the file may still be being written
    const parsed: unknown = JSON.parse(readFileSync(resultFile, 'utf8'));
    const results = Array.isArray(parsed) ? parsed : (parsed as { results?: unknown }).results;
    if (!Array.isArray(results)) throw new Error(`unexpected suite result: ${JSON.stringify(parsed).slice(0, 500)}`);
    return results as SuiteResult[];
  } finally {
    await session.close();
    rmSync(resultDir, { recursive: true, force: true });
  }
}
