/**
 * Builders for dataset files in tests: JSON Lines text, IDX and NumPy bytes written byte
 * by byte, a fresh temporary folder, and an assertion for dataset errors.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after } from 'node:test';
import { MsifError } from '../../../src/common/errors';
import type { ExampleSource, HostBatch } from '../../../src/engine/data';

/** A temporary folder, removed when the test file ends. */
export function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'msif-datasets-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const IDX_TYPE = {
  uint8: [0x08, 1],
  int8: [0x09, 1],
  int16: [0x0b, 2],
  int32: [0x0c, 4],
  float32: [0x0d, 4],
  float64: [0x0e, 8],
} as const;

/** The bytes of an IDX file: magic 00 00, type byte, rank, big-endian dims and elements. */
export function idxBytes(type: keyof typeof IDX_TYPE, shape: readonly number[], values: readonly number[]): Buffer {
  const [code, size] = IDX_TYPE[type];
  const out = Buffer.alloc(4 + 4 * shape.length + size * values.length);
  out.set([0, 0, code, shape.length], 0);
  shape.forEach((d, i) => out.writeUInt32BE(d, 4 + 4 * i));
  const at = 4 + 4 * shape.length;
  values.forEach((v, i) => {
    const o = at + i * size;
    if (type === 'uint8') out.writeUInt8(v, o);
    else if (type === 'int8') out.writeInt8(v, o);
    else if (type === 'int16') out.writeInt16BE(v, o);
    else if (type === 'int32') out.writeInt32BE(v, o);
    else if (type === 'float32') out.writeFloatBE(v, o);
    else out.writeDoubleBE(v, o);
  });
  return out;
}

/** Writes one element of a NumPy dtype `descr` (e.g. `<f4`, `|u1`, `<i8`, `>f4`). */
function writeNpyElement(out: Buffer, descr: string, v: number, o: number): number {
  const le = descr[0] !== '>';
  switch (descr.slice(1)) {
    case 'u1':
    case 'b1':
      out.writeUInt8(v, o);
      return 1;
    case 'i4':
      if (le) out.writeInt32LE(v, o);
      else out.writeInt32BE(v, o);
      return 4;
    case 'i8':
      if (le) out.writeBigInt64LE(BigInt(v), o);
      else out.writeBigInt64BE(BigInt(v), o);
      return 8;
    case 'f4':
      if (le) out.writeFloatLE(v, o);
      else out.writeFloatBE(v, o);
      return 4;
    case 'f8':
      if (le) out.writeDoubleLE(v, o);
      else out.writeDoubleBE(v, o);
      return 8;
    default:
      throw new Error(`fixture cannot write ${descr}`);
  }
}

const NPY_SIZES: Readonly<Record<string, number>> = { u1: 1, b1: 1, i4: 4, i8: 8, f4: 4, f8: 8, f2: 2 };

/**
 * The bytes of a `.npy` file as numpy.save writes them: magic, version, header length,
 * a dict literal padded with spaces and a newline to a multiple of 64, then the data.
 */
export function npyBytes(
  descr: string,
  shape: readonly number[],
  values: readonly number[],
  opts: { fortranOrder?: boolean; version?: 1 | 2 } = {},
): Buffer {
  const version = opts.version ?? 1;
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': ${opts.fortranOrder ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const prefix = version === 1 ? 10 : 12;
  const padded = dict.padEnd(Math.ceil((prefix + dict.length + 1) / 64) * 64 - prefix - 1, ' ') + '\n';
  const size = NPY_SIZES[descr.slice(1)]!;
  const out = Buffer.alloc(prefix + padded.length + size * values.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0], 0);
  if (version === 1) out.writeUInt16LE(padded.length, 8);
  else out.writeUInt32LE(padded.length, 8);
  out.write(padded, prefix, 'latin1');
  let o = prefix + padded.length;
  for (const v of values) o += writeNpyElement(out, descr, v, o);
  return out;
}

/** What a dataset error must say. */
export interface ExpectedError {
  readonly file?: string;
  readonly line?: number;
  readonly field?: string;
  /** Must match the one-line message. */
  readonly message?: RegExp;
}

/** Asserts that `promise` rejects with a `dataset` MsifError at the given location. */
export async function rejectsWithDatasetError(promise: Promise<unknown>, expected: ExpectedError): Promise<MsifError> {
  let error: unknown;
  await assert.rejects(promise, (e: unknown) => {
    error = e;
    return true;
  });
  assert.ok(error instanceof MsifError, `expected an MsifError, got ${String(error)}`);
  assert.equal(error.code, 'dataset', error.message);
  assert.ok(!error.message.includes('\n'), 'the message is one line');
  if (expected.file !== undefined) assert.equal(error.location.file, expected.file, error.message);
  if (expected.line !== undefined) assert.equal(error.location.line, expected.line, error.message);
  if (expected.field !== undefined) assert.equal(error.location.field, expected.field, error.message);
  if (expected.message !== undefined) assert.match(error.message, expected.message);
  return error;
}

/** All batches of `source` (for `indices`, when given). */
export async function collect(source: ExampleSource, batchSize: number, indices?: readonly number[]): Promise<HostBatch[]> {
  const out: HostBatch[] = [];
  for await (const b of source.batches(batchSize, indices)) out.push(b);
  return out;
}

/** Rounds through float32, as the batches do. */
export function f32(values: readonly number[]): number[] {
  return Array.from(Float32Array.from(values));
}
