import { InvalidArgumentError, ShapeError, describeValue } from '../errors.js';
import { addon } from '../native/addon.js';
import { BackendUnavailableError, fromNativeError } from '../native/errors.js';
import type {
  NativeAddon,
  NativeAugmentDraw,
  NativeAugmentResult,
  NativeBackend,
  NativeCall,
  NativeDeviceTensor,
} from '../native/types.js';
import { assertAttached, backendOption } from './operands.js';
import { encodeAugmentSpec, type AugmentSpec } from './augment-spec.js';
import { DeviceTensor } from './tensor.js';

/**
 * Batched, seeded multi-crop augmentation (DINO/iBOT-style views of radiographs) in one
 * native call, on the CPU or CUDA with the same parameters bit for bit. Every random choice
 * is a Philox-4x32-10 draw keyed by (seed, step, image key, view), so a view depends on
 * nothing else: not on the batch it is in, the thread count or the backend.
 * See docs/kernels-augment.md.
 */

/** One source image: row-major grey pixels (a zero-copy view into a cache is fine). */
export interface SourceImage {
  data: Uint8Array | Uint16Array | Float32Array | DeviceTensor;
  height: number;
  width: number;
  /**
   * Keys the random draws for this image (an integer in [0, 2^32), e.g. its dataset index),
   * so its views are the same whatever batch it lands in. Default: its position in the batch.
   */
  key?: number;
}

/** The images to augment: host arrays or DeviceTensors (uint8, uint16 or float32), not both. */
export interface ImageBatch {
  images: readonly SourceImage[];
}

export interface AugmentOptions {
  /** Integer in [0, 2^53). */
  seed: number;
  /** Training step, integer in [0, 2^32) (default 0): a new step draws new views. */
  step?: number;
  /** 'cpu' or 'cuda' (default: the process default; DeviceTensor images always run on CUDA). */
  backend?: NativeBackend;
  /** Scan float32 host images for NaN/Infinity first (default true). */
  checkFinite?: boolean;
}

/** What was drawn for one view (enough to reproduce or inspect it). */
export interface AugmentViewParams {
  /** Position of the source image in the batch, and its RNG key. */
  image: number;
  key: number;
  group: number;
  /** Index of the view among its image's views over all groups (keys the RNG). */
  view: number;
  /** Crop box in source pixels (continuous; top-left corner, width, height). */
  crop: { x: number; y: number; width: number; height: number };
  /** True when no box fitted in 10 tries and the centred fallback was used. */
  cropFallback: boolean;
  flipHorizontal: boolean;
  flipVertical: boolean;
  /**
   * Rotation in degrees. The sampling grid turns by +angle from +x towards +y (clockwise on
   * screen, y pointing down), so the content of the view appears turned counter-clockwise.
   */
  angle: number;
  /** Shift of the crop centre in source pixels. */
  shift: { x: number; y: number };
  intensity: boolean;
  brightness: number;
  contrast: number;
  gamma: number;
  /** 0 when not blurred. */
  blurSigma: number;
  /** 0 when no noise. */
  noiseStd: number;
  /** Drawn masked ratio (0 when the view is not masked) and the patches actually masked. */
  maskRatio: number;
  maskedPatches: number;
  /** Footprint taps per axis (1 = plain bilinear; more when the view shrinks the source > 2x). */
  taps: [number, number];
  /**
   * Inverse map from output pixel (x, y) to source index coordinates (pixel centres at
   * integers), as float32 values: sx = a0 x + a1 y + a2, sy = a3 x + a4 y + a5.
   */
  affine: [number, number, number, number, number, number];
}

export interface AugmentGroupResult {
  count: number;
  size: number;
  /** [B * count, 1, size, size]; the views of image i are rows i*count .. i*count+count-1. */
  dims: [number, number, number, number];
  dtype: 'float32' | 'bfloat16' | 'float16';
  /** float32: Float32Array; bfloat16/float16 on the host: their raw bits in a Uint16Array. */
  views: Float32Array | Uint16Array | DeviceTensor;
  /** [B * count, (size / patchSize)^2], 1 = masked; present when this group is masked. */
  masks?: Uint8Array | DeviceTensor;
  params: AugmentViewParams[];
}

export interface AugmentResult {
  backend: NativeBackend;
  groups: AugmentGroupResult[];
}

const FIELDS = 30;

