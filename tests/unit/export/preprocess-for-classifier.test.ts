import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { generatePhantom } from '../../../src/data/phantom/generate.js';
import { loadClassifier, loadManifest, preprocessForClassifier, train } from '../../../src/index.js';
import { radlearnVersion } from '../../../src/package-info.js';
import { configHash } from '../../../src/train/config-hash.js';
import { parseTrainConfig } from '../../../src/train/config.js';
import { loadImages } from '../../../src/train/features.js';

let root = '';
let manifest = '';

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'radlearn-export-pre-'));
  manifest = (await generatePhantom({ out: join(root, 'phantom'), n: 30, size: 72, seed: 5 })).manifestPath;
});

/** Non-square PNG (8-bit grey) and JPEG (RGB) files, to exercise padding, percentile windowing and RGB-to-grey. */
async function extraFiles(): Promise<string[]> {
  const w = 70,
    h = 50;
  const grey = Buffer.alloc(w * h);
  const rgb = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      grey[y * w + x] = (x * 3 + y * 2 + ((x * y) % 17)) % 256;
      rgb.set([(x * 5) % 256, (y * 7) % 256, (x * y) % 256], (y * w + x) * 3);
    }
  const png = join(root, 'grey.png');
  const jpeg = join(root, 'colour.jpg');
  await sharp(grey, { raw: { width: w, height: h, channels: 1 } })
    .png()
    .toFile(png);
  await sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 90 })
    .toFile(jpeg);
  return [png, jpeg];
}

describe('preprocessForClassifier and loadClassifier on a trained run', () => {
  it("replays training's pixels bit for bit from the metadata alone, and predicts what the exported model gives on them", async () => {
    const raw = {
      name: 'sup',
      mode: 'supervised' as const,
      runsDir: join(root, 'runs'),
      steps: 20,
      batchSize: 8,
      seed: 3,
      data: { manifest },
      image: { size: 48, mean: 0.4, std: 0.3 },
      head: { kind: 'mlp' as const, hidden: 8 },
      optim: { lr: 1e-2 },
      eval: { linearProbe: false, thresholdMetric: 'youden' as const },
    };
    const result = await train(raw).result;
    expect(result.classifierPath).toBeDefined();
    const config = parseTrainConfig(raw);
    const model = await loadClassifier(result.classifierPath!);
    try {
      expect(model.preprocessing).toMatchObject({
        inputs: ['dicom', 'png', 'jpeg'],
        inputName: 'image',
        height: 48,
        width: 48,
        channels: 1,
        fit: 'squarePad',
        window: 'auto',
        filter: 'area',
        color: 'grey',
        dtype: 'uint16',
        scale: 65535,
        mean: [0.4],
        std: [0.3],
      });
      expect(model.version).toBe(radlearnVersion());
      expect(model.configHash).toBe(configHash(config));
      expect(model.configHash).toMatch(/^[0-9a-f]{16}$/);

      // thresholds: the ones the run's report chose on validation for this head
      const report = JSON.parse(readFileSync(join(result.runDir, 'report.json'), 'utf8')) as {
        evaluations: Array<{ name: string; labelNames: string[]; perLabel: Array<{ threshold?: { threshold: number | null } }> }>;
      };
      const evaluation = report.evaluations.find((e) => e.name === 'mlp head (supervised)')!;
      expect(model.labels).toEqual(evaluation.labelNames);
      expect(model.thresholds?.metric).toBe('youden');
      expect(model.thresholds?.chosenOn).toBe('validation');
      const expected = Object.fromEntries(evaluation.labelNames.map((l, j) => [l, evaluation.perLabel[j]?.threshold?.threshold ?? null]));
      expect(model.thresholds?.perLabel).toEqual(expected);
      expect(Object.values(expected).filter((v) => typeof v === 'number').length).toBeGreaterThan(0);

      // pixels: training's loader versus the recipe read back from the model
      const rows = (await loadManifest(manifest)).rows;
      const files = [...rows.slice(0, 6).map((r) => r.imagePaths[0]!), ...(await extraFiles())];
      expect(files[0]).toMatch(/\.dcm$/);
      const trained = await loadImages(config, files);
      const per = 48 * 48;
      const replayed = new Float32Array(files.length * per);
      for (const [i, file] of files.entries()) replayed.set(await preprocessForClassifier(file, model.preprocessing), i * per);
      expect(Buffer.from(replayed.buffer).equals(Buffer.from(trained.data.buffer, trained.data.byteOffset, trained.data.byteLength))).toBe(
        true,
      );
      // the padded PNG has zero rows top and bottom, mapped to (0 - mean) / std
      const png = replayed.subarray(6 * per, 7 * per);
      expect(png[0]).toBeCloseTo(-0.4 / 0.3, 6);
      expect(new Set(png).size).toBeGreaterThan(50);

      // predictions: loadClassifier on the replayed pixels equals the exported model run directly on training's pixels
      const session = await ort.InferenceSession.create(result.classifierPath!);
      const direct = (await session.run({ image: new ort.Tensor('float32', trained.data, trained.dims) })).probabilities!
        .data as Float32Array;
      await session.release();
      const predicted = await model.predict(replayed);
      expect(predicted).toHaveLength(files.length * model.labels.length);
      expect(Array.from(predicted)).toEqual(Array.from(direct));
      expect(new Set(Array.from(predicted, (v) => v.toFixed(4))).size).toBeGreaterThan(10);
    } finally {
      await model.release();
    }
  });
});
