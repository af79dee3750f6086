/**
 * "MSIF: Install TensorFlow backend (tfjs-node / tfjs-node-gpu)": installs the package
 * matching the bundled TensorFlow.js into the extension's global storage with npm (a
 * cancellable notification shows npm's phases), then offers to restart the worker, which
 * looks there first (src/worker/backend.ts). A blocked download is explained in one
 * message: what, from which host, and how to go on.
 */
import * as vscode from 'vscode';
import { version as tfjsVersion } from '@tensorflow/tfjs/package.json';
import { isCancelled } from '../../common/errors';
import { backendPackagesDir } from '../../worker/backendPackages';
import type { TensorflowPackage } from '../../worker/backendPackages';
import { describeInstallFailure, findNpm, installBackendPackage } from '../backendInstall';
import type { InstallOutcome } from '../backendInstall';
import type { Ctx } from '../ctx';

/** What the command resolves to (for tests): how the install ended, or why it did not run. */
export type InstallBackendResult = InstallOutcome['kind'] | 'cancelled' | 'no-npm' | 'busy' | 'dismissed';

const CHOICES: readonly (vscode.QuickPickItem & { pkg: TensorflowPackage })[] = [
  { pkg: '@tensorflow/tfjs-node', label: '@tensorflow/tfjs-node', description: 'CPU', detail: 'Native TensorFlow on the CPU (libtensorflow). Linux, macOS, Windows.' },
  { pkg: '@tensorflow/tfjs-node-gpu', label: '@tensorflow/tfjs-node-gpu', description: 'GPU (CUDA)', detail: 'Native TensorFlow on an NVIDIA GPU. Linux with CUDA 11.2 and cuDNN 8.1.' },
];

let running = false;

export function installBackend(ctx: Ctx) {
  return async (which?: unknown): Promise<InstallBackendResult> => {
    if (running) {
      void vscode.window.showInformationMessage('MSIF: a TensorFlow backend is already being installed.');
      return 'busy';
    }
    const nodePath = ctx.settings.current.nodePath;
    const npm = findNpm(process.env, nodePath);
    if (!npm) {
      const where = nodePath ? `on PATH or next to msif.nodePath (${nodePath})` : 'on PATH';
      void vscode.window.showErrorMessage(
        `MSIF: installing the TensorFlow backend needs npm, and there is none ${where}; VS Code does not ship one. ` +
          'Install Node.js (it includes npm), or set msif.nodePath to a Node.js that has npm beside it, and run this command again. ' +
          'Until then MSIF keeps running on its other backends (native, wasm or cpu).',
      );
      return 'no-npm';
    }
    const picked =
      which === 'gpu' || which === 'cpu'
        ? CHOICES[which === 'gpu' ? 1 : 0]
        : await vscode.window.showQuickPick(CHOICES, { title: 'MSIF: Install TensorFlow backend', placeHolder: `Which package (version ${tfjsVersion}, to match MSIF's TensorFlow.js)?` });
    if (!picked) return 'dismissed';
    const pkg = picked.pkg;
    const spec = `${pkg}@${tfjsVersion}`;
    const prefix = backendPackagesDir(ctx.extension.globalStorageUri.fsPath);
    ctx.log.info(`installing ${spec} into ${prefix} with ${[npm.command, ...npm.args].join(' ')}`);

    running = true;
    let outcome: InstallOutcome;
    try {
      outcome = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `MSIF: Installing ${spec}`, cancellable: true },
        (progress, token) => {
          const controller = new AbortController();
          token.onCancellationRequested(() => controller.abort());
          let done = 0;
          return installBackendPackage({
            spec,
            packageName: pkg,
            prefix,
            npm,
            env: withProxy(process.env),
            signal: controller.signal,
            onPhase: (p) => {
              const increment = Math.max(0, p.fraction - done) * 100;
              done = Math.max(done, p.fraction);
              progress.report({ message: p.message, increment });
            },
            onLine: (line) => {
              if (line.trim() !== '') ctx.log.info(`[npm] ${line}`);
            },
          });
        },
      );
    } catch (e) {
      if (isCancelled(e)) {
        ctx.log.info(`installing ${spec}: cancelled`);
        void vscode.window.showInformationMessage(`MSIF: installing ${pkg} was cancelled. MSIF keeps running on its current backend.`);
        return 'cancelled';
      }
      ctx.showError(e, `Installing ${spec}`);
      return 'failed';
    } finally {
      running = false;
    }

    if (outcome.kind !== 'installed') {
      const message = describeInstallFailure(outcome, { pkg, spec, prefix });
      ctx.log.error(message);
      void vscode.window.showErrorMessage(`MSIF: ${message}`, 'Show log').then((choice) => {
        if (choice === 'Show log') ctx.log.show(true);
      });
      return outcome.kind;
    }

    ctx.log.info(`${spec} installed in ${outcome.packageDir}`);
    const restart = 'Restart worker';
    void vscode.window.showInformationMessage(`MSIF: ${spec} is installed. Restart the worker to run on it?`, restart).then(async (choice) => {
      if (choice !== restart) return;
      try {
        const info = await ctx.engine.restart();
        void vscode.window.showInformationMessage(`MSIF: the worker runs on ${info.backend} (${info.backendReason}).`);
      } catch (e) {
        ctx.showError(e, 'Restart worker');
      }
    });
    return 'installed';
  };
}

/** Hands VS Code's `http.proxy` to npm and the install script (both read HTTPS_PROXY) unless the environment sets one. */
function withProxy(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const proxy = vscode.workspace.getConfiguration('http').get<string>('proxy');
  if (!proxy || env['HTTPS_PROXY'] || env['https_proxy']) return env;
  return { ...env, HTTPS_PROXY: proxy, HTTP_PROXY: env['HTTP_PROXY'] ?? proxy };
}