function decodeParams(packed: Float64Array): AugmentViewParams[] {
  const out: AugmentViewParams[] = [];
  for (let o = 0; o < packed.length; o += FIELDS) {
    const p = packed.subarray(o, o + FIELDS);
    out.push({
      image: p[0]!,
      key: p[1]!,
      group: p[2]!,
      view: p[3]!,
      crop: { x: p[4]!, y: p[5]!, width: p[6]!, height: p[7]! },
      cropFallback: p[8] === 1,
      flipHorizontal: p[9] === 1,
      flipVertical: p[10] === 1,
      angle: p[11]!,
      shift: { x: p[12]!, y: p[13]! },
      intensity: p[14] === 1,
      brightness: p[15]!,
      contrast: p[16]!,
      gamma: p[17]!,
      blurSigma: p[18]!,
      noiseStd: p[19]!,
      maskRatio: p[20]!,
      maskedPatches: p[21]!,
      taps: [p[22]!, p[23]!],
      affine: [p[24]!, p[25]!, p[26]!, p[27]!, p[28]!, p[29]!],
    });
  }
  return out;
}

function imagesOf(batch: ImageBatch | readonly SourceImage[]): readonly SourceImage[] {
  const images = Array.isArray(batch) ? (batch as readonly SourceImage[]) : (batch as ImageBatch)?.images;
  if (!Array.isArray(images) || images.length === 0) throw new InvalidArgumentError('augment: the batch must hold at least one image');
  return images;
}

function seedOf(options: AugmentOptions): { seed: number; step: number } {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('augment: options { seed, step } are required');
  const { seed, step = 0 } = options;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
    throw new InvalidArgumentError(`augment: seed must be an integer in [0, 2^53), got ${String(seed)}`);
  }
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 0 || step >= 2 ** 32) {
    throw new InvalidArgumentError(`augment: step must be an integer in [0, 2^32), got ${String(step)}`);
  }
  return { seed, step };
}

/** A validated call: the images as the addon takes them and the fields of its options object. */
interface Prepared extends NativeAugmentDraw, NativeCall {
  images: Parameters<NativeAddon['augment']>[0];
}

function shapesOf(images: readonly SourceImage[]) {
  const heights: number[] = [];
  const widths: number[] = [];
  const keys: number[] = [];
  images.forEach((image, i) => {
    if (typeof image !== 'object' || image === null)
      throw new InvalidArgumentError(`augment: images[${i}] must be { data, height, width }`);
    for (const side of ['height', 'width'] as const) {
      const v = image[side];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 2 ** 20) {
        throw new ShapeError(`augment: images[${i}].${side} must be an integer in [1, 2^20], got ${String(v)}`);
      }
    }
    const key = image.key ?? i;
    if (typeof key !== 'number' || !Number.isInteger(key) || key < 0 || key >= 2 ** 32) {
      throw new InvalidArgumentError(`augment: images[${i}].key must be an integer in [0, 2^32), got ${String(key)}`);
    }
    heights.push(image.height);
    widths.push(image.width);
    keys.push(key);
  });
  return { heights, widths, keys };
}

function prepare(batch: ImageBatch | readonly SourceImage[], spec: AugmentSpec, options: AugmentOptions, async: boolean): Prepared {
  const images = imagesOf(batch);
  const encoded = encodeAugmentSpec(spec);
  const { seed, step } = seedOf(options);
  const { heights, widths, keys } = shapesOf(images);
  const onDevice = images.filter((im) => im.data instanceof DeviceTensor).length;
  if (onDevice > 0 && onDevice < images.length)
    throw new InvalidArgumentError('augment: images must all be host arrays or all DeviceTensors');
  let backend: NativeBackend;
  if (onDevice > 0) {
    if (options.backend === 'cpu') throw new BackendUnavailableError('augment: DeviceTensor images cannot run on the CPU backend');
    backend = 'cuda';
  } else backend = backendOption(options.backend);
  const data = images.map((image, i) => {
    const d = image.data;
    if (d instanceof DeviceTensor) {
      if (!['uint8', 'uint16', 'float32'].includes(d.dtype)) {
        throw new InvalidArgumentError(`augment: images[${i}].data must be a uint8, uint16 or float32 DeviceTensor, got ${d.dtype}`);
      }
      if (d.size !== image.height * image.width) {
        throw new ShapeError(`augment: images[${i}].data has ${d.size} values, but height x width = ${image.height} x ${image.width}`);
      }
      return d.handle;
    }
    if (!(d instanceof Uint8Array || d instanceof Uint16Array || d instanceof Float32Array)) {
      throw new InvalidArgumentError(`augment: images[${i}].data must be a Uint8Array, Uint16Array, Float32Array or DeviceTensor`);
    }
    assertAttached(d, `augment: images[${i}].data`);
    if (d.length !== image.height * image.width) {
      throw new ShapeError(`augment: images[${i}].data has ${d.length} values, but height x width = ${image.height} x ${image.width}`, {
        index: i,
        length: d.length,
        expected: [image.height, image.width],
      });
    }
    if (d instanceof Float32Array && options.checkFinite !== false) {
      for (let k = 0; k < d.length; k++) {
        const v = d[k]!;
        if (v - v !== 0) throw new InvalidArgumentError(`augment: images[${i}].data[${k}] is ${v}; pixels must be finite`);
      }
    }
    return d;
  });
  return { images: data, heights, widths, keys, spec: encoded, seed, step, backend, async };
}

