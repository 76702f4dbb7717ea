/**
 * One augmented view per batch row for the fine-tuning modes, rendered by the native augment
 * kernel. The kernel wants display units ([0, 1] grey), so the normalised training images are
 * mapped back (x * std + mean) and the spec normalises the views again with the same mean/std:
 * an augmented view is fed exactly like an un-augmented image. Draws are keyed by
 * (seed, global step, dataset row), so a view depends neither on the batch it is in nor on
 * whether the run was resumed.
 */
import { ShapeError } from '../../errors.js';
import { augment } from '../../kernels/augment.js';
import type { AugmentSpec } from '../../kernels/augment-spec.js';
import { finetuneAugmentSpec, type FinetuneAugmentConfig } from './augment-config.js';
import type { ImageRows } from './image-rows.js';

/** Row-major [N, C, H, W] float32 images. */
export interface ImageTensor {
  data: Float32Array;
  dims: [number, number, number, number];
}

export class FinetuneAugmenter {
  private readonly spec: AugmentSpec;
  /** The batch's stored images, read before they are mapped to display units. */
  private stored = new Float32Array(0);

  /** `images`: the normalised [N, C, H, W] training images the views are cut from (square H = W). */
  constructor(
    cfg: FinetuneAugmentConfig,
    private readonly images: ImageRows,
    private readonly normalize: { mean: number; std: number },
    private readonly seed: number,
  ) {
    const [, , h, w] = images.dims;
    if (h !== w)
      throw new ShapeError(`finetune.augment renders square views, but the training images are ${h}x${w}`, { dims: images.dims });
    this.spec = finetuneAugmentSpec(cfg, h, normalize);
  }

  /** [B, C, H, W] views of dataset rows `rows` for global step `step` (channel 0 augmented, copied to every channel). */
  async render(rows: Int32Array, step: number): Promise<ImageTensor> {
    const [, channels, size] = this.images.dims;
    const per = size * size;
    const grey = this.displayPixels(rows);
    const sources = Array.from(rows, (row, i) => ({ data: grey.subarray(i * per, (i + 1) * per), height: size, width: size, key: row }));
    const out = await augment({ images: sources }, this.spec, { seed: this.seed, step, checkFinite: false });
    const views = out.groups[0]!.views as Float32Array;
    const B = rows.length;
    if (channels === 1) return { data: views, dims: [B, 1, size, size] };
    // grey radiographs in a C-channel encoder: the same view in every channel, as loadImages' channels would be
    const data = new Float32Array(B * channels * per);
    for (let b = 0; b < B; b++) {
      const view = views.subarray(b * per, (b + 1) * per);
      for (let c = 0; c < channels; c++) data.set(view, (b * channels + c) * per);
    }
    return { data, dims: [B, channels, size, size] };
  }

  /** Channel 0 of each row back in display units, clamped to [0, 1] against rounding. */
  private displayPixels(rows: Int32Array): Float32Array {
    const [, channels, size] = this.images.dims;
    const per = size * size;
    const { mean, std } = this.normalize;
    if (this.stored.length < rows.length * channels * per) this.stored = new Float32Array(rows.length * channels * per);
    const stored = this.images.read(rows, this.stored).data;
    // a new array each time: the kernel may still read the previous batch's while this one is prepared
    const out = new Float32Array(rows.length * per);
    for (let i = 0; i < rows.length; i++) {
      const src = stored.subarray(i * channels * per, i * channels * per + per);
      for (let k = 0; k < per; k++) out[i * per + k] = Math.min(1, Math.max(0, src[k]! * std + mean));
    }
    return out;
  }
}
