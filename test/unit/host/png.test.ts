import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inflateSync } from 'node:zlib';
import { crc32, encodePng, pngDataUri, upscale } from '../../../src/host/data/png';

/** Splits a PNG into chunks, checking each CRC. */
function chunks(png: Buffer): { type: string; data: Buffer }[] {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const out: { type: string; data: Buffer }[] = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    const type = png.toString('ascii', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    assert.equal(png.readUInt32BE(at + 8 + length), crc32(png.subarray(at + 4, at + 8 + length)), `CRC of ${type}`);
    out.push({ type, data });
    at += 12 + length;
  }
  return out;
}

describe('crc32', () => {
  test('matches the standard check value and the IEND chunk CRC', () => {
    // CRC-32 of "123456789" is 0xCBF43926 (the usual check value).
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
    // Every PNG ends with IEND and CRC ae 42 60 82.
    assert.equal(crc32(Buffer.from('IEND')), 0xae426082);
  });
});

describe('encodePng', () => {
  test('greyscale: IHDR fields, one IDAT whose scanlines are filter 0 + the bytes, IEND', () => {
    const pixels = [0, 64, 128, 255, 10, 20];
    const png = encodePng(3, 2, 1, pixels);
    const cs = chunks(png);
    assert.deepEqual(cs.map((c) => c.type), ['IHDR', 'IDAT', 'IEND']);
    const ihdr = cs[0]!.data;
    assert.equal(ihdr.readUInt32BE(0), 3);
    assert.equal(ihdr.readUInt32BE(4), 2);
    assert.deepEqual([...ihdr.subarray(8)], [8, 0, 0, 0, 0]);
    assert.deepEqual([...inflateSync(cs[1]!.data)], [0, 0, 64, 128, 0, 255, 10, 20]);
    assert.equal(cs[2]!.data.length, 0);
  });

  test('RGB: colour type 2; values are rounded and clamped to 0..255', () => {
    const png = encodePng(1, 1, 3, [-5, 127.6, 300]);
    const cs = chunks(png);
    assert.equal(cs[0]!.data[9], 2);
    assert.deepEqual([...inflateSync(cs[1]!.data)], [0, 0, 128, 255]);
  });

  test('rejects a pixel count that does not match and bad sizes', () => {
    assert.throws(() => encodePng(2, 2, 1, [1, 2, 3]), RangeError);
    assert.throws(() => encodePng(0, 2, 1, []), RangeError);
    assert.throws(() => encodePng(1, 1, 2 as 1, [1, 2]), RangeError);
  });

  test('pngDataUri is base64 of the file', () => {
    const uri = pngDataUri(1, 1, 1, [7]);
    assert.ok(uri.startsWith('data:image/png;base64,'));
    assert.deepEqual(Buffer.from(uri.slice('data:image/png;base64,'.length), 'base64'), encodePng(1, 1, 1, [7]));
  });
});

describe('upscale', () => {
  test('repeats each pixel factor×factor times', () => {
    assert.deepEqual(upscale(2, 1, 1, [1, 2], 2), [1, 1, 2, 2, 1, 1, 2, 2]);
    assert.deepEqual(upscale(1, 1, 3, [1, 2, 3], 2), [1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]);
    assert.deepEqual(upscale(1, 1, 1, [5], 0), [5]);
  });
});
