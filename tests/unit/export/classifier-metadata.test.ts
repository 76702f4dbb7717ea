import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  ClassifierMetadataError,
  PREPROCESSING_METADATA_KEY,
  buildResNetEncoder,
  classifierPreprocessing,
  exportClassifier,
  loadClassifier,
  readClassifierMetadata,
  type ClassifierLayer,
} from '../../../src/index.js';
import { onnx } from '../../../src/onnx/proto.js';
import { saveModel, serializeModel } from '../../../src/onnx/model-io.js';
import { radlearnVersion } from '../../../src/package-info.js';

const SIDE = 40;
let root = '';
let path = '';
const encoder = buildResNetEncoder({ widths: [8, 16], blocks: [1, 1], seed: 4 });

function layer(inDim: number, outDim: number, seed: number): ClassifierLayer {
  let s = seed;
  const next = () => ((s = (s * 48271) % 2147483647) / 2147483647) * 2 - 1;
  return { weight: Float32Array.from({ length: inDim * outDim }, next), bias: Float32Array.from({ length: outDim }, next), inDim, outDim };
}

const preprocessing = classifierPreprocessing(
  { size: SIDE, dtype: 'uint16', window: 'auto', fit: 'squarePad', filter: 'area', color: 'grey' },
  { mean: 0.5, std: 0.25 },
);

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'radlearn-export-meta-'));
  path = exportClassifier({
    encoder: encoder.model,
    layers: [layer(16, 2, 7)],
    labels: ['a', 'b'],
    out: join(root, 'classifier.onnx'),
    preprocessing,
    thresholds: { metric: 'f1', chosenOn: 'validation', perLabel: { a: 0.25, b: null } },
    configHash: '0123456789abcdef',
  }).path;
});

function withMetadata(edit: (props: Map<string, string>) => void): Uint8Array {
  const model = exportClassifier({
    encoder: encoder.model,
    layers: [layer(16, 2, 7)],
    labels: ['a', 'b'],
    out: join(root, 'm.onnx'),
    preprocessing,
  }).model;
  const props = new Map((model.metadataProps ?? []).map((p) => [p.key!, p.value!]));
  edit(props);
  model.metadataProps = [...props].map(([key, value]) => onnx.StringStringEntryProto.create({ key, value }));
  return serializeModel(model);
}

