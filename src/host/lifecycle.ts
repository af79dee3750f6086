/**
 * Disposal helpers for the extension host, free of the `vscode` module so that the pure
 * host modules (and their unit tests) can use them. `vscode.Disposable` satisfies
 * {@link DisposableLike}, so VS Code objects go through `_register` unchanged.
 */

/** Anything with a `dispose()`; `vscode.Disposable` is one. */
export interface DisposableLike {
  dispose(): unknown;
}

/** Wraps a function as a disposable that runs it once. */
export function toDisposable(fn: () => unknown): DisposableLike {
  let done = false;
  return {
    dispose: () => {
      if (done) return;
      done = true;
      fn();
    },
  };
}

/**
 * Disposes every item, in reverse order of registration, even when some throw; rethrows
 * the first error afterwards.
 */
export function disposeAll(items: Iterable<DisposableLike>): void {
  let first: unknown;
  for (const item of [...items].reverse()) {
    try {
      item.dispose();
    } catch (e) {
      first ??= e;
    }
  }
  if (first !== undefined) throw first;
}

/**
 * The base class of every long-lived host object: it owns what it registers and disposes
 * it once, in reverse order. Registering on an already disposed owner disposes the item
 * at once (so a late listener cannot leak).
 */
export abstract class Disposable implements DisposableLike {
  private readonly _store: DisposableLike[] = [];
  private _isDisposed = false;

  protected get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Takes ownership of `item`; returns it. */
  protected _register<T extends DisposableLike>(item: T): T {
    if (this._isDisposed) {
      item.dispose();
    } else {
      this._store.push(item);
    }
    return item;
  }

  /**
   * The array VS Code's `onDid*(listener, thisArg, disposables)` form pushes into: what
   * lands here is owned by this object like what `_register` takes.
   */
  protected get _disposables(): DisposableLike[] {
    return this._store;
  }

  dispose(): void {
    if (this._isDisposed) return;
    this._isDisposed = true;
    const items = this._store.splice(0);
    disposeAll(items);
  }
}

/** A minimal typed event emitter, for pure modules that cannot use `vscode.EventEmitter`. */
export class Emitter<T> implements DisposableLike {
  private listeners: ((value: T) => void)[] = [];

  /** Subscribes; the returned disposable unsubscribes. */
  readonly event = (listener: (value: T) => void): DisposableLike => {
    this.listeners.push(listener);
    return toDisposable(() => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    });
  };

  fire(value: T): void {
    for (const l of [...this.listeners]) l(value);
  }

  dispose(): void {
    this.listeners = [];
  }
}
