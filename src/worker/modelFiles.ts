/**
 * Reading and writing TensorFlow.js Layers models on disk (model.json + weight files)
 * without tfjs-node's file handler.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { MsifError } from '../common/errors';
import { Model, type ModelArtifacts } from '../engine/model/model';

/** Reads model.json and the weight files its manifest names, in manifest order. */
export async function readModelArtifacts(file: string, role: string): Promise<ModelArtifacts> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new MsifError('model', `cannot read the ${role} model: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      file,
      field: role,
      expected: 'a TensorFlow.js Layers model.json',
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new MsifError('model', `is not valid JSON: ${(e as Error).message}`, { file, expected: 'a TensorFlow.js Layers model.json' });
  }
  const manifest = (json as { weightsManifest?: unknown }).weightsManifest;
  if (!Array.isArray(manifest)) {
    throw new MsifError('model', 'has no weights manifest', { file, field: 'weightsManifest', expected: 'an array of {paths, weights}' });
  }
  const buffers: Buffer[] = [];
  for (const [gi, group] of manifest.entries()) {
    const paths = (group as { paths?: unknown }).paths;
    if (!Array.isArray(paths)) throw new MsifError('model', 'has no paths', { file, field: `weightsManifest[${gi}].paths`, expected: 'an array of weight file names' });
    for (const p of paths) {
      const wf = path.resolve(path.dirname(file), String(p));
      try {
        buffers.push(await fs.readFile(wf));
      } catch (e) {
        throw new MsifError('model', `weights file ${wf} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
          file,
          field: `weightsManifest[${gi}].paths`,
          expected: 'weight files next to model.json',
        });
      }
    }
  }
  const all = Buffer.concat(buffers);
  return { modelJson: json, weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer, file };
}

/** Loads a model from its model.json path. */
export async function loadModel(file: string, role: string): Promise<Model> {
  return Model.fromArtifacts(await readModelArtifacts(file, role));
}

/**
 * Writes the model's current weights over its files: one weight file (the manifest's first
 * path, or weights.bin) and model.json's manifest, each written to a temporary file and
 * renamed, so that a failure leaves the old model intact.
 */
export async function saveModelWeights(model: Model): Promise<void> {
  const file = model.file;
  const json = JSON.parse(await fs.readFile(file, 'utf8')) as { weightsManifest?: { paths?: string[] }[] };
  const binName = json.weightsManifest?.[0]?.paths?.[0] ?? 'weights.bin';
  const flat = model.flatParams();
  json.weightsManifest = [
    {
      paths: [binName],
      weights: model.paramSpecs.map((s) => ({ name: s.storedName ?? s.name, shape: [...s.shape], dtype: 'float32' })),
    } as { paths: string[] },
  ];
  const binPath = path.resolve(path.dirname(file), binName);
  await writeAtomically(binPath, Buffer.from(flat.buffer, flat.byteOffset, flat.byteLength));
  await writeAtomically(file, JSON.stringify(json));
}

async function writeAtomically(file: string, data: string | Buffer): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, data);
  await fs.rename(tmp, file);
}
