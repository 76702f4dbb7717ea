/**
 * The image inputs of the fine-tuning steps: the run's normalised images, never changed, and
 * each batch's chunk feeds for the encoder's forward and training graphs. With finetune.augment
 * a batch is fed its augmented views, rendered once per step so that gradient caching's
 * recomputed forward sees the same pixels, and rendered ahead, while the step before runs.
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
  /** Views rendered ahead, by global step. */
  private readonly pending = new Map<number, { rows: Int32Array; views: Promise<ImageTensor> }>();

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

  /**
   * Starts rendering the views of step `step` (augmenting only), so that they are ready when the
   * step asks for them: the render overlaps the step before it. Views depend only on (seed,
   * step, row), so prefetched views are the ones batch() would render.
   */
  prefetch(batch: Int32Array, step: number): void {
    if (!this.augmenter) return;
    const views = this.augmenter.render(batch, step);
    views.catch(() => undefined); // a failure surfaces when the step awaits it
    this.pending.set(step, { rows: batch.slice(), views });
  }

  /** The batch's feeds: its augmented views for global step `step` when augmenting, else its stored images. */
  async batch(batch: Int32Array, step: number): Promise<{ inputs: ChunkInputs; augmentMs?: number }> {
    if (!this.augmenter) return { inputs: this.of(this.images, batch) };
    const t0 = performance.now();
    const pending = this.pending.get(step);
    // what was rendered for this step or before is used now or never
    for (const k of this.pending.keys()) if (k <= step) this.pending.delete(k);
    const prefetched = pending !== undefined && pending.rows.length === batch.length && pending.rows.every((r, i) => r === batch[i]);
    const views = await (prefetched ? pending.views : this.augmenter.render(batch, step));
    // with a prefetch, the time the step still waited for its views
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
