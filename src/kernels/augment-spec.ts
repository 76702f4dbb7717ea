import { InvalidArgumentError } from '../errors.js';
import { describe } from './operands.js';

/**
 * The augmentation spec: what views to cut from each image and which random transforms to
 * apply. Probabilities default to 1 when an option is given (omit the option to turn it off).
 * Validated here with messages that name the field, and encoded into the flat layout the
 * native side reads (native/src/bindings/augment.cc).
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
export const SPEC_LENGTH = 27;
export const GROUP_FIELDS = 11;

function fail(field: string, message: string, value: unknown): never {
  throw new InvalidArgumentError(`augment spec: ${field} ${message}, got ${describe(value)}`, { field });
}

const SECTIONS = ['flip', 'rotate', 'translate', 'intensity', 'blur', 'noise', 'normalize', 'mask'] as const;

function checkSections(spec: AugmentSpec): void {
  for (const key of SECTIONS) {
    const value = spec[key];
    if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) fail(key, 'must be an object when given', value);
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

function encodeMask(mask: MaskSpec | false | undefined, field: string, size: number): number[] {
  if (mask === undefined || mask === false) return [0, 0, 0, 0, 0];
  if (typeof mask !== 'object' || mask === null) fail(field, 'must be an object or false', mask);
  const patch = integer(mask.patchSize, `${field}.patchSize`, 1, size);
  if (size % patch !== 0) fail(`${field}.patchSize`, `must divide the crop size ${size}`, patch);
  const [lo, hi] = range(mask.ratio, `${field}.ratio`, 0, 1);
  const mode = mask.mode ?? 'block';
  if (mode !== 'block' && mode !== 'random') fail(`${field}.mode`, "must be 'block' or 'random'", mode);
  return [mode === 'block' ? 1 : 2, patch, lo, hi, probability(mask.p, `${field}.p`)];
}

export interface EncodedSpec {
  spec: Float64Array;
  groups: Float64Array;
  counts: number[];
  sizes: number[];
  masked: boolean[];
  output: 'float32' | 'bfloat16' | 'float16';
}

/** Validates a spec (typed errors naming the field) and encodes it for the addon. */
export function encodeAugmentSpec(spec: AugmentSpec): EncodedSpec {
  if (typeof spec !== 'object' || spec === null) fail('spec', 'must be an object', spec);
  if (!Array.isArray(spec.crops) || spec.crops.length === 0) fail('crops', 'must list at least one crop group', spec.crops);
  checkSections(spec);
  const groups: number[] = [];
  const counts: number[] = [];
  const sizes: number[] = [];
  const masked: boolean[] = [];
  spec.crops.forEach((crop, g) => {
    const field = `crops[${g}]`;
    if (typeof crop !== 'object' || crop === null || Array.isArray(crop)) fail(field, 'must be { count, size, scale }', crop);
    const count = integer(crop.count, `${field}.count`, 1, 1024);
    const size = integer(crop.size, `${field}.size`, 1, 8192);
    const scale = range(crop.scale, `${field}.scale`, 0, 1, { open: true });
    const ratio = crop.ratio === undefined ? ([3 / 4, 4 / 3] as [number, number]) : range(crop.ratio, `${field}.ratio`, 0, 1e6, { open: true });
    const mask = encodeMask(crop.mask === undefined ? spec.mask : crop.mask, crop.mask === undefined ? 'mask' : `${field}.mask`, size);
    groups.push(count, size, scale[0], scale[1], ratio[0], ratio[1], ...mask);
    counts.push(count);
    sizes.push(size);
    masked.push(mask[0] !== 0);
  });
  const out = new Float64Array(SPEC_LENGTH);
  out[0] = probability(spec.flip?.horizontal, 'flip.horizontal', 0);
  out[1] = probability(spec.flip?.vertical, 'flip.vertical', 0);
  if (spec.rotate) {
    out[2] = probability(spec.rotate.p, 'rotate.p');
    [out[3], out[4]] = symmetric(spec.rotate.degrees, 'rotate.degrees', 180);
  }
  if (spec.translate) {
    out[5] = probability(spec.translate.p, 'translate.p');
    out[6] = spread(spec.translate.x ?? 0, 'translate.x', 1)[0];
    out[7] = spread(spec.translate.y ?? 0, 'translate.y', 1)[0];
  }
  out[9] = out[10] = out[11] = out[12] = out[13] = out[14] = 1;
  if (spec.intensity) {
    out[8] = probability(spec.intensity.p, 'intensity.p');
    [out[9], out[10]] = factor(spec.intensity.brightness, 'intensity.brightness');
    [out[11], out[12]] = factor(spec.intensity.contrast, 'intensity.contrast');
    const gamma = spec.intensity.gamma;
    if (typeof gamma === 'number') {
      if (!Number.isFinite(gamma) || gamma < 1) fail('intensity.gamma', 'must be >= 1 (exponent in [1/g, g]) or a [min, max] range', gamma);
      [out[13], out[14]] = [1 / gamma, gamma];
    } else if (gamma !== undefined) {
      [out[13], out[14]] = range(gamma, 'intensity.gamma', 0, 1e6, { open: true });
    }
  }
  if (spec.blur) {
    out[15] = probability(spec.blur.p, 'blur.p');
    [out[16], out[17]] = spread(spec.blur.sigma, 'blur.sigma', MAX_BLUR_SIGMA);
  }
  if (spec.noise) {
    out[18] = probability(spec.noise.p, 'noise.p');
    [out[19], out[20]] = spread(spec.noise.std, 'noise.std', 1e6);
  }
  out[23] = 1;
  if (spec.window !== undefined && spec.window !== 'none') {
    if (typeof spec.window !== 'object' || spec.window === null) fail('window', "must be { center, width } or 'none'", spec.window);
    out[21] = 1;
    out[22] = num(spec.window.center, 'window.center');
    out[23] = num(spec.window.width, 'window.width');
    if (out[23] <= 0) fail('window.width', 'must be > 0', spec.window.width);
  }
  out[25] = 1;
  if (spec.normalize) {
    out[24] = num(spec.normalize.mean, 'normalize.mean');
    out[25] = num(spec.normalize.std, 'normalize.std');
    if (out[25] <= 0) fail('normalize.std', 'must be > 0', spec.normalize.std);
  }
  const output = spec.output ?? 'float32';
  if (output !== 'float32' && output !== 'bfloat16' && output !== 'float16') fail('output', "must be 'float32', 'bfloat16' or 'float16'", output);
  out[26] = output === 'float32' ? 0 : output === 'bfloat16' ? 1 : 2;
  return { spec: out, groups: Float64Array.from(groups), counts, sizes, masked, output };
}
