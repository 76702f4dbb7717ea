/**
 * The host<->GPU bytes of one fine-tuning step (src/device/transfers.ts) for the built-in encoders
 * (parameter counts from their training graphs' layouts) and for common published encoders
 * (their published parameter counts), under each optimizer placement, with the time they take at
 * nominal link rates. Prints the Markdown tables of docs/gpu.md, "Bytes per step".
 *
 *   npx tsx bench/device-budget.ts [--batch 64] [--chunk 32]
 */
import {
  boundEncoderStepTransfers,
  encoderStepTransfers,
  LINKS,
  optimizerStepTransfers,
  transferSeconds,
  type OptimizerPlacement,
  type Transfer,
} from '../src/device/transfers.js';
import { differentiate } from '../src/onnx/autodiff/differentiate.js';
import { buildResNetEncoder } from '../src/onnx/models/resnet.js';
import { buildTextTransformer } from '../src/onnx/models/text-transformer.js';
import { buildViTEncoder } from '../src/onnx/models/vit.js';

function argument(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const B = argument('batch', 64);
const chunk = argument('chunk', 32);

interface Encoder {
  name: string;
  parameters: number;
  inputBytesPerRow: number;
  outputDim: number;
}

const trainable = (model: Parameters<typeof differentiate>[0]): number => differentiate(model, { outputs: ['embedding'] }).layout.size;
const resnet = buildResNetEncoder({ inChannels: 1, seed: 0 });
const vit = buildViTEncoder({ imageSize: 224, patchSize: 16, inChannels: 1, seed: 0 });
const text = buildTextTransformer({ vocabSize: 2000, maxLength: 64, seed: 0 });
const encoders: Encoder[] = [
  { name: 'builtin:resnet, 1x224x224', parameters: trainable(resnet.model), inputBytesPerRow: 4 * 224 * 224, outputDim: resnet.embedDim },
  { name: 'builtin:vit, 1x224x224', parameters: trainable(vit.model), inputBytesPerRow: 4 * 224 * 224, outputDim: vit.embedDim },
  { name: 'builtin:transformer, 64 tokens', parameters: trainable(text.model), inputBytesPerRow: 16 * 64, outputDim: text.embedDim },
  // published sizes of encoders users bring as ONNX files
  { name: 'ResNet-50 (25.6M), 3x224x224', parameters: 25.6e6, inputBytesPerRow: 4 * 3 * 224 * 224, outputDim: 2048 },
  { name: 'ViT-B/16 (86M), 3x224x224', parameters: 86e6, inputBytesPerRow: 4 * 3 * 224 * 224, outputDim: 768 },
  { name: 'BERT-base (110M), 128 tokens', parameters: 110e6, inputBytesPerRow: 16 * 128, outputDim: 768 },
];

const MB = (bytes: number): string => (bytes / 1e6).toFixed(bytes < 1e7 ? 2 : 0);
const ms = (t: Transfer, rate: number): string => (transferSeconds(t, rate) * 1e3).toFixed(1);
const add = (a: Transfer, b: Transfer): Transfer => ({
  hostToDevice: a.hostToDevice + b.hostToDevice,
  deviceToHost: a.deviceToHost + b.deviceToHost,
});

console.log(
  `Batch ${B}, finetune.chunkSize ${chunk} (${Math.ceil(B / chunk)} runs of each graph per step); per-group learning rates (segmented AdamW), no EMA.\n`,
);
console.log(
  '| encoder | trainable P | encoder graphs H2D / D2H (MB) | AdamW staged | AdamW state on GPU | AdamW on CPU | GPU-bound buffers (C API, not built) |',
);
console.log('|---|---|---|---|---|---|---|');
const totals: Array<{ name: string; placement: OptimizerPlacement | 'bound'; t: Transfer }> = [];
for (const e of encoders) {
  const shape = { parameters: e.parameters, rows: B, chunk, inputBytesPerRow: e.inputBytesPerRow, outputDim: e.outputDim };
  const enc = encoderStepTransfers(shape);
  const bound = boundEncoderStepTransfers(shape);
  const cells = (['staged', 'device-resident', 'host'] as const).map((placement) => {
    const opt = optimizerStepTransfers({ parameters: e.parameters, segmented: true, ema: false }, placement);
    const t = add(enc, opt);
    totals.push({ name: e.name, placement, t });
    return `${MB(t.hostToDevice + t.deviceToHost)} MB`;
  });
  totals.push({ name: e.name, placement: 'bound', t: bound });
  cells.push(`${MB(bound.hostToDevice + bound.deviceToHost)} MB`);
  console.log(
    `| ${e.name} | ${(e.parameters / 1e6).toFixed(2)}M | ${MB(enc.hostToDevice)} / ${MB(enc.deviceToHost)} | ${cells.join(' | ')} |`,
  );
}
console.log(`\nMilliseconds per step moving those bytes (both directions in turn) at nominal rates:\n`);
console.log(`| encoder | optimizer | ${LINKS.map((l) => `${l.name} (${l.bytesPerSecond / 1e9} GB/s)`).join(' | ')} |`);
console.log(`|---|---|${LINKS.map(() => '---').join('|')}|`);
for (const { name, placement, t } of totals)
  console.log(`| ${name} | ${placement} | ${LINKS.map((l) => ms(t, l.bytesPerSecond)).join(' | ')} |`);
