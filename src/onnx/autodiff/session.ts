/**
 * Runs a training graph with onnxruntime-node: parameters are fed as views of one flat Float32Array
 * and the parameter gradients are written by onnxruntime straight into views of one flat gradient
 * buffer (pre-allocated outputs), so a step copies neither parameters nor gradients in JavaScript.
 */
import * as ort from 'onnxruntime-node';
import { createOrtSession } from '../../device/session-factory.js';
import { InvalidArgumentError } from '../../errors.js';
import { serializeModel } from '../model-io.js';
import type { TrainingGraph } from './differentiate.js';
import { gradientFetches, trainingFeeds, trainingGraphIo, type Feed, type TrainingGraphIo } from './training-io.js';

export interface TrainingStepResult {
  /** Forward outputs and input gradients, by graph output name. */
  outputs: Record<string, ort.Tensor>;
}

export class TrainingSession {
  private scratch: Float32Array | undefined;
  private readonly io: TrainingGraphIo;

  private constructor(
    readonly graph: TrainingGraph,
    private readonly session: ort.InferenceSession,
  ) {
    this.io = trainingGraphIo(graph);
  }

  /**
   * Idle intra-op threads do not spin unless `allowSpinning` (spinning threads of one session slow
   * down every other session and process on a small shared machine; see docs/autodiff.md). The
   * providers are the run's device (src/device) unless `executionProviders` names them.
   */
  static async create(
    graph: TrainingGraph,
    options: ort.InferenceSession.SessionOptions & { allowSpinning?: boolean; label?: string } = {},
  ): Promise<TrainingSession> {
    const { allowSpinning, intraOpNumThreads, executionProviders, label, ...rest } = options;
    const session = await createOrtSession(serializeModel(graph.model), {
      label: label ?? `training graph ${graph.model.graph?.name ?? ''}`.trim(),
      allowSpinning,
      intraOpNumThreads,
      ...(executionProviders ? { providers: executionProviders } : {}),
      options: rest,
    });
    return new TrainingSession(graph, session);
  }

  /**
   * One forward + backward pass. `parameters` and `gradients` are flat buffers in the graph's layout.
   * Gradients are overwritten, or with `accumulate` added to what `gradients` holds (chunked batches,
   * gradient caching: one call per chunk). `outputGrads` maps each differentiated output to its
   * upstream gradient (same shape as the output). `outputs` names the forward outputs and input
   * gradients to return (default: all); a trainer that only needs the parameter gradients passes
   * [], so onnxruntime neither copies nor keeps them (on the CUDA provider each is a download).
   */
  async step(args: {
    parameters: Float32Array;
    gradients: Float32Array;
    inputs: Record<string, Feed>;
    outputGrads: Record<string, Feed>;
    accumulate?: boolean;
    outputs?: readonly string[];
  }): Promise<TrainingStepResult> {
    const { graph } = this;
    const { layout } = graph;
    if (args.gradients.length !== layout.size) {
      throw new InvalidArgumentError(`gradient buffer has ${args.gradients.length} elements, the parameter layout needs ${layout.size}`, {
        expected: layout.size,
        actual: args.gradients.length,
      });
    }
    const feeds = trainingFeeds(this.io, args.parameters, args.inputs, args.outputGrads);
    // Accumulating: onnxruntime writes into a scratch buffer, added into `gradients` afterwards.
    const target = args.accumulate ? (this.scratch ??= new Float32Array(layout.size)) : args.gradients;
    const returned = [...graph.forwardOutputs, ...Object.values(graph.inputGradOutputs)];
    const wanted = args.outputs ?? returned;
    for (const name of wanted)
      if (!returned.includes(name))
        throw new InvalidArgumentError(`output ${name} is not a forward output or input gradient of the graph (${returned.join(', ')})`, {
          name,
        });
    const fetches: Record<string, ort.Tensor | null> = gradientFetches(this.io, target);
    for (const name of wanted) fetches[name] = null;
    const result = await this.session.run(feeds, fetches as ort.InferenceSession.FetchesType);
    if (args.accumulate) {
      const g = args.gradients;
      for (let i = 0; i < g.length; i++) g[i]! += target[i]!;
    }
    const outputs: Record<string, ort.Tensor> = {};
    for (const name of wanted) outputs[name] = result[name]!;
    return { outputs };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
