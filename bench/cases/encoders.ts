/**
 * Built-in encoders on CPU through onnxruntime-node: images/s for the ResNet and the ViT at
 * 224x224, texts/s for the transformer text encoder (tokenization included), each at a realistic
 * batch size, run in the worker thread (the default) with the in-process session as baseline.
 */
import { ImageEncoder } from '../../src/encoders/image-encoder.js';
import { TextEncoder } from '../../src/encoders/text-encoder.js';
import { TextTokenizer } from '../../src/encoders/tokenizer/text-tokenizer.js';
import { buildWordPieceTokenizer } from '../../src/encoders/tokenizer/tokenizer-json.js';
import { type ModelProto } from '../../src/onnx/proto.js';
import { buildResNetEncoder } from '../../src/onnx/models/resnet.js';
import { buildTextTransformer } from '../../src/onnx/models/text-transformer.js';
import { buildViTEncoder } from '../../src/onnx/models/vit.js';
import { listParameters } from '../../src/onnx/parameters.js';
import { Sfc32 } from '../../src/random/index.js';
import { time, withRatio, type BenchCase, type BenchContext, type BenchRow } from '../harness.js';

function images(n: number, size: number, seed: number): Float32Array {
  const rng = new Sfc32(seed);
  return Float32Array.from({ length: n * size * size }, () => rng.next());
}

const findings = ['pleural effusion', 'pneumothorax', 'consolidation', 'cardiomegaly', 'atelectasis', 'edema', 'nodule', 'fracture'];
const qualifiers = ['no', 'small', 'moderate', 'large', 'mild', 'possible', 'unchanged', 'new'];
const sides = ['left', 'right', 'bilateral', 'basilar'];

function reports(n: number, seed: number): string[] {
  const rng = new Sfc32(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rng.next() * a.length)]!;
  return Array.from({ length: n }, () => {
    const sentences = 2 + Math.floor(rng.next() * 5);
    return Array.from(
      { length: sentences },
      () => `${pick(qualifiers)} ${pick(sides)} ${pick(findings)}, measuring ${(rng.next() * 5).toFixed(1)} cm.`,
    ).join(' ');
  });
}

async function imageRows(name: string, model: ModelProto, size: number, ctx: BenchContext): Promise<BenchRow[]> {
  const batch = ctx.quick ? 8 : 32;
  const n = ctx.quick ? 16 : 64;
  const data = images(n, size, 1);
  const params = listParameters(model).size;
  const rows: BenchRow[] = [];
  for (const inProcess of [true, false]) {
    const enc = await ImageEncoder.create(model, { batchSize: batch, inProcess });
    const t = await time(() => enc.encode({ data, dims: [n, 1, size, size] }), {
      warmup: 1,
      minRuns: ctx.quick ? 2 : 3,
      maxRuns: 10,
      minTimeMs: ctx.quick ? 200 : 2000,
    });
    await enc.dispose();
    rows.push({
      op: `${name} encode`,
      backend: inProcess ? 'onnxruntime cpu (in-process)' : 'onnxruntime cpu (worker)',
      shape: `${n}x1x${size}x${size} batch ${batch}`,
      medianMs: t.medianMs,
      p90Ms: t.p90Ms,
      itemsPerSec: (n * 1000) / t.medianMs,
      itemName: 'images',
      note: `${(params / 1e6).toFixed(3)}M parameters`,
    });
  }
  return [rows[0]!, withRatio(rows[1]!, rows[0])];
}

export const cases: BenchCase[] = [
  {
    name: 'encoders: built-in ResNet (CPU)',
    run: (ctx) => imageRows('resnet', buildResNetEncoder().model, ctx.quick ? 128 : 224, ctx),
  },
  {
    name: 'encoders: built-in ViT (CPU)',
    run: (ctx) => {
      const size = ctx.quick ? 128 : 224;
      return imageRows('vit', buildViTEncoder({ imageSize: size }).model, size, ctx);
    },
  },
  {
    name: 'encoders: built-in text transformer (CPU)',
    async run(ctx) {
      const corpus = reports(2000, 3);
      const tokenizer = TextTokenizer.fromJSON(buildWordPieceTokenizer(corpus, { vocabSize: 2000 }));
      const model = buildTextTransformer({ vocabSize: tokenizer.vocabSize, maxLength: 128 }).model;
      const texts = reports(ctx.quick ? 64 : 256, 4);
      const batch = 64;
      const rows: BenchRow[] = [];
      const tok = await time(() => tokenizer.encodeBatch(texts, { maxLength: 128 }), { minRuns: 3, minTimeMs: ctx.quick ? 100 : 500 });
      rows.push({
        op: 'tokenize (WordPiece, batch encode)',
        backend: 'ts',
        shape: `${texts.length} texts`,
        medianMs: tok.medianMs,
        p90Ms: tok.p90Ms,
        itemsPerSec: (texts.length * 1000) / tok.medianMs,
        itemName: 'texts',
      });
      for (const inProcess of [true, false]) {
        const enc = await TextEncoder.create(model, tokenizer, { batchSize: batch, inProcess });
        const t = await time(() => enc.encode(texts), { warmup: 1, minRuns: 3, maxRuns: 10, minTimeMs: ctx.quick ? 200 : 2000 });
        await enc.dispose();
        const r: BenchRow = {
          op: 'text-transformer encode (with tokenization)',
          backend: inProcess ? 'onnxruntime cpu (in-process)' : 'onnxruntime cpu (worker)',
          shape: `${texts.length} texts batch ${batch} maxLength 128`,
          medianMs: t.medianMs,
          p90Ms: t.p90Ms,
          itemsPerSec: (texts.length * 1000) / t.medianMs,
          itemName: 'texts',
          note: `${(listParameters(model).size / 1e6).toFixed(3)}M parameters`,
        };
        rows.push(inProcess ? r : withRatio(r, rows[1]));
      }
      return rows;
    },
  },
];
