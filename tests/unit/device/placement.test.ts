import { describe, expect, it } from 'vitest';
import { placementsFromProfile, profilePlacement, summarizePlacement } from '../../../src/device/placement.js';
import { serializeModel } from '../../../src/onnx/model-io.js';
import { resnetTrainingRun } from '../../helpers/resnet-training.js';

describe('profilePlacement', () => {
  it("reads onnxruntime's own profile: every node of a CPU session of a ResNet training graph ran on the CPU provider", async () => {
    const { training, feeds } = resnetTrainingRun({ widths: [4, 8], blocks: [1, 1], inChannels: 1, embedDim: 6, seed: 2 }, 2, 32, 0.5);
    const nodes = await profilePlacement(serializeModel(training.model), feeds, { label: 'resnet training graph', providers: ['cpu'] });
    expect(nodes.length).toBeGreaterThan(50);
    expect(new Set(nodes.map((n) => n.provider))).toEqual(new Set(['CPUExecutionProvider']));
    const ops = new Set(nodes.map((n) => n.op));
    // the gradient forms the autodiff emits for strided convolutions and max pooling (by phases: no ScatterND)
    for (const op of ['Conv', 'ConvTranspose', 'MaxPool', 'SpaceToDepth', 'Equal', 'Where']) expect(ops, op).toContain(op);
    expect(ops.has('ScatterND')).toBe(false);
    expect(nodes.filter((n) => n.op === 'SpaceToDepth').map((n) => n.inputTypes)).toContainEqual(['float']);
    expect(nodes.some((n) => n.op === 'Equal' && n.inputTypes.join() === 'float,float')).toBe(true);
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
