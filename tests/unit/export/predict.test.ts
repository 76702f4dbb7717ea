// radlearn predict: the exported classifier run on a run's test images gives that run's
// predictions.csv probabilities, and the no-radlearn Python recipe builds the same input tensor.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import {
  loadClassifier,
  parseCsv,
  preprocessForClassifier,
  writeDicom,
  type DicomWriteSpec,
  type TrainResult,
} from '../../../src/index.js';
import { smallSupervisedRun } from '../../helpers/small-run.js';
import { buildProgram } from '../../../src/cli/main.js';

let root = '';
let manifest = '';
let run: TrainResult;

beforeAll(async () => {
  ({ root, manifest, run } = await smallSupervisedRun({
    prefix: 'radlearn-predict-',
    studies: 60,
    phantomSeed: 5,
    seed: 2,
    steps: 10,
    imageSize: 48,
  }));
}, 120_000);

afterEach(() => vi.restoreAllMocks());

async function cli(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => (out.push(String(c)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => (err.push(String(c)), true));
  await buildProgram().parseAsync(['node', 'radlearn', ...args]);
  vi.restoreAllMocks();
  return { stdout: out.join(''), stderr: err.join('') };
}

function table(path: string): { header: string[]; rows: string[][] } {
  const [header, ...rows] = parseCsv(readFileSync(path, 'utf8'), path);
  return { header: header!, rows };
}

/** A float32 .npy (numpy's format 1.0, little-endian) as its shape and data. */
function readNpy(path: string): { shape: number[]; data: Float32Array } {
  const bytes = readFileSync(path);
  const headerLength = bytes.readUInt16LE(8);
  const header = bytes.subarray(10, 10 + headerLength).toString('latin1');
  expect(header).toContain("'descr': '<f4'");
  const shape = /'shape': \(([^)]*)\)/
    .exec(header)![1]!
    .split(',')
    .filter((s) => s.trim() !== '')
    .map(Number);
  const body = bytes.subarray(10 + headerLength);
  return { shape, data: new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength)) };
}

