/**
 * scripts/export-encoder.py from the command line: the ONNX file is in the form radlearn trains
 * (BatchNorm in inference form and not folded, every PyTorch parameter an initializer of the same
 * name and none shared, dynamic batch and sequence axes, opset 17), the sidecar holds exactly the
 * agreed fields (docs/encoders.md), the tokenizer it points at is readable by radlearn, and bad
 * requests fail with a message that says what to change.
 *
 * Needs /usr/bin/python3 with torch, torchvision and onnx: skipped without them, required under CI=true.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { TextTokenizer } from '../../../src/encoders/tokenizer/text-tokenizer.js';
import { loadModel } from '../../../src/onnx/model-io.js';
import type { ModelProto } from '../../../src/onnx/proto.js';
import { PYTHON, REPO_ROOT, TORCH_REQUIRED, referenceDir, torchMissing } from '../../helpers/torch.js';

const missing = torchMissing();
if (missing) console.warn(`skipping the export-encoder.py tests: ${missing}`);

const SCRIPT = join(REPO_ROOT, 'scripts', 'export-encoder.py');
const COMMON = ['format', 'version', 'kind', 'model', 'source', 'output', 'pooling', 'dim'];
const IMAGE_FIELDS = [...COMMON, 'input', 'layout', 'channels', 'size', 'mean', 'std'].sort();
const TEXT_FIELDS = [...COMMON, 'inputs', 'tokenizer', 'maxLength'].sort();

function exportEncoder(args: string[]): string {
  return execFileSync(PYTHON, [SCRIPT, ...args], {
    encoding: 'utf8',
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, OMP_NUM_THREADS: '1', PYTHONWARNINGS: 'ignore', PYTHONDONTWRITEBYTECODE: '1' },
  });
}

function failing(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(PYTHON, [SCRIPT, ...args], {
    encoding: 'utf8',
    cwd: REPO_ROOT,
    env: { ...process.env, OMP_NUM_THREADS: '1', PYTHONDONTWRITEBYTECODE: '1' },
  });
  return { status: r.status, stderr: r.stderr };
}

const sidecarOf = (path: string): Record<string, unknown> => JSON.parse(readFileSync(path.replace(/\.onnx$/, '.radlearn.json'), 'utf8'));
const ops = (model: ModelProto): string[] => (model.graph!.node ?? []).map((n) => n.opType ?? '');
const dims = (model: ModelProto, which: 'input' | 'output', name: string): Array<string | number> =>
  model
    .graph![which]!.find((v) => v.name === name)!
    .type!.tensorType!.shape!.dim!.map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue)));

describe.skipIf(missing !== undefined && !TORCH_REQUIRED)('scripts/export-encoder.py', () => {
  const { dir, remove } = referenceDir('export');
  afterAll(remove);

  it('has PyTorch, torchvision and onnx', () => expect(missing ?? '').toBe(''));

  it('torchvision ResNet-18: inference-form BatchNorm, PyTorch names, dynamic batch, the image sidecar', async () => {
    const out = join(dir, 'resnet18.onnx');
    const printed = exportEncoder([
      '--torchvision',
      'resnet18',
      '--size',
      '32',
      '--mean',
      '0.5',
      '0.5',
      '0.5',
      '--std',
      '0.25',
      '0.25',
      '0.25',
      '--out',
      out,
    ]);
    expect(printed).toMatch(/wrote .*resnet18\.onnx \(11176512 parameters, output embedding \[N, 512\]\)/);
    const model = loadModel(out);
    expect(Number(model.opsetImport!.find((o) => !o.domain)!.version)).toBe(17);
    const nodes = ops(model);
    expect(nodes.filter((o) => o === 'BatchNormalization').length).toBe(20);
    expect(nodes.filter((o) => o === 'Conv').length).toBe(20);
    expect(nodes).not.toContain('Identity'); // no initializer shared by value
    for (const n of model.graph!.node!.filter((x) => x.opType === 'BatchNormalization'))
      expect(Number(n.attribute!.find((a) => a.name === 'training_mode')?.i ?? 0)).toBe(0);
    const inits = new Set(model.graph!.initializer!.map((t) => t.name));
    // 60 parameters (the head removed) and 40 running statistics, by their PyTorch names
    expect(inits.size).toBe(100);
    for (const name of ['conv1.weight', 'bn1.weight', 'bn1.running_var', 'layer4.1.bn2.bias', 'layer2.0.downsample.0.weight'])
      expect(inits.has(name), name).toBe(true);
    expect([...inits].some((n) => n!.startsWith('fc.'))).toBe(false);
    expect(dims(model, 'input', 'pixel_values')).toEqual(['batch', 3, 32, 32]);
    expect(dims(model, 'output', 'embedding')).toEqual(['batch', 512]);

    const sidecar = sidecarOf(out);
    expect(Object.keys(sidecar).sort()).toEqual(IMAGE_FIELDS);
    expect(sidecar).toMatchObject({
      format: 'radlearn-encoder',
      version: 1,
      kind: 'image',
      model: 'resnet18.onnx',
      source: { framework: 'pytorch', constructor: 'torchvision.models.resnet18', weights: 'random(seed=0)' },
      output: 'embedding',
      pooling: 'none',
      dim: 512,
      input: 'pixel_values',
      layout: 'NCHW',
      channels: 3,
      size: 32,
      mean: [0.5, 0.5, 0.5],
      std: [0.25, 0.25, 0.25],
    });

    const session = await ort.InferenceSession.create(out, { intraOpNumThreads: 1 });
    try {
      for (const batch of [1, 3]) {
        const x = new ort.Tensor('float32', new Float32Array(batch * 3 * 32 * 32).fill(0.1), [batch, 3, 32, 32]);
        expect((await session.run({ pixel_values: x })).embedding!.dims).toEqual([batch, 512]);
      }
    } finally {
      await session.release();
    }
  }, 180_000);

  it('BERT-shaped text encoder: tokenizer.json beside it, token types, mean pooling, any batch and length', async () => {
    const out = join(dir, 'bert.onnx');
    exportEncoder(['--demo-bert', '--token-type-ids', '--pooling', 'mean', '--max-length', '40', '--out', out]);
    const sidecar = sidecarOf(out);
    expect(Object.keys(sidecar).sort()).toEqual(TEXT_FIELDS);
    expect(sidecar).toMatchObject({
      kind: 'text',
      model: 'bert.onnx',
      output: 'embedding',
      pooling: 'none',
      dim: 64,
      inputs: { inputIds: 'input_ids', attentionMask: 'attention_mask', tokenTypeIds: 'token_type_ids' },
      tokenizer: 'bert.tokenizer.json',
      maxLength: 40,
    });
    const model = loadModel(out);
    const inits = new Set(model.graph!.initializer!.map((t) => t.name));
    for (const name of [
      'embeddings.word_embeddings.weight',
      'embeddings.token_type_embeddings.weight',
      'encoder.layer.1.attention.self.key.bias',
    ])
      expect(inits.has(name), name).toBe(true);
    // mean pooling leaves the pooler out of the graph
    expect(inits.has('pooler.dense.weight')).toBe(false);
    expect([...inits].some((n) => n!.startsWith('inner.'))).toBe(false);
    expect(dims(model, 'input', 'input_ids')).toEqual(['batch', 'sequence']);

    const tokenizerPath = join(dir, 'bert.tokenizer.json');
    expect(existsSync(tokenizerPath)).toBe(true);
    const tokenizer = TextTokenizer.fromFile(tokenizerPath);
    expect(tokenizer.tokenize('No pleural effusion.')).toEqual(['no', 'pleural', 'effusion', '.']);
    const session = await ort.InferenceSession.create(out, { intraOpNumThreads: 1 });
    try {
      for (const texts of [
        ['No pleural effusion.'],
        ['Mild cardiomegaly.', 'The lungs are clear, no pneumothorax or focal consolidation.', 'x'],
      ]) {
        const enc = tokenizer.encodeBatch(texts, { maxLength: 40, returnTokenTypeIds: true });
        const feed = (t: { data: BigInt64Array; dims: readonly number[] }) => new ort.Tensor('int64', t.data, [...t.dims]);
        const y = await session.run({
          input_ids: feed(enc.inputIds),
          attention_mask: feed(enc.attentionMask),
          token_type_ids: feed(enc.tokenTypeIds!),
        });
        expect(y.embedding!.dims).toEqual([texts.length, 64]);
        expect([...(y.embedding!.data as Float32Array)].every(Number.isFinite)).toBe(true);
      }
    } finally {
      await session.release();
    }
  }, 180_000);

  it('a text model that takes token ids only: no attention-mask input, none in the sidecar', () => {
    const out = join(dir, 'ids-only.onnx');
    exportEncoder(['--demo-bert', '--no-attention-mask', '--pooling', 'cls', '--out', out]);
    expect(sidecarOf(out)).toMatchObject({ inputs: { inputIds: 'input_ids' }, tokenizer: 'ids-only.tokenizer.json' });
    expect(Object.keys(sidecarOf(out).inputs as object)).toEqual(['inputIds']);
    expect(loadModel(out).graph!.input!.map((v) => v.name)).toEqual(['input_ids']);
    const mean = failing(['--demo-bert', '--no-attention-mask', '--pooling', 'mean', '--out', join(dir, 'm.onnx')]);
    expect(mean.status).toBe(1);
    expect(mean.stderr).toMatch(/pooling 'mean' averages the tokens the attention mask keeps/);
  }, 120_000);

  it('any module through --module package.module:factory with --kwargs', () => {
    const out = join(dir, 'vit.onnx');
    const kwargs = { image_size: 32, patch_size: 8, num_layers: 1, num_heads: 2, hidden_dim: 32, mlp_dim: 64, num_classes: 7 };
    exportEncoder(['--module', 'torchvision.models:VisionTransformer', '--kwargs', JSON.stringify(kwargs), '--size', '32', '--out', out]);
    const sidecar = sidecarOf(out);
    expect(sidecar).toMatchObject({
      kind: 'image',
      dim: 7,
      size: 32,
      source: { constructor: 'torchvision.models:VisionTransformer', kwargs },
    });
    expect(
      new Set(loadModel(out).graph!.initializer!.map((t) => t.name)).has('encoder.layers.encoder_layer_0.self_attention.in_proj_weight'),
    ).toBe(true);
  }, 120_000);

  it('refuses what radlearn cannot train, saying what to change', () => {
    const bin = failing(['--torchvision', 'resnet18', '--out', join(dir, 'model.bin')]);
    expect(bin.status).toBe(1);
    expect(bin.stderr).toMatch(/model\.bin: the model file must end in \.onnx/);
    const unknown = failing(['--torchvision', 'resnet_nonexistent', '--out', join(dir, 'x.onnx')]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/torchvision\.models has no model 'resnet_nonexistent'/);
    const noTokenizer = failing(['--module', 'torch.nn:Identity', '--kind', 'text', '--out', join(dir, 't.onnx')]);
    expect(noTokenizer.status).toBe(1);
    expect(noTokenizer.stderr).toMatch(/needs its tokenizer\.json \(--tokenizer\)/);
  }, 120_000);
});