describe('classifier.onnx metadata and input shape', () => {
  it('fixes the image input to [batch, 1, H, W]: onnxruntime runs the trained size and refuses 20x20 with its own error', async () => {
    const session = await ort.InferenceSession.create(path);
    try {
      const n = 2;
      const ok = await session.run({ image: new ort.Tensor('float32', new Float32Array(n * SIDE * SIDE).fill(0.1), [n, 1, SIDE, SIDE]) });
      expect(ok.probabilities!.dims).toEqual([n, 2]);
      const wrong = session.run({ image: new ort.Tensor('float32', new Float32Array(20 * 20), [1, 1, 20, 20]) });
      await expect(wrong).rejects.toThrow(/[Gg]ot invalid dimensions for input: image/);
    } finally {
      await session.release();
    }
    // the encoder alone (symbolic H, W) runs 20x20: the refusal comes from the exported shape
    const bare = await ort.InferenceSession.create(serializeModel(encoder.model));
    await expect(bare.run({ image: new ort.Tensor('float32', new Float32Array(400), [1, 1, 20, 20]) })).resolves.toBeDefined();
    await bare.release();
  });

  it('loadClassifier reads labels, preprocessing, thresholds, version and config hash back, and predicts', async () => {
    const loaded = await loadClassifier(path);
    try {
      expect(loaded.labels).toEqual(['a', 'b']);
      expect(loaded.preprocessing).toEqual(preprocessing);
      expect(loaded.preprocessing).toMatchObject({
        height: SIDE,
        width: SIDE,
        channels: 1,
        scale: 65535,
        mean: [0.5],
        std: [0.25],
        fit: 'squarePad',
      });
      expect(loaded.preprocessing.windowDescription).toMatch(/VOI LUT.*Window Center\/Width.*0\.5th to 99\.5th percentile/);
      expect(loaded.thresholds).toEqual({ metric: 'f1', chosenOn: 'validation', perLabel: { a: 0.25, b: null } });
      expect(loaded.version).toBe(radlearnVersion());
      expect(loaded.configHash).toBe('0123456789abcdef');
      let s = 3;
      const images = Float32Array.from({ length: 3 * SIDE * SIDE }, () => ((s = (s * 48271) % 2147483647) / 2147483647) * 2 - 1);
      const direct = await ort.InferenceSession.create(path);
      const expected = (await direct.run({ image: new ort.Tensor('float32', images, [3, 1, SIDE, SIDE]) })).probabilities!
        .data as Float32Array;
      await direct.release();
      expect(Array.from(await loaded.predict(images))).toEqual(Array.from(expected));
      await expect(loaded.predict(new Float32Array(20 * 20))).rejects.toMatchObject({ code: 'ERR_SHAPE' });
    } finally {
      await loaded.release();
    }
  });

  it('refuses a model whose preprocessing metadata is missing or malformed with ERR_CLASSIFIER_METADATA naming the key and field', async () => {
    const cases: Array<[(p: Map<string, string>) => void, RegExp]> = [
      [(p) => p.delete(PREPROCESSING_METADATA_KEY), /no metadata radlearn\.preprocessing/],
      [(p) => p.set(PREPROCESSING_METADATA_KEY, '{not json'), /radlearn\.preprocessing is not valid JSON/],
      [
        (p) => p.set(PREPROCESSING_METADATA_KEY, JSON.stringify({ ...preprocessing, height: -3 })),
        /field height: expected a positive integer/,
      ],
      [(p) => p.set(PREPROCESSING_METADATA_KEY, JSON.stringify({ ...preprocessing, std: [0] })), /field std: expected/],
      [
        (p) => p.set(PREPROCESSING_METADATA_KEY, JSON.stringify({ ...preprocessing, scale: 255 })),
        /field scale: expected 65535 for uint16/,
      ],
      [(p) => p.set('radlearn.labels', '[]'), /radlearn\.labels: expected a non-empty JSON array/],
      [(p) => p.set('radlearn.thresholds', JSON.stringify({ metric: 'f1', chosenOn: 'validation', perLabel: { a: 'x' } })), /perLabel\.a/],
    ];
    for (const [edit, message] of cases) {
      const bytes = withMetadata(edit);
      let error: unknown;
      try {
        readClassifierMetadata(bytes, 'm.onnx');
      } catch (e) {
        error = e;
      }
      expect(error, String(message)).toBeInstanceOf(ClassifierMetadataError);
      expect((error as ClassifierMetadataError).code).toBe('ERR_CLASSIFIER_METADATA');
      expect((error as Error).message).toMatch(message);
    }
    const file = join(root, 'bare.onnx');
    saveModel(
      exportClassifier({ encoder: encoder.model, layers: [layer(16, 2, 7)], labels: ['a', 'b'], out: join(root, 'bare-src.onnx') }).model,
      file,
    );
    await expect(loadClassifier(file)).rejects.toMatchObject({ code: 'ERR_CLASSIFIER_METADATA' });
  });

  it('refuses preprocessing whose size contradicts a fixed encoder input', () => {
    const fixed = buildResNetEncoder({ widths: [8, 16], blocks: [1, 1], seed: 4 }).model;
    const dims = fixed.graph!.input![0]!.type!.tensorType!.shape!.dim!;
    dims[2] = onnx.TensorShapeProto.Dimension.create({ dimValue: 64 });
    expect(() =>
      exportClassifier({ encoder: fixed, layers: [layer(16, 2, 7)], labels: ['a', 'b'], out: join(root, 'f.onnx'), preprocessing }),
    ).toThrow(/dimension 2 is 64; the preprocessing gives 40/);
  });
});
