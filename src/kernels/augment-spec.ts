import { InvalidArgumentError, describeValue } from '../errors.js';
import type { NativeAugmentSpec, NativeRange } from '../native/types.js';

/**
 * The augmentation spec: what views to cut from each image and which random transforms to
 * apply. Probabilities default to 1 when an option is given (omit the option to turn it off).
 * Validated here with messages that name the field, and encoded with every default applied
 * into the object the native side reads by name (native/src/bindings/augment_spec.cc).
 */
export type Range = readonly [number, number];

export interface MaskSpec {
  /** Patch side in output pixels; must divide the crop size. */
  patchSize: number;
  /** Masked fraction of patches, drawn uniformly per view. */
  ratio: Range;
  /** Probability that a view is masked at all (default 1; DINOv2/iBOT use 0.5). */
  p?: number;
  /** 'block' (BEiT/iBOT blocks, default) or 'random' (independent patches). */
  mode?: 'block' | 'random';
}

export interface CropSpec {
  /** Views per image in this group. */
  count: number;
  /** Output side in pixels (square views). */
  size: number;
  /** Fraction of the source area, in (0, 1] (RandomResizedCrop's scale). */
  scale: Range;
  /** Width / height range, sampled log-uniformly (default [3/4, 4/3]). */
  ratio?: Range;
  /** Overrides spec.mask for this group; false turns masks off for it. */
  mask?: MaskSpec | false;
}

export interface AugmentSpec {
  crops: readonly CropSpec[];
  /** Flip probabilities. */
  flip?: { horizontal?: number; vertical?: number };
  /** Rotation by an angle drawn uniformly from ±degrees (or [min, max]). */
  rotate?: { degrees: number | Range; p?: number };
  /** Shift by up to ±x / ±y of the crop's width / height. */
  translate?: { x?: number; y?: number; p?: number };
  /**
   * Brightness b: factor in [max(0, 1-b), 1+b] (or a [min, max] factor range); contrast the
   * same, around mid-grey 0.5; gamma g >= 1: exponent log-uniform in [1/g, g] (or [min, max]).
   * The three fire together with probability p.
   */
  intensity?: { brightness?: number | Range; contrast?: number | Range; gamma?: number | Range; p?: number };
  /** Gaussian blur with sigma (output pixels, <= 8) drawn uniformly. */
  blur?: { sigma: number | Range; p?: number };
  /** Additive Gaussian noise with std drawn uniformly (display units). */
  noise?: { std: number | Range; p?: number };
  /**
   * Display window in source units: v = clamp((raw - (center - width/2)) / width, 0, 1).
   * 'none' (default): uint8 / 255, uint16 / 65535, float32 as is.
   */
  window?: { center: number; width: number } | 'none';
  /** (v - mean) / std after everything else (default mean 0, std 1). */
  normalize?: { mean: number; std: number };
  /** iBOT-style patch masks for every crop group (override per group with crops[i].mask). */
  mask?: MaskSpec;
  output?: 'float32' | 'bfloat16' | 'float16';
}

export const MAX_BLUR_SIGMA = 8;

function fail(field: string, message: string, value: unknown): never {
  throw new InvalidArgumentError(`augment spec: ${field} ${message}, got ${describeValue(value)}`, { field });
}

const SECTIONS = ['flip', 'rotate', 'translate', 'intensity', 'blur', 'noise', 'normalize', 'mask'] as const;

function checkSections(spec: AugmentSpec): void {
  for (const key of SECTIONS) {
    const value = spec[key];
    if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value)))
      fail(key, 'must be an object when given', value);
  }
}

function num(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(field, 'must be a finite number', value);
  return value;
}

function integer(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(field, `must be an integer in [${min}, ${max}]`, value);
  }
  return value;
}

function probability(value: unknown, field: string, fallback = 1): number {
  if (value === undefined) return fallback;
  const p = num(value, field);
  if (p < 0 || p > 1) fail(field, 'must be a probability in [0, 1]', value);
  return p;
}

function range(value: unknown, field: string, lo: number, hi: number, { open = false } = {}): [number, number] {
  if (!Array.isArray(value) || value.length !== 2) fail(field, 'must be a [min, max] pair', value);
  const a = num(value[0], `${field}[0]`);
  const b = num(value[1], `${field}[1]`);
  if (a > b || (open ? a <= lo : a < lo) || b > hi) fail(field, `must satisfy ${lo} ${open ? '<' : '<='} min <= max <= ${hi}`, value);
  return [a, b];
}

/** A jitter amount j (factor in [max(0, 1-j), 1+j]) or an explicit factor range. */
function factor(value: unknown, field: string): [number, number] {
  if (value === undefined) return [1, 1];
  if (typeof value === 'number') {
    const j = num(value, field);
    if (j < 0) fail(field, 'must be >= 0', value);
    return [Math.max(0, 1 - j), 1 + j];
  }
  return range(value, field, 0, 1e6);
}

function symmetric(value: unknown, field: string, max: number): [number, number] {
  if (typeof value === 'number') {
    const d = num(value, field);
    if (d < 0 || d > max) fail(field, `must be in [0, ${max}]`, value);
    return [-d, d];
  }
  return range(value, field, -max, max);
}

function spread(value: unknown, field: string, max: number): [number, number] {
  if (typeof value === 'number') {
    const v = num(value, field);
    if (v < 0 || v > max) fail(field, `must be in [0, ${max}]`, value);
    return [v, v];
  }
  return range(value, field, 0, max);
}

type NativeMask = NativeAugmentSpec['crops'][number]['mask'];

