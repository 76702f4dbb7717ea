/**
 * The image inputs of the fine-tuning steps: the run's normalised images, never changed, and
 * each batch's chunk feeds for the encoder's forward and training graphs. With finetune.augment
 * a batch is fed its augmented views, rendered once per step so that gradient caching's
 * recomputed forward sees the same pixels.
 */
import type { TensorLike } from '../../onnx/tensor.js';
import type { ModelProto } from '../../onnx/proto.js';
import type { FinetuneAugmenter, ImageTensor } from './augment-views.js';
import type { ChunkInputs } from './trainable-encoder.js';

/** The model's graph inputs that are not initializers (what a session must be fed). */
export function feedNames(model: ModelProto): string[] {
  const inits = new Set((model.graph?.initializer ?? []).map((t) => t.name ?? ''));
  return (model.graph?.input ?? []).map((i) => i.name ?? '').filter((n) => !inits.has(n));
}

/** Rows `rows[start .. start + count)` of the [N, C, H, W] image tensor, packed. */
export function imageChunk(images: ImageTensor, rows: ArrayLike<number>, start: number, count: number): TensorLike {
  const [, c, h, w] = images.dims;
  const per = c * h * w;
  const out = new Float32Array(count * per);
  for (let i = 0; i < count; i++) out.set(images.data.subarray(rows[start + i]! * per, (rows[start + i]! + 1) * per), i * per);
  return { type: 'float32', data: out, dims: [count, c, h, w] };
}

export class ImageFeeds {
  /**
   * `images`: normalised [N, C, H, W], one per dataset row; `input`: the encoder's image input
   * name; `augmenter`: present when finetune.augment is set.
   */
  constructor(
    readonly images: ImageTensor,
    private readonly input: string,
    private readonly augmenter?: FinetuneAugmenter,
  ) {}

  /** Chunk feeds of `rows` of `images` (the same closure serves the forward and the backward pass). */
  of(images: ImageTensor, rows: ArrayLike<number>): ChunkInputs {
    return (s, e) => ({ [this.input]: imageChunk(images, rows, s, e - s) });
  }

  /** The batch's feeds: its augmented views for global step `step` when augmenting, else its stored images. */
  async batch(batch: Int32Array, step: number): Promise<{ inputs: ChunkInputs; augmentMs?: number }> {
    if (!this.augmenter) return { inputs: this.of(this.images, batch) };
    const t0 = performance.now();
    const views = await this.augmenter.render(batch, step);
    const augmentMs = performance.now() - t0;
    return {
      inputs: this.of(
        views,
        Int32Array.from(batch, (_, i) => i),
      ),
      augmentMs,
    };
  }
}
