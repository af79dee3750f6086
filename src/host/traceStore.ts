/**
 * What the host knows about each workspace config's traces: the finished traces (newest
 * per test selection and case), the test points seen with their labels and predictions,
 * and which are misclassified. Feeds the tree, the CodeLens and the quick picks. Pure.
 */
import type { EmbeddingCase } from '../common/workspaceConfig';
import type { TestPointSummary, TraceReport } from '../protocol/report';
import { ranksDescending } from './analysis/scoreStats';
import { Emitter } from './lifecycle';
import { isMisclassified } from './panels/panelModels';

export interface TraceEntry {
  /** The cache key of the result. */
  readonly key: string;
  readonly configPath: string;
  /** The worker's test selection: an index, an id, `all` or `misclassified`. */
  readonly selection: string;
  readonly case: EmbeddingCase;
  readonly report: TraceReport;
  /** Order of completion (larger: newer). */
  readonly sequence: number;
}

interface ConfigTraces {
  /** By `selection\0case`, newest last. */
  readonly traces: Map<string, TraceEntry>;
  readonly testPoints: Map<number, TestPointSummary>;
  /** All misclassified test points, once known (a misclassified trace or an evaluation). */
  misclassified?: TestPointSummary[];
  /** How many test points the dataset has, once known. */
  testCount?: number;
  latest?: TraceEntry;
}

/** Traces kept per config (older ones stay in the result cache). */
export const MAX_TRACES_PER_CONFIG = 50;

export class TraceStore {
  private readonly configs = new Map<string, ConfigTraces>();
  private readonly ranks = new WeakMap<TraceReport, Int32Array>();
  private sequence = 0;
  private readonly changed = new Emitter<string>();
  /** Fires with the config path whose traces changed. */
  readonly onDidChange = this.changed.event;

  private of(configPath: string): ConfigTraces {
    let c = this.configs.get(configPath);
    if (!c) {
      c = { traces: new Map(), testPoints: new Map() };
      this.configs.set(configPath, c);
    }
    return c;
  }

  /** Records a finished trace; it becomes the config's latest. */
  add(entry: Omit<TraceEntry, 'sequence'>): TraceEntry {
    const c = this.of(entry.configPath);
    const full: TraceEntry = { ...entry, sequence: ++this.sequence };
    const id = `${entry.selection}\0${entry.case}`;
    c.traces.delete(id);
    c.traces.set(id, full);
    while (c.traces.size > MAX_TRACES_PER_CONFIG) c.traces.delete(c.traces.keys().next().value as string);
    c.latest = full;
    for (const t of entry.report.test) c.testPoints.set(t.index, t);
    if (entry.selection === 'misclassified') c.misclassified = [...entry.report.test].sort((a, b) => a.index - b.index);
    if (entry.selection === 'all') {
      c.testCount = entry.report.test.length;
      c.misclassified = entry.report.test.filter(isMisclassified);
    }
    this.changed.fire(entry.configPath);
    return full;
  }

  /** Records an evaluation of every test point. */
  setEvaluation(configPath: string, points: readonly TestPointSummary[]): void {
    const c = this.of(configPath);
    for (const t of points) c.testPoints.set(t.index, t);
    c.testCount = points.length;
    c.misclassified = points.filter(isMisclassified);
    this.changed.fire(configPath);
  }

  /** The config's most recent trace. */
  latest(configPath: string): TraceEntry | undefined {
    return this.configs.get(configPath)?.latest;
  }

  /** The newest trace of `selection` (any case unless given). */
  find(configPath: string, selection: string, kase?: EmbeddingCase): TraceEntry | undefined {
    const c = this.configs.get(configPath);
    if (!c) return undefined;
    let best: TraceEntry | undefined;
    for (const t of c.traces.values()) {
      if (t.selection === selection && (kase === undefined || t.case === kase) && (!best || t.sequence > best.sequence)) best = t;
    }
    return best;
  }

  /** The newest trace of one test point, selected by index or id. */
  findForTestPoint(configPath: string, point: Pick<TestPointSummary, 'index' | 'id'>): TraceEntry | undefined {
    const a = this.find(configPath, String(point.index));
    const b = this.find(configPath, point.id);
    if (!a) return b;
    if (!b) return a;
    return a.sequence > b.sequence ? a : b;
  }

  /** Every kept trace of the config, newest first. */
  traces(configPath: string): TraceEntry[] {
    return [...(this.configs.get(configPath)?.traces.values() ?? [])].sort((a, b) => b.sequence - a.sequence);
  }

  /** The test points seen so far: misclassified first, then by index. */
  testPoints(configPath: string): TestPointSummary[] {
    const points = [...(this.configs.get(configPath)?.testPoints.values() ?? [])];
    return points.sort((a, b) => Number(isMisclassified(b)) - Number(isMisclassified(a)) || a.index - b.index);
  }

  /** Every misclassified test point, or undefined when not known yet. */
  misclassified(configPath: string): TestPointSummary[] | undefined {
    return this.configs.get(configPath)?.misclassified;
  }

  testCount(configPath: string): number | undefined {
    return this.configs.get(configPath)?.testCount;
  }

  /** Ranks by score, descending (1 = most harmful), computed once per report. */
  ranksOf(report: TraceReport): Int32Array {
    let r = this.ranks.get(report);
    if (!r) {
      r = ranksDescending(report.scores);
      this.ranks.set(report, r);
    }
    return r;
  }

  /** Forgets a config's traces (its files changed, or it was deleted). */
  forget(configPath: string): void {
    if (this.configs.delete(configPath)) this.changed.fire(configPath);
  }

  configPaths(): string[] {
    return [...this.configs.keys()];
  }

  dispose(): void {
    this.changed.dispose();
  }
}