function encodeMask(mask: MaskSpec | false | undefined, field: string, size: number): NativeMask {
  if (mask === undefined || mask === false) return null;
  if (typeof mask !== 'object' || mask === null) fail(field, 'must be an object or false', mask);
  const patchSize = integer(mask.patchSize, `${field}.patchSize`, 1, size);
  if (size % patchSize !== 0) fail(`${field}.patchSize`, `must divide the crop size ${size}`, patchSize);
  const ratio = range(mask.ratio, `${field}.ratio`, 0, 1);
  const mode = mask.mode ?? 'block';
  if (mode !== 'block' && mode !== 'random') fail(`${field}.mode`, "must be 'block' or 'random'", mode);
  return { mode, patchSize, ratio, p: probability(mask.p, `${field}.p`) };
}

function encodeCrops(spec: AugmentSpec): NativeAugmentSpec['crops'] {
  return spec.crops.map((crop, g) => {
    const field = `crops[${g}]`;
    if (typeof crop !== 'object' || crop === null || Array.isArray(crop)) fail(field, 'must be { count, size, scale }', crop);
    const count = integer(crop.count, `${field}.count`, 1, 1024);
    const size = integer(crop.size, `${field}.size`, 1, 8192);
    const scale = range(crop.scale, `${field}.scale`, 0, 1, { open: true });
    const ratio: NativeRange = crop.ratio === undefined ? [3 / 4, 4 / 3] : range(crop.ratio, `${field}.ratio`, 0, 1e6, { open: true });
    const mask = encodeMask(crop.mask === undefined ? spec.mask : crop.mask, crop.mask === undefined ? 'mask' : `${field}.mask`, size);
    return { count, size, scale, ratio, mask };
  });
}

function encodeGamma(gamma: number | Range | undefined): NativeRange {
  if (gamma === undefined) return [1, 1];
  if (typeof gamma === 'number') {
    if (!Number.isFinite(gamma) || gamma < 1) fail('intensity.gamma', 'must be >= 1 (exponent in [1/g, g]) or a [min, max] range', gamma);
    return [1 / gamma, gamma];
  }
  return range(gamma, 'intensity.gamma', 0, 1e6, { open: true });
}

function encodeWindow(window: AugmentSpec['window']): NativeAugmentSpec['window'] {
  if (window === undefined || window === 'none') return null;
  if (typeof window !== 'object' || window === null) fail('window', "must be { center, width } or 'none'", window);
  const center = num(window.center, 'window.center');
  const width = num(window.width, 'window.width');
  if (width <= 0) fail('window.width', 'must be > 0', window.width);
  return { center, width };
}

function encodeNormalize(normalize: AugmentSpec['normalize']): NativeAugmentSpec['normalize'] {
  if (!normalize) return { mean: 0, std: 1 };
  const mean = num(normalize.mean, 'normalize.mean');
  const std = num(normalize.std, 'normalize.std');
  if (std <= 0) fail('normalize.std', 'must be > 0', normalize.std);
  return { mean, std };
}

/** Validates a spec (typed errors naming the field) and encodes it for the addon, every default applied. */
export function encodeAugmentSpec(spec: AugmentSpec): NativeAugmentSpec {
  if (typeof spec !== 'object' || spec === null) fail('spec', 'must be an object', spec);
  if (!Array.isArray(spec.crops) || spec.crops.length === 0) fail('crops', 'must list at least one crop group', spec.crops);
  checkSections(spec);
  const crops = encodeCrops(spec);
  const flip = {
    horizontal: probability(spec.flip?.horizontal, 'flip.horizontal', 0),
    vertical: probability(spec.flip?.vertical, 'flip.vertical', 0),
  };
  const rotate = spec.rotate
    ? { p: probability(spec.rotate.p, 'rotate.p'), degrees: symmetric(spec.rotate.degrees, 'rotate.degrees', 180) }
    : { p: 0, degrees: [0, 0] as NativeRange };
  const translate = spec.translate
    ? {
        p: probability(spec.translate.p, 'translate.p'),
        x: spread(spec.translate.x ?? 0, 'translate.x', 1)[0],
        y: spread(spec.translate.y ?? 0, 'translate.y', 1)[0],
      }
    : { p: 0, x: 0, y: 0 };
  const intensity = spec.intensity
    ? {
        p: probability(spec.intensity.p, 'intensity.p'),
        brightness: factor(spec.intensity.brightness, 'intensity.brightness'),
        contrast: factor(spec.intensity.contrast, 'intensity.contrast'),
        gamma: encodeGamma(spec.intensity.gamma),
      }
    : { p: 0, brightness: [1, 1] as NativeRange, contrast: [1, 1] as NativeRange, gamma: [1, 1] as NativeRange };
  const blur = spec.blur
    ? { p: probability(spec.blur.p, 'blur.p'), sigma: spread(spec.blur.sigma, 'blur.sigma', MAX_BLUR_SIGMA) }
    : { p: 0, sigma: [0, 0] as NativeRange };
  const noise = spec.noise
    ? { p: probability(spec.noise.p, 'noise.p'), std: spread(spec.noise.std, 'noise.std', 1e6) }
    : { p: 0, std: [0, 0] as NativeRange };
  const window = encodeWindow(spec.window);
  const normalize = encodeNormalize(spec.normalize);
  const output = spec.output ?? 'float32';
  if (output !== 'float32' && output !== 'bfloat16' && output !== 'float16')
    fail('output', "must be 'float32', 'bfloat16' or 'float16'", output);
  return { crops, flip, rotate, translate, intensity, blur, noise, window, normalize, output };
}
