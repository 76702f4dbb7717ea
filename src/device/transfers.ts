/**
 * Bytes a training step copies between host and GPU memory when onnxruntime runs on its CUDA
 * provider and the flat parameter, gradient and optimizer buffers are host Float32Arrays (the
 * only kind of tensor onnxruntime-node passes to the CUDA provider). The counts follow the code
 * path: tests/unit/device/transfers.test.ts checks the encoder part against the bytes actually
 * fed to and fetched from onnxruntime in one step. docs/gpu.md tabulates them.
 */

/** One trainable encoder's step under gradient caching (finetune/trainable-encoder.ts). */
export interface EncoderStepShape {
  /** Trainable parameters of the encoder (frozen ones are initializers, uploaded once with the session). */
  parameters: number;
  /** Rows of the batch. */
  rows: number;
  /** finetune.chunkSize. */
  chunk: number;
  /** Bytes of one row's inputs (a float32 image: 4 C H W; token ids and mask: 16 L). */
  inputBytesPerRow: number;
  /** Embedding width D of the encoder output. */
  outputDim: number;
}

export interface Transfer {
  hostToDevice: number;
  deviceToHost: number;
}

/**
 * Forward-only pass then training graph, each run once per chunk: every run uploads all P
 * parameters (4P bytes) and the chunk's inputs; the forward pass downloads embeddings; the
 * training graph uploads d loss / d embedding and downloads only the P gradients (its forward
 * outputs are not fetched).
 */
export function encoderStepTransfers(s: EncoderStepShape): Transfer {
  const runs = Math.ceil(s.rows / s.chunk);
  const embeddings = s.rows * s.outputDim * 4;
  return {
    hostToDevice: 2 * runs * 4 * s.parameters + 2 * s.rows * s.inputBytesPerRow + embeddings,
    deviceToHost: runs * 4 * s.parameters + embeddings,
  };
}

/**
 * The same step if parameters and gradients were bound to onnxruntime in GPU memory (the C-API
 * design of docs/gpu.md, not built): only the chunk inputs, d loss / d embedding and the
 * embeddings cross; AdamW runs on the device buffers in place.
 */
export function boundEncoderStepTransfers(s: EncoderStepShape): Transfer {
  const embeddings = s.rows * s.outputDim * 4;
  return { hostToDevice: 2 * s.rows * s.inputBytesPerRow + embeddings, deviceToHost: embeddings };
}

/** Where the optimizer's buffers are when radlearn's kernels run on CUDA. */
export type OptimizerPlacement =
  /** Host Float32Arrays staged through the GPU on every call (what the kernels do with host operands today). */
  | 'staged'
  /** Parameters, moments and decay mask kept on the GPU as DeviceTensors; gradients go up, parameters come down. */
  | 'device-resident'
  /** AdamW on the CPU over the host buffers: nothing crosses the bus. */
  | 'host';

export interface OptimizerStepShape {
  /** Every trained value of the flat buffer (encoders and heads). */
  parameters: number;
  /** Per-group learning rates (fine-tuning): a separate gradient-norm call before the per-segment updates. */
  segmented: boolean;
  /** An EMA of the parameters each step (optim.ema, the DINO teacher). */
  ema: boolean;
}

/** AdamW (with its decay mask), the separate norm of the segmented form, and the EMA. */
export function optimizerStepTransfers(s: OptimizerStepShape, placement: OptimizerPlacement): Transfer {
  const P = s.parameters;
  if (placement === 'host') return { hostToDevice: 0, deviceToHost: 0 };
  if (placement === 'device-resident') return { hostToDevice: 4 * P, deviceToHost: 4 * P + (s.ema ? 4 * P : 0) };
  // params, grads, m, v and the uint8 mask up; params, m, v down
  const adamw = { hostToDevice: 16 * P + P, deviceToHost: 12 * P };
  const norm = s.segmented ? 4 * P : 0;
  const ema = s.ema ? { hostToDevice: 8 * P, deviceToHost: 4 * P } : { hostToDevice: 0, deviceToHost: 0 };
  return { hostToDevice: adamw.hostToDevice + norm + ema.hostToDevice, deviceToHost: adamw.deviceToHost + ema.deviceToHost };
}

/** Nominal one-direction bandwidths (bytes/s); pageable host memory typically reaches half of PCIe's. */
export const LINKS: ReadonlyArray<{ name: string; bytesPerSecond: number }> = [
  { name: 'PCIe 4.0 x16', bytesPerSecond: 32e9 },
  { name: 'PCIe 5.0 x16', bytesPerSecond: 64e9 },
  { name: 'NVLink-C2C (Grace Hopper)', bytesPerSecond: 450e9 },
];

/** Seconds to move a transfer over a link, the two directions one after the other (as a step issues them). */
export function transferSeconds(t: Transfer, bytesPerSecond: number): number {
  return (t.hostToDevice + t.deviceToHost) / bytesPerSecond;
}
