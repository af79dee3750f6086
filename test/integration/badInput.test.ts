/**
 * Bad input through the built CLI: each broken file gives the contract's one-line error
 * naming the file (and line or field), a non-zero exit, and no report file.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTinyWorkspace, type TinyWorkspace } from '../unit/worker/tinyWorkspace';

const BIN = path.resolve(__dirname, '../../bin/msif.js');

describe('msif trace on bad input', () => {
  let ws: TinyWorkspace;
  before(async () => {
    ws = await createTinyWorkspace();
  });
  after(async () => {
    await ws.dispose();
  });

  /** Copies the workspace, breaks it with `mutate`, runs a trace, restores nothing (a copy). */
  async function traceBroken(mutate: (dir: string) => Promise<void>): Promise<{ status: number | null; stderr: string; out: string }> {
    const dir = `${ws.dir}-broken-${Math.random().toString(36).slice(2)}`;
    await fs.cp(ws.dir, dir, { recursive: true });
    await mutate(dir);
    const out = path.join(dir, 'report.json');
    const env = { ...process.env };
    delete env['MSIF_DEBUG'];
    const r = spawnSync(process.execPath, [BIN, 'trace', '--config', path.join(dir, 'msif.json'), '--test', '0', '--out', out], { encoding: 'utf8', env, timeout: 120_000 });
    const wrote = existsSync(out);
    await fs.rm(dir, { recursive: true, force: true });
    assert.equal(wrote, false, 'no report may be written on error');
    return { status: r.status, stderr: r.stderr, out };
  }

  function assertOneLine(stderr: string, ...patterns: RegExp[]): void {
    const lines = stderr.split('\n').filter((l) => l.startsWith('msif: '));
    assert.equal(lines.length, 1, `one error line expected, got:\n${stderr}`);
    for (const p of patterns) assert.match(lines[0] as string, p);
  }

  const editLine = async (file: string, index: number, edit: (line: string) => string): Promise<void> => {
    const lines = (await fs.readFile(file, 'utf8')).split('\n');
    lines[index] = edit(lines[index] as string);
    await fs.writeFile(file, lines.join('\n'));
  };

  test('a malformed JSON Lines record names the file and its line', async () => {
    const r = await traceBroken((d) => editLine(path.join(d, 'pretrain.jsonl'), 6, (l) => l.slice(0, -3)));
    assert.notEqual(r.status, 0);
    assertOneLine(r.stderr, /pretrain\.jsonl:7\b/);
  });

  test('a wrong x shape names the line and the expected shape', async () => {
    const r = await traceBroken((d) => editLine(path.join(d, 'finetune_train.jsonl'), 2, (l) => l.replace('"x":[', '"x":[0.5,')));
    assert.notEqual(r.status, 0);
    assertOneLine(r.stderr, /finetune_train\.jsonl:3\b/, /\[20\]/);
  });

  test('a NaN in x is rejected with its line', async () => {
    const r = await traceBroken((d) => editLine(path.join(d, 'finetune_test.jsonl'), 0, (l) => l.replace('"x":[', '"x":[NaN,')));
    assert.notEqual(r.status, 0);
    assertOneLine(r.stderr, /finetune_test\.jsonl:1\b/, /NaN/);
  });

  test('an unknown layer type names the model file and the layer', async () => {
    const r = await traceBroken(async (d) => {
      const f = path.join(d, 'finetune', 'model.json');
      await fs.writeFile(f, (await fs.readFile(f, 'utf8')).replace('"class_name":"Dense"', '"class_name":"LSTM"'));
    });
    assert.notEqual(r.status, 0);
    assertOneLine(r.stderr, /finetune[/\\]model\.json/, /unknown layer type 'LSTM'/);
  });

  test('an unknown loss names the field and the choices', async () => {
    const r = await traceBroken(async (d) => {
      const f = path.join(d, 'msif.json');
      const c = JSON.parse(await fs.readFile(f, 'utf8')) as { pretrain: { loss: string } };
      c.pretrain.loss = 'hinge';
      await fs.writeFile(f, JSON.stringify(c));
    });
    assert.notEqual(r.status, 0);
    assertOneLine(r.stderr, /msif\.json/, /pretrain\.loss/, /softmax_cross_entropy/);
  });

  test('a missing weights file is named', async () => {
    const r = await traceBroken((d) => fs.rm(path.join(d, 'pretrain', 'weights.bin')));
    assert.notEqual(r.status, 0);
    assertOneLine(r.stderr, /pretrain[/\\]weights\.bin/);
  });

  test('a sharedLayers name missing from one model names the field', async () => {
    const r = await traceBroken(async (d) => {
      const f = path.join(d, 'finetune', 'model.json');
      await fs.writeFile(f, (await fs.readFile(f, 'utf8')).replaceAll('emb_1', 'emb_other'));
    });
    assert.notEqual(r.status, 0);
    assertOneLine(r.stderr, /sharedLayers/, /emb_1/);
  });
});