describe('radlearn predict', () => {
  it("reproduces the run's predictions.csv probabilities on its test split, whatever the batch size", async () => {
    const expected = table(run.predictionsPath!);
    const model = await loadClassifier(run.classifierPath!);
    const labels = model.labels;
    const thresholds = model.thresholds?.perLabel ?? {};
    await model.release();
    const results: string[][][] = [];
    for (const batch of ['32', '5']) {
      const out = join(root, `pred-${batch}.csv`);
      const { stdout } = await cli([
        'predict',
        '--model',
        run.classifierPath!,
        manifest,
        '--split',
        'test',
        '--batch-size',
        batch,
        '--out',
        out,
      ]);
      expect(stdout).toContain(`predicted ${expected.rows.length} of ${expected.rows.length} images (0 skipped)`);
      const got = table(out);
      expect(got.header).toEqual([
        'row',
        'study_id',
        'patient_id',
        'image',
        ...labels.map((l) => `prob.${l}`),
        ...labels.map((l) => `label.${l}`),
      ]);
      // same cases in the same order
      expect(got.rows.map((r) => r.slice(0, 4))).toEqual(expected.rows.map((r) => r.slice(0, 4)));
      results.push(got.rows);
    }
    expect(results[1]).toEqual(results[0]);
    const rows = results[0]!;
    let maxDiff = 0;
    let exact = 0;
    for (const [i, r] of rows.entries())
      for (const [j, label] of labels.entries()) {
        const mine = Number(r[4 + j]);
        const theirs = Number(expected.rows[i]![expected.header.indexOf(`prob.${label}`)]);
        maxDiff = Math.max(maxDiff, Math.abs(mine - theirs));
        if (mine === theirs) exact++;
        // thresholded label: 1/0 against the model's threshold, empty without one
        const t = thresholds[label];
        expect(r[4 + labels.length + j]).toBe(typeof t === 'number' ? (mine >= t ? '1' : '0') : '');
      }
    // the run scored its test split with classifier.onnx itself, so every probability is the same float
    expect({ exact, maxDiff }).toEqual({ exact: rows.length * labels.length, maxDiff: 0 });
  });

  it('walks folders (extensionless DICOM by magic bytes), skips unreadable files with their code, and --strict fails', async () => {
    const dir = join(root, 'folder');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    const test = table(run.predictionsPath!).rows;
    copyFileSync(test[0]![3]!, join(dir, 'a.dcm'));
    copyFileSync(test[1]![3]!, join(dir, 'sub', 'IM0001'));
    writeFileSync(join(dir, 'notes.txt'), 'not an image');
    writeFileSync(join(dir, 'sub', 'broken.png'), 'not a png');
    const out = join(root, 'folder.csv');
    const { stdout, stderr } = await cli(['predict', '--model', run.classifierPath!, dir, '--out', out]);
    expect(stdout).toContain('predicted 2 of 3 images (1 skipped)');
    expect(stderr).toMatch(/skipped ERR_\w+ {2}.*broken\.png/);
    const got = table(out);
    expect(got.header[0]).toBe('image');
    expect(got.rows.map((r) => r[0])).toEqual([join(dir, 'a.dcm'), join(dir, 'sub', 'IM0001')]);
    await expect(cli(['predict', '--model', run.classifierPath!, dir, '--out', out, '--strict'])).rejects.toMatchObject({
      code: expect.stringMatching(/^ERR_/),
    });
  });

  it('the Python recipe (Pillow + NumPy, pydicom for DICOM) builds the same tensor and probabilities for PNG/JPEG/DICOM', async (ctx) => {
    const python = '/usr/bin/python3';
    try {
      execFileSync(python, ['-c', 'import numpy, PIL, pydicom'], { stdio: 'pipe' });
    } catch {
      console.log(`skipped: ${python} lacks numpy, PIL or pydicom`);
      ctx.skip();
    }
    const files: string[] = [];
    const images: Array<[number, number, 1 | 3, 'png' | 'jpeg']> = [
      [70, 50, 1, 'png'],
      [40, 90, 3, 'jpeg'],
      [200, 160, 1, 'jpeg'],
      [33, 33, 3, 'png'],
    ];
    for (const [k, [w, h, c, format]] of images.entries()) {
      const px = Buffer.alloc(w * h * c);
      for (let i = 0; i < px.length; i++) px[i] = (i * (7 + k) + ((i >> 5) % 13) * 11) % 256;
      const path = join(root, `py-${k}.${format === 'png' ? 'png' : 'jpg'}`);
      const img = sharp(px, { raw: { width: w, height: h, channels: c } });
      await (format === 'png' ? img.png() : img.jpeg({ quality: 90 })).toFile(path);
      files.push(path);
    }
    // the run's own test images (phantom DICOM), and DICOMs exercising each window path:
    // file window (LINEAR, with rescale), SIGMOID, MONOCHROME1 with the percentile range
    files.push(
      ...table(run.predictionsPath!)
        .rows.slice(0, 3)
        .map((r) => r[3]!),
    );
    const dicoms: Array<Partial<DicomWriteSpec>> = [
      { rescaleSlope: 2, rescaleIntercept: -1024, windowCenter: [40, 300], windowWidth: [400, 1500] },
      { windowCenter: 1800, windowWidth: 900, extra: { VOILUTFunction: 'SIGMOID' } },
      { photometricInterpretation: 'MONOCHROME1' },
    ];
    for (const [k, extra] of dicoms.entries()) {
      const [rows, columns] = [61 + 9 * k, 47 + 20 * k];
      const pixels = Uint16Array.from({ length: rows * columns }, (_, i) => (i * (31 + k) + ((i >> 4) % 17) * 97) % 3600);
      const path = join(root, `py-${k}.dcm`);
      writeFileSync(path, writeDicom({ rows, columns, bitsAllocated: 16, bitsStored: 12, pixels, ...extra }));
      files.push(path);
    }
    const npy = join(root, 'input.npy');
    execFileSync(python, ['examples/python/predict_classifier.py', run.classifierPath!, ...files, '--out', npy], { stdio: 'pipe' });
    const { shape, data } = readNpy(npy);
    const model = await loadClassifier(run.classifierPath!);
    try {
      const { height, width } = model.preprocessing;
      expect(shape).toEqual([files.length, 1, height, width]);
      const per = height * width;
      const mine = new Float32Array(files.length * per);
      for (const [i, f] of files.entries()) mine.set(await preprocessForClassifier(f, model.preprocessing), i * per);
      let tensorDiff = 0;
      for (let i = 0; i < mine.length; i++) tensorDiff = Math.max(tensorDiff, Math.abs(mine[i]! - data[i]!));
      // the Python tensor through onnxruntime versus radlearn predict on the files
      const session = await ort.InferenceSession.create(run.classifierPath!);
      const fromPython = (await session.run({ image: new ort.Tensor('float32', data, shape) })).probabilities!.data as Float32Array;
      await session.release();
      const out = join(root, 'py-pred.csv');
      await cli(['predict', '--model', run.classifierPath!, ...files, '--out', out]);
      const rows = table(out).rows;
      const L = model.labels.length;
      let probDiff = 0;
      for (const [i, r] of rows.entries())
        for (let j = 0; j < L; j++) probDiff = Math.max(probDiff, Math.abs(Number(r[1 + j]) - fromPython[i * L + j]!));
      // one quantisation step is 1/65535 before normalisation, 1/(65535 std) after
      console.log(`python recipe: max |tensor diff| ${tensorDiff}, max |probability diff| ${probDiff}`);
      expect(tensorDiff).toBeLessThanOrEqual(1 / 65535 / model.preprocessing.std[0]! + 1e-6);
      expect(probDiff).toBeLessThan(1e-3);
    } finally {
      await model.release();
    }
  });
});
