/**
 * A minimal PNG encoder (8-bit greyscale, RGB or RGBA, no interlacing), enough to turn a
 * dataset's image input into a data URI for a hover. Follows the PNG specification
 * (ISO/IEC 15948): signature, IHDR, one zlib-compressed IDAT with filter type 0 (None)
 * on every scanline, IEND; each chunk closed by the CRC-32 of its type and data.
 */
import { deflateSync } from 'node:zlib';

/** Samples per pixel → PNG colour type. */
const COLOUR_TYPE: Record<number, number> = { 1: 0, 3: 2, 4: 6 };

const SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let crcTable: Uint32Array | undefined;

/** CRC-32 (ISO 3309, polynomial 0xEDB88320), as PNG chunks use it. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = ~crc >>> 0;
  for (const b of bytes) c = (crcTable[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return ~c >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/**
 * Encodes `pixels` (row-major, `channels` bytes per pixel, 0–255) as a PNG file.
 *
 * @throws RangeError for a size that does not match, or an unsupported channel count.
 */
export function encodePng(width: number, height: number, channels: 1 | 3 | 4, pixels: ArrayLike<number>): Buffer {
  const colourType = COLOUR_TYPE[channels];
  if (colourType === undefined) throw new RangeError(`unsupported channel count ${channels}`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`invalid image size ${width}x${height}`);
  }
  const stride = width * channels;
  if (pixels.length !== stride * height) {
    throw new RangeError(`expected ${stride * height} samples for ${width}x${height}x${channels}, got ${pixels.length}`);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = colourType;
  ihdr[10] = 0; // compression: deflate
  ihdr[11] = 0; // filter method 0
  ihdr[12] = 0; // no interlace
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (stride + 1);
    raw[row] = 0; // filter type None
    for (let i = 0; i < stride; i++) {
      const v = pixels[y * stride + i] as number;
      raw[row + 1 + i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
    }
  }
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}

/** `data:image/png;base64,…` for the image. */
export function pngDataUri(width: number, height: number, channels: 1 | 3 | 4, pixels: ArrayLike<number>): string {
  return `data:image/png;base64,${encodePng(width, height, channels, pixels).toString('base64')}`;
}

/**
 * Nearest-neighbour upscaling by an integer factor, so that a 14×14 image stays crisp in
 * a hover (Markdown images are scaled with smoothing).
 */
export function upscale(width: number, height: number, channels: number, pixels: ArrayLike<number>, factor: number): number[] {
  const f = Math.max(1, Math.floor(factor));
  const out = new Array<number>(width * f * height * f * channels);
  let o = 0;
  for (let y = 0; y < height * f; y++) {
    const sy = Math.floor(y / f);
    for (let x = 0; x < width * f; x++) {
      const s = (sy * width + Math.floor(x / f)) * channels;
      for (let c = 0; c < channels; c++) out[o++] = pixels[s + c] as number;
    }
  }
  return out;
}
