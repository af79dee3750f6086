/**
 * IDX files, as used by MNIST and Fashion-MNIST (`train-images-idx3-ubyte`, …).
 *
 * ## Format
 *
 * Two zero bytes, a type byte (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32,
 * 0x0E float64), a byte with the number of dimensions d, then d big-endian uint32 sizes and
 * the elements, big-endian, row-major. See http://yann.lecun.com/exdb/mnist/.
 */
import { MsifError } from '../../common/errors';
import { decodeArray } from './numericArray';
import type { ElementType, NumericArray } from './numericArray';

const IDX_TYPES: ReadonlyMap<number, ElementType> = new Map([
  [0x08, 'uint8'],
  [0x09, 'int8'],
  [0x0b, 'int16'],
  [0x0c, 'int32'],
  [0x0d, 'float32'],
  [0x0e, 'float64'],
]);

/**
 * Parses the bytes of an IDX file (gunzipped). `field` names the workspace field the
 * file came from, for messages.
 *
 * @throws MsifError (`dataset`) for a bad magic number, an unknown type byte, no
 *   dimensions, or a data size that disagrees with the header.
 */
export function parseIdx(bytes: Uint8Array, file: string, field: string): NumericArray {
  const expected = 'an IDX file (bytes 0x00 0x00, a type byte, the number of dimensions)';
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new MsifError('dataset', 'is not an IDX file (bad magic number)', { file, field, expected });
  }
  const type = IDX_TYPES.get(bytes[2]!);
  if (type === undefined) {
    throw new MsifError('dataset', `has unknown IDX type byte 0x${bytes[2]!.toString(16).padStart(2, '0')}`, {
      file,
      field,
      expected: 'one of 0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e',
    });
  }
  const dims = bytes[3]!;
  const dataStart = 4 + 4 * dims;
  if (dims === 0 || bytes.length < dataStart) {
    throw new MsifError('dataset', `has a bad IDX header (${dims} dimensions)`, { file, field, expected });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, dataStart);
  const shape = Array.from({ length: dims }, (_, i) => view.getUint32(4 + 4 * i, false));
  return decodeArray(bytes, dataStart, type, shape, false, file, field);
}
