import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { placementsFromProfile, profilePlacement, summarizePlacement } from '../../../src/device/placement.js';
import { differentiate } from '../../../src/onnx/autodiff/differentiate.js';
import { serializeModel } from '../../../src/onnx/model-io.js';
import { buildResNetEncoder } from '../../../src/onnx/models/resnet.js';
import { parameterFeeds, readParameters } from '../../../src/onnx/parameters.js';

describe('profilePlacement', () => {
  it("reads onnxruntime's own profile: every node of a CPU session of a ResNet training graph ran on the CPU provider", async () => {
    const model = buildResNetEncoder({ widths: [4, 8], blocks: [1, 1], inChannels: 1, embedDim: 6, seed: 2 }).model;
    const training = differentiate(model, { outputs: ['embedding'] });
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(parameterFeeds(training.layout, readParameters(model, training.layout))))
      feeds[name] = new ort.Tensor('float32', t.data as Float32Array, t.dims);
    feeds.image = new ort.Tensor(
      'float32',
      Float32Array.from({ length: 2 * 32 * 32 }, (_, i) => Math.cos(i / 7)),
      [2, 1, 32, 32],
    );
    feeds[training.outputGradInputs.embedding!] = new ort.Tensor('float32', new Float32Array(12).fill(0.5), [2, 6]);
    const nodes = await profilePlacement(serializeModel(training.model), feeds, { label: 'resnet training graph', providers: ['cpu'] });
    expect(nodes.length).toBeGreaterThan(50);
    expect(new Set(nodes.map((n) => n.provider))).toEqual(new Set(['CPUExecutionProvider']));
    const ops = new Set(nodes.map((n) => n.op));
    // the gradient forms the autodiff emits for strided convolutions and max pooling
    for (const op of ['Conv', 'ConvTranspose', 'ScatterND', 'MaxPool']) expect(ops, op).toContain(op);
    expect(nodes.find((n) => n.op === 'ScatterND')!.inputTypes).toEqual(['float', 'int64', 'float']);
    const summary = summarizePlacement(nodes);
    expect(summary.byProvider).toEqual({ CPUExecutionProvider: nodes.length });
    expect(summary.elsewhere.reduce((s, e) => s + e.nodes, 0)).toBe(nodes.length);
    expect(summarizePlacement(nodes, 'CPUExecutionProvider').elsewhere).toEqual([]);
  });

  it('keeps one entry per node from the kernel-time events', () => {
    const event = (name: string, provider: string, op: string) => ({
      cat: 'Node',
      name,
      args: { op_name: op, provider, input_type_shape: [{ float: [2, 3] }, { int64: [1] }] },
    });
    const nodes = placementsFromProfile([
      { cat: 'Session', name: 'model_run' },
      event('a_fence_before', 'CUDAExecutionProvider', 'Add'),
      event('a_kernel_time', 'CUDAExecutionProvider', 'Add'),
      event('a_kernel_time', 'CUDAExecutionProvider', 'Add'),
      event('b_kernel_time', 'CPUExecutionProvider', 'Shape'),
    ]);
    expect(nodes).toEqual([
      { node: 'a', op: 'Add', provider: 'CUDAExecutionProvider', inputTypes: ['float', 'int64'] },
      { node: 'b', op: 'Shape', provider: 'CPUExecutionProvider', inputTypes: ['float', 'int64'] },
    ]);
    expect(summarizePlacement(nodes)).toEqual({
      byProvider: { CUDAExecutionProvider: 1, CPUExecutionProvider: 1 },
      elsewhere: [{ op: 'Shape', inputTypes: 'float,int64', provider: 'CPUExecutionProvider', nodes: 1 }],
    });
  });
});
