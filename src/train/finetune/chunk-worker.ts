/**
 * A chunk worker thread: holds the forward-only and training sessions of the encoders the pool
 * opened, and runs one chunk per request (embeddings, or one chunk's parameter gradients into a
 * shared slot). Requests are handled one at a time, in the order they arrive.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import {
  PrivateFeeds,
  forwardFeeds,
  fromOrtTensor,
  gradientFetches,
  trainingFeeds,
  type TrainingGraphIo,
} from '../../onnx/autodiff/training-io.js';
import type { TensorLike } from '../../onnx/tensor.js';
import type { ChunkReply, ChunkRequest, ChunkWorkerSetup } from './chunk-protocol.js';

interface OpenGraph {
  forward: ort.InferenceSession;
  training: ort.InferenceSession;
  io: TrainingGraphIo;
  shared: Float32Array;
  slots: Float32Array[];
  /** This thread's copy of the parameters, and the version it holds. */
  parameters: Float32Array;
  version: number;
  gradients: Float32Array;
}

const { sessionOptions } = workerData as ChunkWorkerSetup;
const graphs = new Map<number, OpenGraph>();
/** This thread's copies of feeds that arrive in shared memory (requests run one at a time). */
const privateFeeds = new PrivateFeeds();

function graphOf(id: number): OpenGraph {
  const g = graphs.get(id);
  if (!g) throw new Error(`graph ${id} is not open in this worker`);
  return g;
}

function parametersOf(g: OpenGraph, version: number): Float32Array {
  if (g.version !== version) {
    g.parameters.set(g.shared);
    g.version = version;
  }
  return g.parameters;
}

async function handle(request: ChunkRequest): Promise<{ outputs?: Record<string, TensorLike> }> {
  switch (request.type) {
    case 'open': {
      const forward = await ort.InferenceSession.create(request.forward, sessionOptions);
      const training = await ort.InferenceSession.create(request.training, sessionOptions);
      const size = request.io.layout.size;
      graphs.set(request.graph, {
        forward,
        training,
        io: request.io,
        shared: new Float32Array(request.parameters),
        slots: request.slots.map((s) => new Float32Array(s)),
        parameters: new Float32Array(size),
        version: -1,
        gradients: new Float32Array(size),
      });
      return {};
    }
    case 'forward': {
      const g = graphOf(request.graph);
      const result = await g.forward.run(
        forwardFeeds(g.io.layout, parametersOf(g, request.version), privateFeeds.of(request.feeds)),
        request.fetch,
      );
      const outputs: Record<string, TensorLike> = {};
      for (const name of request.fetch) outputs[name] = fromOrtTensor(result[name]!);
      return { outputs };
    }
    case 'train': {
      const g = graphOf(request.graph);
      const feeds = trainingFeeds(g.io, parametersOf(g, request.version), privateFeeds.of(request.inputs), request.outputGrads);
      await g.training.run(feeds, gradientFetches(g.io, g.gradients));
      g.slots[request.slot]!.set(g.gradients);
      return {};
    }
    case 'close': {
      const g = graphs.get(request.graph);
      graphs.delete(request.graph);
      await g?.forward.release();
      await g?.training.release();
      return {};
    }
  }
}

function reply(message: ChunkReply): void {
  const transfer: ArrayBuffer[] = [];
  if (message.ok && message.outputs)
    for (const t of Object.values(message.outputs)) if (t.data.buffer instanceof ArrayBuffer) transfer.push(t.data.buffer);
  try {
    parentPort!.postMessage(message, transfer);
  } catch {
    // onnxruntime may hand out buffers that cannot be detached: copy them instead
    parentPort!.postMessage(message);
  }
}

let queue: Promise<void> = Promise.resolve();
parentPort?.on('message', (request: ChunkRequest) => {
  queue = queue.then(async () => {
    try {
      reply({ job: request.job, ok: true, ...(await handle(request)) });
    } catch (error) {
      reply({ job: request.job, ok: false, message: error instanceof Error ? error.message : String(error) });
    }
  });
});
