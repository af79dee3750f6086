/**
 * Data cleansing (Chen et al., 2020, §4.2): every retrained arm (nothing removed, the top
 * p% harmful removed, random removals of as many) with its test accuracy and loss and
 * their change against the baseline, as a table and as bars; the removed examples (a row
 * opens its line); the distribution of the scores that chose them; and a button that
 * writes the filtered pretraining set.
 */
import { OpenExampleCommand, WriteFilteredCommand } from '../../src/protocol/webviewProtocol';
import type { CleanseArmView, CleansePanelModel } from '../../src/protocol/webviewProtocol';
import type { PanelContext } from '../app';
import { button } from '../components/toolkit';
import { h, s } from '../render/dom';
import { caseName, formatTick } from '../render/format';
import { histogram } from '../render/histogram';
import { chunkedList, exampleRow } from '../render/rows';

const MORE_STEP = 25;

function pct(v: number | null): string {
  return v === null ? '—' : `${(100 * v).toFixed(2)}%`;
}

function signedPoints(v: number | null): string {
  return v === null ? '—' : `${v >= 0 ? '+' : ''}${(100 * v).toFixed(2)}`;
}

function signed(v: number): string {
  return `${v >= 0 ? '+' : ''}${v.toPrecision(3)}`;
}

/** The arms as a table: the accessible form of everything the bars show. */
function armsTable(model: CleansePanelModel): HTMLElement {
  const heldout = model.by === 'heldout';
  const scoring = heldout ? 'held-out' : 'test';
  const header = [
    'arm',
    'removed',
    'test accuracy',
    'Δ accuracy (points)',
    'test loss',
    'Δ loss',
    ...(heldout ? ['held-out loss'] : []),
    `Δ ${scoring} loss`,
    `predicted Δ ${scoring} loss`,
    '‖∇G‖, ‖∇F‖',
  ];
  const cls = (v: number): string => (v < 0 ? 'better' : v > 0 ? 'worse' : '');
  const rows = model.arms.map((a) =>
    h(
      'tr',
      { class: `arm ${a.kind}`, 'data-kind': a.kind, 'data-loss-change': String(a.lossChange), 'data-accuracy-change': a.accuracyChange === null ? '' : String(a.accuracyChange) },
      h('th', { scope: 'row' }, a.label),
      h('td', { class: 'num' }, String(a.removedCount)),
      h('td', { class: 'num' }, pct(a.testAccuracy)),
      h('td', { class: `num ${a.accuracyChange === null ? '' : cls(-a.accuracyChange)}` }, a.kind === 'baseline' ? '—' : signedPoints(a.accuracyChange)),
      h('td', { class: 'num' }, a.testLoss.toPrecision(4)),
      h('td', { class: `num ${cls(a.lossChange)}` }, a.kind === 'baseline' ? '—' : signed(a.lossChange)),
      ...(heldout ? [h('td', { class: 'num' }, a.heldoutLoss === undefined ? '—' : a.heldoutLoss.toPrecision(4))] : []),
      h('td', { class: 'num' }, a.kind === 'baseline' ? '—' : signed(a.scoringLossChange)),
      h('td', { class: 'num' }, a.kind === 'baseline' ? '—' : signed(a.predictedScoringLossChange)),
      h('td', { class: 'num' }, `${a.gradientNorms.pretrain.toExponential(1)}, ${a.gradientNorms.finetune.toExponential(1)}`),
    ),
  );
  const r = model.randomSummary;
  const summaryRow =
    r.lossChange !== null
      ? h(
          'tr',
          { class: 'arm random-mean', 'data-kind': 'random-mean' },
          h('th', { scope: 'row' }, `Random, mean ± sd (${r.lossChange.n})`),
          h('td', {}, ''),
          h('td', {}, ''),
          h('td', { class: 'num' }, r.accuracyChange ? `${signedPoints(r.accuracyChange.mean)} ± ${(100 * r.accuracyChange.sd).toFixed(2)}` : '—'),
          h('td', {}, ''),
          h('td', { class: 'num' }, `${signed(r.lossChange.mean)} ± ${r.lossChange.sd.toPrecision(2)}`),
          ...(heldout ? [h('td', {}, '')] : []),
          h('td', {}, ''),
          h('td', {}, ''),
          h('td', {}, ''),
        )
      : null;
  return h(
    'table',
    { class: 'arms-table', 'data-testid': 'arms-table' },
    h('caption', { class: 'sub' }, 'Each arm retrains both stages from the saved weights with the workspace\'s training settings; changes are against the baseline.'),
    h('thead', {}, h('tr', {}, ...header.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, ...rows, summaryRow),
  );
}

const W = 560;
const ROW = 22;
const M = { left: 230, right: 60, top: 8, bottom: 28 };

/** Horizontal bars of one change per arm (baseline left out), zero in the middle. */
function changeBars(arms: readonly CleanseArmView[], value: (a: CleanseArmView) => number | null, label: string, testId: string, better: 'lower' | 'higher'): SVGSVGElement | null {
  const shown = arms.filter((a) => a.kind !== 'baseline' && value(a) !== null);
  if (shown.length === 0) return null;
  const values = shown.map((a) => value(a) as number);
  const extent = Math.max(...values.map(Math.abs)) || 1;
  const H = M.top + M.bottom + ROW * shown.length;
  const plotW = W - M.left - M.right;
  const x = (v: number): number => M.left + ((v + extent) / (2 * extent)) * plotW;
  const svg = s('svg', {
    viewBox: `0 0 ${W} ${H}`,
    class: 'chart bars',
    role: 'img',
    'data-testid': testId,
    'aria-label': `${label}: ${shown.map((a, i) => `${a.label} ${formatTick(values[i] as number)}`).join('; ')}`,
  });
  svg.appendChild(s('title', {}, label));
  shown.forEach((a, i) => {
    const v = values[i] as number;
    const y = M.top + i * ROW;
    const good = better === 'lower' ? v < 0 : v > 0;
    const bar = s('rect', {
      x: Math.min(x(0), x(v)),
      y: y + 4,
      width: Math.max(1, Math.abs(x(v) - x(0))),
      height: ROW - 8,
      class: `bar ${a.kind === 'cleansed' ? 'cleansed' : 'random'} ${good ? 'good' : 'bad'}`,
    });
    bar.appendChild(s('title', {}, `${a.label}: ${formatTick(v)}`));
    svg.appendChild(bar);
    svg.appendChild(s('text', { x: M.left - 8, y: y + ROW / 2 + 4, class: 'tick', 'text-anchor': 'end' }, a.label));
    // Values in a column right of the plot, so that no bar hides them or the labels.
    svg.appendChild(s('text', { x: W - 4, y: y + ROW / 2 + 4, class: 'tick', 'text-anchor': 'end' }, `${v > 0 ? '+' : ''}${formatTick(v)}`));
  });
  const bottom = M.top + ROW * shown.length;
  svg.appendChild(s('line', { x1: x(0), x2: x(0), y1: M.top, y2: bottom, class: 'axis' }));
  svg.appendChild(s('text', { x: M.left + plotW / 2, y: H - 6, class: 'axis-label', 'text-anchor': 'middle' }, `${label} (${better} is better)`));
  return svg;
}

export function cleansePanel(model: CleansePanelModel, ctx: PanelContext): HTMLElement {
  const open = (index: number): void => ctx.host.command(OpenExampleCommand, { role: 'pretrain', index });
  const scoring =
    model.by === 'heldout'
      ? `scored on ${model.scoringCount} held-out finetuning examples (${Math.round(100 * (model.heldoutFraction ?? 0))}%, left out of every arm's finetuning)`
      : `scored on the ${model.scoringCount} test points (the test numbers of the cleansed arm are optimistic)`;
  const removedNote =
    model.removedCount < model.requestedCount ? ` (${model.requestedCount} asked for; only ${model.removedCount} have a positive score)` : '';
  const lossBars = changeBars(model.arms, (a) => a.lossChange, 'Change of the test loss', 'loss-bars', 'lower');
  const accBars = changeBars(model.arms, (a) => (a.accuracyChange === null ? null : 100 * a.accuracyChange), 'Change of the test accuracy (points)', 'accuracy-bars', 'higher');
  return h(
    'div',
    { class: 'cleanse' },
    h(
      'header',
      {},
      h('h1', {}, `Cleansing ${model.percent}% of the pretraining data`),
      h(
        'p',
        { class: 'sub' },
        `${model.configLabel} · ${caseName(model.case)} · removed ${model.removedCount} of ${model.pretrainCount}${removedNote} · ${scoring} · finetuning on ${model.finetuneTrainCount} · ${model.backend}, ${model.seconds.toFixed(1)} s`,
      ),
      h(
        'div',
        { class: 'actions' },
        button('Write filtered dataset…', () => ctx.host.command(WriteFilteredCommand, undefined), {
          testId: 'write-filtered',
          title: 'Write the pretraining set without the removed examples to a new JSON Lines file',
        }),
      ),
    ),
    h('p', { class: 'summary', 'data-testid': 'cleanse-summary' }, model.summary),
    model.warnings.length > 0 ? h('ul', { class: 'warnings', role: 'alert' }, ...model.warnings.map((w) => h('li', {}, w))) : null,
    h('section', { class: 'arms' }, h('h2', {}, 'Arms'), armsTable(model), h('div', { class: 'bars-box' }, lossBars, accBars)),
    h(
      'section',
      { class: 'removed' },
      h('h2', {}, 'Removed examples ', h('span', { class: 'hint' }, 'most harmful first; Enter opens the line')),
      chunkedList({
        testId: 'removed-list',
        label: 'Removed pretraining examples',
        total: model.removed.length,
        shown: Math.max(Math.min(MORE_STEP, model.removed.length), Number(ctx.ui['removedShown'] ?? 0)),
        step: MORE_STEP,
        emptyText: 'Nothing was removed.',
        onShownChange: (n) => ctx.setUi('removedShown', n),
        render: async (from, to) => {
          const rows = model.removed.slice(from, to);
          await ctx.examples.ensure('pretrain', rows.map((r) => r.index)).catch(() => undefined);
          return rows.map((r, k) => exampleRow({ index: r.index, score: r.score, rank: from + k + 1 }, ctx.examples.get('pretrain', r.index), open));
        },
      }),
    ),
    h(
      'section',
      { class: 'distribution' },
      h('h2', {}, 'Scores that chose the removal'),
      histogram(model.histogram, 'cleanse-score-histogram'),
    ),
  );
}
