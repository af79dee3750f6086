import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseJsonlRecord } from '../../../src/common/jsonl';
import { collectLabelNames, exampleViewFromRecord, formatLabel, imageFromInput, inputPreview } from '../../../src/host/data/exampleView';

const loc = { file: 'd.jsonl', line: 1 };

describe('imageFromInput', () => {
  test('[H, W, 1] in [0, 1] becomes greyscale bytes', () => {
    const img = imageFromInput({ shape: [2, 2, 1], data: [0, 0.5, 1, 0.25] });
    assert.deepEqual(img, { width: 2, height: 2, channels: 1, pixels: [0, 128, 255, 64] });
  });
  test('[H, W] counts as greyscale; [H, W, 3] as RGB; 0..255 values kept', () => {
    assert.equal(imageFromInput({ shape: [2, 3], data: [0, 1, 2, 3, 4, 5] })?.channels, 1);
    const rgb = imageFromInput({ shape: [2, 2, 3], data: [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 255] });
    assert.equal(rgb?.channels, 3);
    assert.equal(rgb?.width, 2);
    assert.deepEqual(rgb?.pixels.slice(0, 3), [0, 10, 20]);
  });
  test('other ranges are stretched from min to max', () => {
    assert.deepEqual(imageFromInput({ shape: [1 + 1, 1 + 1], data: [-1, 0, 1, 3] })?.pixels, [0, 64, 128, 255]);
  });
  test('vectors, scalars, 4 channels and tiny or huge images are not images', () => {
    assert.equal(imageFromInput({ shape: [10], data: Array(10).fill(0) }), undefined);
    assert.equal(imageFromInput({ shape: [], data: [1] }), undefined);
    assert.equal(imageFromInput({ shape: [2, 2, 4], data: Array(16).fill(0) }), undefined);
    assert.equal(imageFromInput({ shape: [1, 5, 1], data: Array(5).fill(0) }), undefined);
    assert.equal(imageFromInput({ shape: [600, 2], data: Array(1200).fill(0) }), undefined);
  });
});

describe('labels', () => {
  test('collectLabelNames keeps the first caption per integer label', () => {
    const records = ['{"x":1,"y":0,"text":"Coat"}', '{"x":1,"y":1,"text":"Shirt"}', '{"x":1,"y":0,"text":"Other"}', '{"x":1,"y":2}'].map((l) =>
      parseJsonlRecord(l, loc),
    );
    assert.deepEqual([...collectLabelNames(records)], [
      [0, 'Coat'],
      [1, 'Shirt'],
    ]);
  });
  test('formatLabel', () => {
    const names = new Map([[4, 'Coat']]);
    assert.equal(formatLabel(4, names), '4 · Coat');
    assert.equal(formatLabel(5, names), '5');
    assert.equal(formatLabel([4], names), '4 · Coat');
    assert.equal(formatLabel(0.123456, names), '0.1235');
    assert.equal(formatLabel([1, 2, 3, 4, 5, 6, 7], names), '[1, 2, 3, 4, 5, 6, …]');
    assert.equal(formatLabel(undefined, names), '?');
  });
});

describe('exampleViewFromRecord', () => {
  test('an image record', () => {
    const r = parseJsonlRecord('{"id":"pre-1","x":[[[0],[1]],[[1],[0]]],"y":2,"text":"Dress"}', loc);
    const v = exampleViewFromRecord('pretrain', 1, 2, r, new Map([[2, 'Dress']]));
    assert.deepEqual(v, {
      role: 'pretrain',
      index: 1,
      id: 'pre-1',
      line: 2,
      text: 'Dress',
      label: '2 · Dress',
      image: { width: 2, height: 2, channels: 1, pixels: [0, 255, 255, 0] },
    });
  });
  test('a vector record gets a text preview and its index as id', () => {
    const r = parseJsonlRecord('{"x":[0.123456,2,3],"y":1}', loc);
    const v = exampleViewFromRecord('test', 7, undefined, r, new Map());
    assert.equal(v.id, '7');
    assert.equal(v.preview, '[0.123, 2, 3]');
    assert.equal(v.image, undefined);
    assert.equal('line' in v, false);
  });
  test('inputPreview truncates long inputs', () => {
    assert.ok(inputPreview({ shape: [100], data: Array(100).fill(0.5) }, 30).endsWith('…'));
    assert.equal(inputPreview({ shape: [], data: [3] }), '3');
  });
});
