import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecordScanner, recordAtLine, recordRanges } from '../../../src/common/lineRanges';
import type { RecordRange } from '../../../src/common/lineRanges';

const text = '{"x": 1}\r\n\r\n   \n{"x": 2}\n\t\n{"x": 3}';

describe('recordRanges', () => {
  it('skips blank lines but counts them, handles CRLF and a last line without newline', () => {
    const ranges = recordRanges(text);
    assert.deepEqual(
      ranges.map((r) => [r.index, r.line]),
      [
        [0, 1],
        [1, 4],
        [2, 6],
      ],
    );
    assert.deepEqual(
      ranges.map((r) => text.slice(r.start, r.end)),
      ['{"x": 1}', '{"x": 2}', '{"x": 3}'],
    );
  });

  it('gives byte offsets for bytes and code unit offsets for text', () => {
    const s = '{"t": "é"}\n{"t": "ü"}\n';
    const bytes = Buffer.from(s, 'utf8');
    const fromText = recordRanges(s);
    const fromBytes = recordRanges(bytes);
    assert.deepEqual(fromText.map((r) => [r.start, r.end]), [
      [0, 10],
      [11, 21],
    ]);
    assert.deepEqual(fromBytes.map((r) => [r.start, r.end]), [
      [0, 11],
      [12, 23],
    ]);
    assert.deepEqual(
      fromBytes.map((r) => bytes.subarray(r.start, r.end).toString('utf8')),
      fromText.map((r) => s.slice(r.start, r.end)),
    );
  });

  it('agrees between text and bytes on records and lines', () => {
    const strip = (rs: RecordRange[]): number[][] => rs.map((r) => [r.index, r.line]);
    assert.deepEqual(strip(recordRanges(Buffer.from(text))), strip(recordRanges(text)));
    assert.deepEqual(
      recordRanges(Buffer.from(text)).map((r) => [r.start, r.end]),
      recordRanges(text).map((r) => [r.start, r.end]),
    );
  });

  it('skips a byte-order mark', () => {
    assert.deepEqual(recordRanges('\ufeff{"x": 1}\n'), [{ index: 0, line: 1, start: 1, end: 9 }]);
    assert.deepEqual(recordRanges(Buffer.from('\ufeff{"x": 1}\n')), [{ index: 0, line: 1, start: 3, end: 11 }]);
  });

  it('finds no records in empty or blank content', () => {
    assert.deepEqual(recordRanges(''), []);
    assert.deepEqual(recordRanges('\n\r\n  \n'), []);
    assert.deepEqual(recordRanges(new Uint8Array(0)), []);
  });

  it('keeps a lone carriage return inside a record', () => {
    assert.deepEqual(recordRanges('a\rb\n'), [{ index: 0, line: 1, start: 0, end: 3 }]);
  });
});

describe('recordAtLine', () => {
  const ranges = recordRanges(text);
  it('finds the record on a line', () => {
    assert.equal(recordAtLine(ranges, 1)?.index, 0);
    assert.equal(recordAtLine(ranges, 4)?.index, 1);
    assert.equal(recordAtLine(ranges, 6)?.index, 2);
  });
  it('is undefined on blank lines and outside the file', () => {
    for (const line of [0, 2, 3, 5, 7, 100]) assert.equal(recordAtLine(ranges, line), undefined);
  });
});

describe('RecordScanner', () => {
  it('finds the same records whatever the chunk sizes', () => {
    const bytes = Buffer.from('\ufeff{"x": [1, 2]}\r\n\n{"t": "héllo"}\n  \n{"x": 3}\r\n{"x": 4}', 'utf8');
    const whole = recordRanges(bytes);
    const expected = whole.map((r) => ({ ...r, text: bytes.subarray(r.start, r.end).toString('utf8') }));
    for (let size = 1; size <= 9; size++) {
      const scanner = new RecordScanner();
      const found = [];
      for (let at = 0; at < bytes.length; at += size) found.push(...scanner.push(bytes.subarray(at, at + size)));
      found.push(...scanner.end());
      assert.deepEqual(
        found.map(({ index, line, start, end, bytes: b }) => ({ index, line, start, end, text: Buffer.from(b).toString('utf8') })),
        expected,
        `chunks of ${size} bytes`,
      );
    }
  });
});
