/**
 * Training images of the fine-tuning modes and dino, read row by row when a batch needs them: from the image
 * cache (the float values loadImages would give, through the same reader) or from a tensor already
 * in memory. A run over a large collection never holds the dataset as float32 (377k images at
 * 224 px would be 75 GB); a batch costs one read of its rows.
 */
import { ShapeError } from '../../errors.js';
import type { TrainConfig } from '../config.js';
import { prepareReadable } from '../features.js';
import { openImageReader } from '../images.js';
import type { ImageTensor } from './augment-views.js';

export interface ImageRows {
  /** [dataset rows, channels, height, width] of the images read. */
  readonly dims: [number, number, number, number];
  /** Rows `rows` packed into `out` (which holds at least rows.length images); returns the filled view. */
  read(rows: ArrayLike<number>, out: Float32Array): ImageTensor;
  close(): void;
}

/** Rows of an in-memory [N, C, H, W] tensor. */
export function tensorRows(images: ImageTensor): ImageRows {
  const [, c, h, w] = images.dims;
  const per = c * h * w;
  return {
    dims: images.dims,
    read(rows, out) {
      checkOut(out, rows.length, per);
      for (let i = 0; i < rows.length; i++) out.set(images.data.subarray(rows[i]! * per, (rows[i]! + 1) * per), i * per);
      return { data: out.subarray(0, rows.length * per), dims: [rows.length, c, h, w] };
    },
    close() {},
  };
}

/** Rows of the dataset's images as the run's image cache holds them (decoding what is missing first). */
export async function cachedRows(
  config: TrainConfig,
  paths: readonly string[],
  progress?: Parameters<typeof prepareReadable>[2],
): Promise<ImageRows> {
  const reader = await openImageReader(config, await prepareReadable(config, paths, progress));
  const size = config.image.size;
  const per = size * size;
  return {
    dims: [paths.length, 1, size, size],
    read(rows, out) {
      checkOut(out, rows.length, per);
      return reader.read(
        Array.from(rows, (r) => paths[r]!),
        out,
      );
    },
    close: () => reader.close(),
  };
}

function checkOut(out: Float32Array, count: number, per: number): void {
  if (out.length < count * per)
    throw new ShapeError(`image rows: the buffer holds ${out.length} values, ${count} images need ${count * per}`, {
      values: out.length,
      expected: count * per,
    });
}
