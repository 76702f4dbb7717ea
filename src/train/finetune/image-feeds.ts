/**
 * The image inputs of the fine-tuning steps: each batch's chunk feeds for the encoder's forward
 * and training graphs, from the run's normalised images (read per batch, never changed). With
 * finetune.augment a batch is fed its augmented views, rendered once per step so that gradient
 * caching's recomputed forward sees the same pixels. Either is prepared ahead, while the step
 * before runs.
 */
import type { TensorLike } from '../../onnx/tensor.js';
import type { ModelProto } from '../../onnx/proto.js';
import type { FinetuneAugmenter, ImageTensor } from './augment-views.js';
import type { ImageRows } from './image-rows.js';
import type { ChunkInputs } from './trainable-encoder.js';

/** The model's graph inputs that are not initializers (what a session must be fed). */
export function feedNames(model: ModelProto): string[] {
  const inits = new Set((model.graph?.initializer ?? []).map((t) => t.name ?? ''));
  return (model.graph?.input ?? []).map((i) => i.name ?? '').filter((n) => !inits.has(n));
}

/**
 * Chunk feeds over a packed batch tensor. A batch in shared memory is handed out as views (a worker
 * reads its chunk where the batch lies); any other batch as a copy of each chunk's rows, since a
 * view would carry its whole buffer to a worker.
 */
function chunksOf(images: ImageTensor, input: string): ChunkInputs {
  const [, c, h, w] = images.dims;
  const per = c * h * w;
  const shared = images.data.buffer instanceof SharedArrayBuffer;
  return (s, e) => ({
    [input]: {
      type: 'float32',
      data: shared ? images.data.subarray(s * per, e * per) : images.data.slice(s * per, e * per),
      dims: [e - s, c, h, w],
    } as TensorLike,
  });
}

/** A batch's images, read or rendered ahead for one step. */
interface Pending {
  rows: Int32Array;
  images: Promise<ImageTensor>;
  /** withdrawn: the step did not use it, so a read not started by then never starts. */
  flags: { withdrawn: boolean };
}

const EMPTY: ImageTensor = { data: new Float32Array(0), dims: [0, 0, 0, 0] };

export class ImageFeeds {
  /** Batches read or views rendered ahead, by global step. */
  private readonly pending = new Map<number, Pending>();
  /**
   * Two batch buffers in shared memory: step k reads into buffers[k % 2] while step k - 1 may
   * still feed from the other; a step's chunks are views of its buffer, read by every worker.
   */
  private readonly buffers: Float32Array[] = [new Float32Array(0), new Float32Array(0)];

  /**
   * `images`: the dataset rows' normalised [N, C, H, W] images; `input`: the encoder's image
   * input name; `augmenter`: present when finetune.augment is set.
   */
  constructor(
    readonly images: ImageRows,
    private readonly input: string,
    private readonly augmenter?: FinetuneAugmenter,
  ) {}

  /** Chunk feeds of dataset rows `rows`' stored images, read now into a buffer of their own. */
  rows(rows: ArrayLike<number>): ChunkInputs {
    const [, c, h, w] = this.images.dims;
    return chunksOf(this.images.read(rows, new Float32Array(rows.length * c * h * w)), this.input);
  }

  /**
   * Starts reading (or, augmenting, rendering) the batch of step `step`, so that it is ready when
   * the step asks for it: the work overlaps the step before it. A read waits until this thread is
   * next idle, when the step before has handed its chunks out. Views depend only on (seed, step,
   * row), so a prefetched batch is the one batch() would make.
   */
  prefetch(batch: Int32Array, step: number): void {
    const rows = batch.slice();
    const flags = { withdrawn: false };
    const images = this.augmenter
      ? this.augmenter.render(rows, step)
      : new Promise<ImageTensor>((resolve, reject) =>
          setImmediate(() => {
            if (flags.withdrawn) return resolve(EMPTY);
            try {
              resolve(this.readInto(rows, step));
            } catch (error) {
              reject(error instanceof Error ? error : new Error(String(error)));
            }
          }),
        );
    images.catch(() => undefined); // a failure surfaces when the step awaits it
    this.pending.set(step, { rows, images, flags });
  }

  /** The batch's feeds for global step `step`: its augmented views when augmenting, else its stored images. */
  async batch(batch: Int32Array, step: number): Promise<{ inputs: ChunkInputs; augmentMs?: number }> {
    const t0 = performance.now();
    const pending = this.pending.get(step);
    const prefetched = pending !== undefined && pending.rows.length === batch.length && pending.rows.every((r, i) => r === batch[i]);
    // what was prepared for this step or before is used now or never
    for (const [k, entry] of this.pending) {
      if (k > step) continue;
      if (!(prefetched && entry === pending)) entry.flags.withdrawn = true;
      this.pending.delete(k);
    }
    const images = prefetched
      ? pending.images
      : this.augmenter
        ? this.augmenter.render(batch, step)
        : Promise.resolve(this.readInto(batch, step));
    const inputs = chunksOf(await images, this.input);
    // augmenting: the time the step waited for its views (all of the render without a prefetch)
    return this.augmenter ? { inputs, augmentMs: performance.now() - t0 } : { inputs };
  }

  /** Dataset rows `rows` read into the buffer of step `step`. */
  private readInto(rows: Int32Array, step: number): ImageTensor {
    const [, c, h, w] = this.images.dims;
    const need = rows.length * c * h * w;
    const b = step % 2;
    if (this.buffers[b]!.length < need) this.buffers[b] = new Float32Array(new SharedArrayBuffer(need * Float32Array.BYTES_PER_ELEMENT));
    return this.images.read(rows, this.buffers[b]!);
  }

  /** Closes the image source (the cache files a run reads from). */
  async release(): Promise<void> {
    this.images.close();
  }
}
