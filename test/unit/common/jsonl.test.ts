import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MsifError } from '../../../src/common/errors';
import { flattenNumeric, parseJsonlRecord, shapeText } from '../../../src/common/jsonl';
import type { ErrorLocation } from '../../../src/common/errors';

const loc = { file: 'data/train.jsonl', line: 7 };

/** Asserts that `fn` throws a `dataset` MsifError at `where` whose message matches `message`. */
function throwsAt(fn: () => unknown, where: ErrorLocation, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof MsifError);
    assert.equal(e.code, 'dataset');
    for (const [k, v] of Object.entries(where)) assert.equal(e.location[k as keyof ErrorLocation], v, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

describe('parseJsonlRecord', () => {
  it('parses x, y, id, text and image and flattens x and y row-major', () => {
    const line = '{"id": "train-00017", "x": [[0.0, 0.5], [1.0, 0.25]], "y": 3, "text": "a cat", "image": "img/17.png"}';
    const r = parseJsonlRecord(line, loc);
    assert.deepEqual(r.x, [[0, 0.5], [1, 0.25]]);
    assert.equal(r.y, 3);
    assert.deepEqual(r.flatX, { data: [0, 0.5, 1, 0.25], shape: [2, 2] });
    assert.deepEqual(r.flatY, { data: [3], shape: [] });
    assert.equal(r.id, 'train-00017');
    assert.equal(r.text, 'a cat');
    assert.equal(r.image, 'img/17.png');
  });

  it('leaves optional fields out, turns a numeric id into a string and ignores unknown fields', () => {
    const r = parseJsonlRecord('{"x": 2.5, "y": [1, 0], "extra": {"a": 1}}', loc);
    assert.deepEqual(r.flatX, { data: [2.5], shape: [] });
    assert.deepEqual(r.flatY, { data: [1, 0], shape: [2] });
    assert.equal('id' in r, false);
    assert.equal('text' in r, false);
    assert.equal(parseJsonlRecord('{"id": 42, "x": 1, "y": 0}', loc).id, '42');
  });

  it('names the file and the 1-based line of invalid JSON', () => {
    throwsAt(() => parseJsonlRecord('{"x": [1, 2', loc), { file: loc.file, line: 7 }, /^data\/train\.jsonl:7: not valid JSON/);
  });

  it('says that NaN and Infinity are not allowed when the line holds them bare', () => {
    for (const text of ['{"x": [NaN, 1], "y": 0}', '{"x": [1, -Infinity], "y": 0}', '{"x": 1, "y": Infinity}']) {
      throwsAt(() => parseJsonlRecord(text, loc), { line: 7 }, /NaN and Infinity are not allowed/);
    }
    // Inside a string they are just text: the line is broken for another reason.
    throwsAt(() => parseJsonlRecord('{"text": "NaN", "x": [1,', loc), { line: 7 }, /not valid JSON/);
  });

  it('rejects a line that is not an object', () => {
    throwsAt(() => parseJsonlRecord('[1, 2]', loc), { line: 7 }, /is an array.*expected a JSON object/);
  });

  it('names a missing x or y', () => {
    throwsAt(() => parseJsonlRecord('{"y": 1}', loc), { line: 7, field: 'x' }, /is missing/);
    throwsAt(() => parseJsonlRecord('{"x": [1]}', loc), { line: 7, field: 'y' }, /is missing/);
  });

  it('names the path of a non-numeric entry', () => {
    const x = JSON.stringify([[0, 0], [0, 0], [0, 0], [0, 'a'], [0, 0]]);
    throwsAt(() => parseJsonlRecord(`{"x": ${x}, "y": 1}`, loc), { field: 'x[3][1]' }, /is "a" \(expected a finite number\)/);
    throwsAt(() => parseJsonlRecord('{"x": [1, null], "y": 1}', loc), { field: 'x[1]' }, /is null/);
    throwsAt(() => parseJsonlRecord('{"x": [1], "y": "cat"}', loc), { field: 'y' }, /is "cat"/);
  });

  it('rejects numbers outside float32 range (1e999 parses as Infinity)', () => {
    throwsAt(() => parseJsonlRecord('{"x": [1, 1e999], "y": 1}', loc), { field: 'x[1]' }, /is Infinity/);
    throwsAt(() => parseJsonlRecord('{"x": [1e39], "y": 1}', loc), { field: 'x[0]' }, /float32/);
  });

  it('rejects a non-string id, text or image', () => {
    throwsAt(() => parseJsonlRecord('{"x": 1, "y": 1, "id": {}}', loc), { field: 'id' }, /expected a string/);
    throwsAt(() => parseJsonlRecord('{"x": 1, "y": 1, "text": 3}', loc), { field: 'text' });
    throwsAt(() => parseJsonlRecord('{"x": 1, "y": 1, "image": true}', loc), { field: 'image' });
  });
});

describe('flattenNumeric', () => {
  it('flattens a 3-d array row-major and reports its shape', () => {
    const v = [[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10], [11, 12]]];
    assert.deepEqual(flattenNumeric(v, 'x', loc), { data: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], shape: [2, 3, 2] });
  });

  it('accepts empty arrays', () => {
    assert.deepEqual(flattenNumeric([], 'x', loc), { data: [], shape: [0] });
    assert.deepEqual(flattenNumeric([[], []], 'x', loc), { data: [], shape: [2, 0] });
  });

  it('rejects ragged nesting, naming the first element that disagrees', () => {
    throwsAt(() => flattenNumeric([[1, 2], [3]], 'x', loc), { field: 'x[1]' }, /has length 1 .*ragged.*shape \[2, 2\]/);
    throwsAt(() => flattenNumeric([1, [2]], 'x', loc), { field: 'x[1]' }, /array where a number was expected/);
    throwsAt(() => flattenNumeric([[1], 2], 'x', loc), { field: 'x[1]' }, /number where an array was expected/);
    throwsAt(() => flattenNumeric([[], [1]], 'x', loc), { field: 'x[1]' }, /ragged/);
    throwsAt(() => flattenNumeric([[1, 2], 'ab'], 'x', loc), { field: 'x[1]' }, /is "ab"/);
  });

  it('rejects NaN and infinities given directly', () => {
    throwsAt(() => flattenNumeric([0, NaN], 'y', loc), { field: 'y[1]' }, /is NaN/);
    throwsAt(() => flattenNumeric(-Infinity, 'y', loc), { field: 'y' }, /is -Infinity/);
  });
});

describe('shapeText', () => {
  it('writes shapes as messages show them', () => {
    assert.equal(shapeText([28, 28, 1]), '[28, 28, 1]');
    assert.equal(shapeText([]), '[]');
  });
});
