/** Views of dataset examples the webview has, and fetching the missing ones from the host. */
import { GetExamplesRequest, MAX_EXAMPLES_PER_REQUEST } from '../src/protocol/webviewProtocol';
import type { DatasetRole, ExampleView } from '../src/protocol/webviewProtocol';
import type { HostConnection } from './ipc';

export class ExampleCache {
  private readonly views = new Map<string, ExampleView>();

  constructor(
    private readonly host: HostConnection,
    initial: readonly ExampleView[] = [],
  ) {
    this.add(initial);
  }

  add(views: readonly ExampleView[]): void {
    for (const v of views) this.views.set(`${v.role}:${v.index}`, v);
  }

  get(role: DatasetRole, index: number): ExampleView | undefined {
    return this.views.get(`${role}:${index}`);
  }

  /** All views held (kept in the webview state so a reload needs no fetch). */
  all(): ExampleView[] {
    return [...this.views.values()];
  }

  /** Fetches the views of `indices` not held yet. */
  async ensure(role: DatasetRole, indices: readonly number[]): Promise<void> {
    const missing = [...new Set(indices)].filter((i) => !this.views.has(`${role}:${i}`));
    for (let k = 0; k < missing.length; k += MAX_EXAMPLES_PER_REQUEST) {
      const { examples } = await this.host.request(GetExamplesRequest, { role, indices: missing.slice(k, k + MAX_EXAMPLES_PER_REQUEST) });
      this.add(examples);
    }
  }
}