function callNative(prepared: Prepared): NativeAugmentResult | Promise<NativeAugmentResult> {
  const { images, heights, widths, keys, spec, seed, step, backend, async } = prepared;
  return addon().augment(images, { heights, widths, keys, spec, seed, step, backend, async });
}

function assemble(prepared: Prepared, raw: NativeAugmentResult): AugmentResult {
  const { spec, backend } = prepared;
  const batch = prepared.images.length;
  const params = decodeParams(raw.params);
  let first = 0;
  const groups = spec.crops.map(({ count, size }, g): AugmentGroupResult => {
    const out = raw.outputs[g]!;
    const mask = raw.masks[g];
    const views = batch * count;
    const result: AugmentGroupResult = {
      count,
      size,
      dims: [views, 1, size, size],
      dtype: spec.output,
      views: out instanceof Float32Array || out instanceof Uint16Array ? out : DeviceTensor.fromHandle(out as NativeDeviceTensor),
      params: params.slice(first, first + views),
    };
    if (mask) result.masks = mask instanceof Uint8Array ? mask : DeviceTensor.fromHandle(mask);
    first += views;
    return result;
  });
  return { backend, groups };
}

/** Renders every view of every crop group for the batch, off the event loop. */
export async function augment(
  batch: ImageBatch | readonly SourceImage[],
  spec: AugmentSpec,
  options: AugmentOptions,
): Promise<AugmentResult> {
  const prepared = prepare(batch, spec, options, true);
  try {
    return assemble(prepared, await (callNative(prepared) as Promise<NativeAugmentResult>));
  } catch (error) {
    throw fromNativeError(error, 'augment');
  }
}

/** augment(), blocking the calling thread (small batches, tests). */
export function augmentSync(batch: ImageBatch | readonly SourceImage[], spec: AugmentSpec, options: AugmentOptions): AugmentResult {
  const prepared = prepare(batch, spec, options, false);
  try {
    return assemble(prepared, callNative(prepared) as NativeAugmentResult);
  } catch (error) {
    throw fromNativeError(error, 'augment');
  }
}

/**
 * The parameters (and masks) augment() would draw for images of these shapes, without
 * rendering pixels: for inspection, statistics and reproducing a view elsewhere.
 */
export function augmentParams(
  shapes: readonly Pick<SourceImage, 'height' | 'width' | 'key'>[],
  spec: AugmentSpec,
  options: Pick<AugmentOptions, 'seed' | 'step'>,
): { params: AugmentViewParams[]; masks: Array<Uint8Array | undefined> } {
  if (!Array.isArray(shapes) || shapes.length === 0) throw new InvalidArgumentError('augmentParams: give at least one image shape');
  shapes.forEach((s, i) => {
    if (typeof s !== 'object' || s === null)
      throw new InvalidArgumentError(`augmentParams: shapes[${i}] must be { height, width }, got ${describeValue(s)}`);
  });
  const encoded = encodeAugmentSpec(spec);
  const { seed, step } = seedOf(options);
  const { heights, widths, keys } = shapesOf(shapes.map((s) => ({ ...s, data: new Uint8Array(0) })));
  try {
    const raw = addon().augmentParams({ heights, widths, keys, spec: encoded, seed, step });
    return { params: decodeParams(raw.params), masks: raw.masks.map((m) => m ?? undefined) };
  } catch (error) {
    throw fromNativeError(error, 'augmentParams');
  }
}

/** Decodes 16-bit outputs (raw bfloat16 or float16 bits) to float32. */
export function halfBitsToFloat32(bits: Uint16Array, dtype: 'bfloat16' | 'float16'): Float32Array {
  if (!(bits instanceof Uint16Array))
    throw new InvalidArgumentError(`halfBitsToFloat32: bits must be a Uint16Array, got ${describeValue(bits)}`);
  if (dtype !== 'bfloat16' && dtype !== 'float16')
    throw new InvalidArgumentError(`halfBitsToFloat32: dtype must be 'bfloat16' or 'float16', got ${describeValue(dtype)}`);
  assertAttached(bits, 'bits');
  const out = new Float32Array(bits.length);
  if (dtype === 'bfloat16') {
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < bits.length; i++) u[i] = bits[i]! << 16;
    return out;
  }
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i]!;
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) out[i] = sign * mantissa * 2 ** -24;
    else if (exponent === 31) out[i] = mantissa ? Number.NaN : sign * Infinity;
    else out[i] = sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  return out;
}
