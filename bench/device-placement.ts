/**
 * Where onnxruntime runs each node of radlearn's training graphs, read from onnxruntime's own
 * profiler, on the device a run with `--device` would use (default auto). For every built-in
 * encoder (ResNet with inference-form and batch-statistics BatchNorm, ViT, the text transformer,
 * the DINO student at the global and the local crop size) it builds the training graph, runs one
 * step with profiling, and prints the nodes per provider and every (operator, input types) that
 * did not run on the CUDA provider. On a CPU machine that is the whole inventory of the graphs'
 * operators and element types (docs/gpu.md); on a GPU machine it is the list of CPU fallbacks.
 *
 *   npx tsx bench/device-placement.ts [--device auto|cpu|cuda] [--json out.json]
 */
import { writeFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { DeviceContext, runWithDevice } from '../src/device/context.js';
import { operatorsWithoutCudaKernel } from '../src/device/cuda-operators.js';
import { profilePlacement, summarizePlacement, type NodePlacement } from '../src/device/placement.js';
import { describeDevicePlan, resolveDevicePlan } from '../src/device/plan.js';
import { DEVICE_SETTINGS, type DeviceSetting } from '../src/device/setting.js';
import { differentiate, type TrainingGraph } from '../src/onnx/autodiff/differentiate.js';
import { toBatchStatisticsModel } from '../src/onnx/batch-norm-training.js';
import { serializeModel } from '../src/onnx/model-io.js';
import { buildResNetEncoder } from '../src/onnx/models/resnet.js';
import { buildTextTransformer } from '../src/onnx/models/text-transformer.js';
import { buildViTEncoder } from '../src/onnx/models/vit.js';
import { parameterFeeds, readParameters } from '../src/onnx/parameters.js';
import type { ModelProto } from '../src/onnx/proto.js';
import { dinoSchema } from '../src/train/dino/config.js';
import { buildDinoGraph, buildDinoLocalGraph } from '../src/train/dino/model.js';

const BATCH = 4;

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Every data input and upstream gradient, from the graph's declared shapes ('batch' = BATCH; other symbols from `sizes`). */
function feedsFor(training: TrainingGraph, model: ModelProto, sizes: Record<string, number>): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(parameterFeeds(training.layout, readParameters(model, training.layout))))
    feeds[name] = new ort.Tensor('float32', t.data as Float32Array, t.dims);
  const dims = (shape: ReadonlyArray<{ dimValue?: unknown; dimParam?: string | null }>): number[] =>
    shape.map((d) => (d.dimParam ? (d.dimParam === 'batch' ? BATCH : sizes[d.dimParam]!) : Number(d.dimValue)));
  const graph = training.model.graph!;
  for (const input of graph.input ?? []) {
    const name = input.name!;
    const isData = training.dataInputs.includes(name);
    const isGrad = Object.values(training.outputGradInputs).includes(name);
    if (!isData && !isGrad) continue;
    const shape = dims(input.type!.tensorType!.shape!.dim!);
    const n = shape.reduce((a, b) => a * b, 1);
    if (input.type!.tensorType!.elemType === 7) {
      // token ids (small, in range) and an attention mask of ones
      const value = (i: number): bigint => (name === 'attention_mask' ? 1n : BigInt(1 + (i % 7)));
      feeds[name] = new ort.Tensor(
        'int64',
        BigInt64Array.from({ length: n }, (_, i) => value(i)),
        shape,
      );
    } else {
      feeds[name] = new ort.Tensor(
        'float32',
        Float32Array.from({ length: n }, (_, i) => Math.sin(i / 11) * 0.5),
        shape,
      );
    }
  }
  return feeds;
}

interface Subject {
  name: string;
  model: ModelProto;
  outputs: string[];
  sizes: Record<string, number>;
}

function subjects(): Subject[] {
  const resnet = buildResNetEncoder({ inChannels: 1, seed: 0 }).model;
  const dino = dinoSchema.parse({});
  const image = { height: 64, width: 64 };
  return [
    { name: 'builtin:resnet', model: resnet, outputs: ['embedding'], sizes: image },
    {
      name: 'builtin:resnet, batch-statistics BatchNorm',
      model: toBatchStatisticsModel(resnet).model,
      outputs: ['embedding'],
      sizes: image,
    },
    {
      name: 'builtin:vit',
      model: buildViTEncoder({ imageSize: 64, patchSize: 16, inChannels: 1, seed: 0 }).model,
      outputs: ['embedding'],
      sizes: image,
    },
    {
      name: 'builtin:transformer',
      model: buildTextTransformer({ vocabSize: 500, maxLength: 32, seed: 0 }).model,
      outputs: ['embedding'],
      sizes: { sequence: 32 },
    },
    {
      name: 'DINO student, global crops',
      model: buildDinoGraph(dino, 64, 0).model,
      outputs: ['embedding', 'dino_logits', 'ibot_logits'],
      sizes: {},
    },
    { name: 'DINO student, local crops', model: buildDinoLocalGraph(dino, 64, 32, 0), outputs: ['embedding', 'dino_logits'], sizes: {} },
  ];
}

const setting = (argument('device') ?? 'auto') as DeviceSetting;
if (!DEVICE_SETTINGS.includes(setting)) throw new Error(`--device must be one of ${DEVICE_SETTINGS.join(', ')}`);
const plan = await resolveDevicePlan(setting);
const where = describeDevicePlan(plan);
console.log(`device ${setting}: onnxruntime on ${where.onnxruntime}\n`);
const context = new DeviceContext(plan);
const report: Array<{ graph: string; nodes: number; byProvider: Record<string, number>; noCudaKernel: string[]; elsewhere: unknown }> = [];
const inventory = new Map<string, Set<string>>();
await runWithDevice(context, async () => {
  for (const s of subjects()) {
    const training = differentiate(s.model, { outputs: s.outputs });
    const bytes = serializeModel(training.model);
    const nodes: NodePlacement[] = await profilePlacement(bytes, feedsFor(training, s.model, s.sizes), {
      label: `${s.name}: training graph`,
    });
    const summary = summarizePlacement(nodes);
    const noCudaKernel = operatorsWithoutCudaKernel(bytes);
    report.push({ graph: s.name, nodes: nodes.length, byProvider: summary.byProvider, noCudaKernel, elsewhere: summary.elsewhere });
    for (const n of nodes) {
      const types = inventory.get(n.op) ?? new Set<string>();
      types.add(n.inputTypes.join(','));
      inventory.set(n.op, types);
    }
    console.log(`## ${s.name}: ${nodes.length} nodes after onnxruntime's optimisations, ${JSON.stringify(summary.byProvider)}`);
    console.log(`   ops without a documented CUDA kernel: ${noCudaKernel.join(', ') || 'none'}`);
    if (plan.onnxruntime.device === 'cuda')
      for (const e of summary.elsewhere) console.log(`   on ${e.provider}: ${e.op} (${e.inputTypes}) x${e.nodes}`);
  }
});
console.log('\n| operator | input element types seen |\n|---|---|');
for (const [op, types] of [...inventory.entries()].sort(([a], [b]) => a.localeCompare(b)))
  console.log(`| ${op} | ${[...types].map((t) => `(${t})`).join(' ')} |`);
for (const s of context.sessions) if (s.fallbackReason) console.log(`\n${s.label}: ${s.fallbackReason}`);
const out = argument('json');
if (out) writeFileSync(out, JSON.stringify({ plan, sessions: context.sessions, report }, null, 2));
