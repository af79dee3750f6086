/**
 * NumPy `.npy` files, versions 1.0, 2.0 and 3.0.
 *
 * ## Format
 *
 * The magic `\x93NUMPY`, a major and a minor version byte, the header length (uint16 LE in
 * version 1, uint32 LE in versions 2 and 3), then the header: a Python dict literal such as
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (60000, 28, 28), }` (latin-1, UTF-8 in
 * version 3), then the elements. See
 * https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html.
 */
import { MsifError } from '../../common/errors';
import { decodeArray } from './numericArray';
import type { ElementType, NumericArray } from './numericArray';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const NPY_TYPES: Readonly<Record<string, ElementType>> = {
  b1: 'bool',
  u1: 'uint8',
  i1: 'int8',
  u2: 'uint16',
  i2: 'int16',
  u4: 'uint32',
  i4: 'int32',
  u8: 'uint64',
  i8: 'int64',
  f4: 'float32',
  f8: 'float64',
};

/**
 * Parses the bytes of a `.npy` file (gunzipped). Only plain numeric and boolean dtypes in
 * C order are supported. `field` names the workspace field the file came from.
 *
 * @throws MsifError (`dataset`) for a bad magic number or version, an unreadable header,
 *   a structured or unsupported dtype, Fortran order, a 0-d array, or a data size that
 *   disagrees with the header.
 */
export function parseNpy(bytes: Uint8Array, file: string, field: string): NumericArray {
  const fail = (problem: string, expected: string): MsifError => new MsifError('dataset', problem, { file, field, expected });
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw fail('is not a NumPy .npy file (bad magic number)', 'a file written by numpy.save');
  }
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  let headerStart: number;
  let headerLength: number;
  if (major === 1) {
    headerStart = 10;
    headerLength = view.getUint16(8, true);
  } else if ((major === 2 || major === 3) && bytes.length >= 12) {
    headerStart = 12;
    headerLength = view.getUint32(8, true);
  } else {
    throw fail(`has unsupported .npy version ${major}.${bytes[7]}`, 'version 1.0, 2.0 or 3.0');
  }
  const dataStart = headerStart + headerLength;
  if (bytes.length < dataStart) throw fail('is truncated inside its header', 'a complete .npy file');
  const header = Buffer.from(bytes.buffer, bytes.byteOffset + headerStart, headerLength).toString(
    major === 3 ? 'utf8' : 'latin1',
  );

  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeField = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeField === undefined) {
    throw fail(
      `has a header that is not a plain array description: ${header.trim()}`,
      "'descr', 'fortran_order' and 'shape' with a simple dtype",
    );
  }
  const order = descr[0];
  const type = NPY_TYPES[descr.slice(1)];
  if (type === undefined || order === undefined || !'<>|='.includes(order)) {
    throw fail(`has unsupported dtype '${descr}'`, `one of ${Object.keys(NPY_TYPES).map((t) => `'<${t}'`).join(', ')}`);
  }
  if (fortran === 'True') {
    throw fail('is stored in Fortran (column-major) order', 'C order (save np.ascontiguousarray(a) instead)');
  }
  const dims = shapeField.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (dims.length === 0 || dims.some((d) => !/^\d+L?$/.test(d))) {
    throw fail(`has shape (${shapeField})`, 'an array with at least one axis (the examples)');
  }
  const shape = dims.map((d) => Number.parseInt(d, 10));
  return decodeArray(bytes, dataStart, type, shape, order !== '>', file, field);
}
