/**
 * Messages between the chunk pool (main thread) and its workers. Parameters travel through a
 * SharedArrayBuffer the main thread rewrites between steps (a version number says when); a step's
 * images arrive as views of the batch the main thread packed once in shared memory (image-feeds.ts);
 * each chunk's gradients come back through one of the graph's SharedArrayBuffer slots. onnxruntime
 * reads and writes none of them directly (it rejects shared memory), so a worker copies through
 * buffers of its own. Nothing large is cloned or allocated per chunk: a per-chunk copy of the
 * images cost the main thread a full garbage collection about every other step.
 */
import type { InferenceSession } from 'onnxruntime-node';
import type { TrainingGraphIo } from '../../onnx/autodiff/training-io.js';
import type { TensorLike } from '../../onnx/tensor.js';

export interface ChunkWorkerSetup {
  sessionOptions: InferenceSession.SessionOptions;
}

export type ChunkRequest =
  | {
      type: 'open';
      job: number;
      graph: number;
      label: string;
      forward: Uint8Array;
      training: Uint8Array;
      io: TrainingGraphIo;
      parameters: SharedArrayBuffer;
      slots: SharedArrayBuffer[];
    }
  | { type: 'forward'; job: number; graph: number; version: number; feeds: Record<string, TensorLike>; fetch: string[] }
  | {
      type: 'train';
      job: number;
      graph: number;
      version: number;
      slot: number;
      inputs: Record<string, TensorLike>;
      outputGrads: Record<string, TensorLike>;
    }
  | { type: 'close'; job: number; graph: number };

export type ChunkReply = { job: number; ok: true; outputs?: Record<string, TensorLike> } | { job: number; ok: false; message: string };
