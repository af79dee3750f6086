/**
 * How a dataset example is shown: an image when its input is shaped like one
 * ([H, W], [H, W, 1] or [H, W, 3]), otherwise its caption or a short text of `x`; labels
 * with their class names where the dataset's captions name them. Pure.
 */
import type { FlatNumbers, JsonlRecord } from '../../common/jsonl';
import type { DatasetRole, ExampleView, ImageView } from '../../protocol/webviewProtocol';

/** Images are at most this many pixels on a side (larger inputs are shown as text). */
export const MAX_IMAGE_SIDE = 512;

/**
 * The input as an image, or undefined when it is not shaped like one. Values in [0, 1]
 * are scaled by 255, values in [0, 255] kept, anything else (negative values, a wider
 * range) stretched from its minimum to its maximum.
 */
export function imageFromInput(x: FlatNumbers): ImageView | undefined {
  const { shape, data } = x;
  let channels: 1 | 3;
  if (shape.length === 2) channels = 1;
  else if (shape.length === 3 && (shape[2] === 1 || shape[2] === 3)) channels = shape[2];
  else return undefined;
  const height = shape[0] as number;
  const width = shape[1] as number;
  if (height < 2 || width < 2 || height > MAX_IMAGE_SIDE || width > MAX_IMAGE_SIDE) return undefined;
  let min = Infinity;
  let max = -Infinity;
  for (const v of data) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  let scale: (v: number) => number;
  if (min >= 0 && max <= 1) scale = (v) => v * 255;
  else if (min >= 0 && max <= 255) scale = (v) => v;
  else {
    const span = max - min || 1;
    scale = (v) => ((v - min) / span) * 255;
  }
  const pixels = data.map((v) => Math.max(0, Math.min(255, Math.round(scale(v)))));
  return { width, height, channels, pixels };
}

/** `[0.1, 0.5, …]`: the first values of `x`, for inputs that are not images. */
export function inputPreview(x: FlatNumbers, maxChars = 80): string {
  const head = `[${x.data.slice(0, 32).map((v) => Number(v.toPrecision(3))).join(', ')}${x.data.length > 32 ? ', …' : ''}]`;
  const text = x.shape.length === 0 ? String(x.data[0]) : head;
  return text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text;
}

/** Class names by label, from the captions of records whose label is an integer. */
export function collectLabelNames(records: Iterable<Pick<JsonlRecord, 'flatY' | 'text'>>): Map<number, string> {
  const names = new Map<number, string>();
  for (const r of records) {
    if (r.text === undefined || r.flatY.data.length !== 1) continue;
    const y = r.flatY.data[0] as number;
    if (Number.isInteger(y) && !names.has(y)) names.set(y, r.text);
  }
  return names;
}

/** `4 · Coat`, `4`, or `[0.1, 0.2]` for a vector target. */
export function formatLabel(value: number | readonly number[] | undefined, names: ReadonlyMap<number, string>): string {
  if (value === undefined) return '?';
  if (typeof value !== 'number') {
    if (value.length === 1) return formatLabel(value[0], names);
    const text = `[${value.slice(0, 6).map((v) => Number(v.toPrecision(3))).join(', ')}${value.length > 6 ? ', …' : ''}]`;
    return text;
  }
  const name = Number.isInteger(value) ? names.get(value) : undefined;
  const shown = Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
  return name === undefined ? shown : `${shown} · ${name}`;
}

/** The view of one parsed record. */
export function exampleViewFromRecord(
  role: DatasetRole,
  index: number,
  line: number | undefined,
  record: JsonlRecord,
  names: ReadonlyMap<number, string>,
): ExampleView {
  const image = imageFromInput(record.flatX);
  const y = record.flatY.shape.length === 0 ? record.flatY.data[0] : record.flatY.data;
  return {
    role,
    index,
    id: record.id ?? String(index),
    ...(line !== undefined ? { line } : {}),
    ...(record.text !== undefined ? { text: record.text } : {}),
    label: formatLabel(y, names),
    ...(image ? { image } : { preview: inputPreview(record.flatX) }),
  };
}
