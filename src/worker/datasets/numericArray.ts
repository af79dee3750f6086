/**
 * An n-dimensional array read from an IDX or NumPy file, kept in its compact on-disk
 * element type, and the decoding of its elements shared by both formats.
 */
import { MsifError } from '../../common/errors';
import { shapeText } from '../../common/jsonl';
import { product } from './dataset';

/** Element types that IDX and NumPy files may hold. */
export type ElementType =
  | 'bool'
  | 'uint8'
  | 'int8'
  | 'uint16'
  | 'int16'
  | 'uint32'
  | 'int32'
  | 'uint64'
  | 'int64'
  | 'float32'
  | 'float64';

/** The elements of a {@link NumericArray}, row-major. 64-bit integers are held as float64. */
export type NumericData =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array;

/** An array from a file; the first axis counts the examples. */
export interface NumericArray {
  /** The file it was read from. */
  readonly file: string;
  readonly shape: readonly number[];
  /** The element type in the file. */
  readonly type: ElementType;
  readonly data: NumericData;
}

/** Decodes a file's bytes (already gunzipped) into a {@link NumericArray}; throws MsifError. */
export type ArrayParser = (bytes: Uint8Array, file: string, field: string) => NumericArray;

type NumericArrayConstructor = {
  new (length: number): NumericData;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): NumericData;
};

interface ElementInfo {
  /** Bytes per element in the file. */
  readonly size: number;
  /** Reads one element; `le`: little-endian. */
  readonly read: (view: DataView, offset: number, le: boolean) => number;
  /** The typed array decoded elements go into (float64 for 64-bit integers). */
  readonly array: NumericArrayConstructor;
  /** True when `array` stores elements as the file does, so aligned little-endian data can be viewed in place. */
  readonly native: boolean;
}

const ELEMENTS: Record<ElementType, ElementInfo> = {
  bool: { size: 1, array: Uint8Array, native: true, read: (d, o) => d.getUint8(o) },
  uint8: { size: 1, array: Uint8Array, native: true, read: (d, o) => d.getUint8(o) },
  int8: { size: 1, array: Int8Array, native: true, read: (d, o) => d.getInt8(o) },
  uint16: { size: 2, array: Uint16Array, native: true, read: (d, o, le) => d.getUint16(o, le) },
  int16: { size: 2, array: Int16Array, native: true, read: (d, o, le) => d.getInt16(o, le) },
  uint32: { size: 4, array: Uint32Array, native: true, read: (d, o, le) => d.getUint32(o, le) },
  int32: { size: 4, array: Int32Array, native: true, read: (d, o, le) => d.getInt32(o, le) },
  uint64: { size: 8, array: Float64Array, native: false, read: (d, o, le) => Number(d.getBigUint64(o, le)) },
  int64: { size: 8, array: Float64Array, native: false, read: (d, o, le) => Number(d.getBigInt64(o, le)) },
  float32: { size: 4, array: Float32Array, native: true, read: (d, o, le) => d.getFloat32(o, le) },
  float64: { size: 8, array: Float64Array, native: true, read: (d, o, le) => d.getFloat64(o, le) },
};

/** True for the floating-point element types (the only ones that can hold NaN or ±Infinity). */
export function isFloatType(type: ElementType): boolean {
  return type === 'float32' || type === 'float64';
}

/**
 * The array of `shape` whose elements start at `bytes[offset]`. Little-endian data at an
 * aligned offset is viewed in place; anything else is decoded into a new array.
 *
 * @throws MsifError (`dataset`) when the file holds fewer or more bytes than `shape` needs.
 */
export function decodeArray(
  bytes: Uint8Array,
  offset: number,
  type: ElementType,
  shape: readonly number[],
  littleEndian: boolean,
  file: string,
  field: string,
): NumericArray {
  const info = ELEMENTS[type];
  const count = product(shape);
  const have = bytes.length - offset;
  if (have !== count * info.size) {
    throw new MsifError('dataset', `holds ${have} bytes of data but its header says ${type} ${shapeText(shape)}`, {
      file,
      field,
      expected: `${count * info.size} bytes (${count} × ${info.size})`,
    });
  }
  const at = bytes.byteOffset + offset;
  let data: NumericData;
  if (info.native && (littleEndian || info.size === 1) && at % info.size === 0) {
    data = new info.array(bytes.buffer, at, count);
  } else {
    data = new info.array(count);
    const dv = new DataView(bytes.buffer, at, count * info.size);
    for (let i = 0; i < count; i++) data[i] = info.read(dv, i * info.size, littleEndian);
  }
  return { file, shape, type, data };
}
