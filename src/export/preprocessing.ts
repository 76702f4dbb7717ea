/**
 * The preprocessing a classifier.onnx was trained with, stored in the model's metadata under
 * 'radlearn.preprocessing' so that the model says how to make its input: which files it reads,
 * how they are windowed, fitted to a square, resized, quantised, scaled and normalised. It is
 * exactly the image cache's recipe (src/data/cache/preprocess.ts) followed by the trainer's
 * scaling (src/train/images.ts), and preprocessForClassifier replays it through that same code.
 */
import { preprocessImage, type PreprocessSettings } from '../data/cache/preprocess.js';
import type { WindowOption } from '../data/dicom/image.js';
import { RadlearnError } from '../errors.js';

export const PREPROCESSING_METADATA_KEY = 'radlearn.preprocessing';

/** The metadata is malformed, missing, or names preprocessing radlearn cannot replay. */
export class ClassifierMetadataError extends RadlearnError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('ERR_CLASSIFIER_METADATA', message, details);
  }
}

export interface ClassifierPreprocessing {
  /** Version of this description's layout. */
  schema: 1;
  /** File formats the recipe decodes (by content, not extension). */
  inputs: Array<'dicom' | 'png' | 'jpeg'>;
  /** Model input name and layout: float32 [batch, channels, height, width]. */
  inputName: string;
  layout: 'NCHW';
  channels: 1;
  height: number;
  width: number;
  /** squarePad: longer side resized to the size keeping aspect, centred on a zero canvas; squareStretch: both sides resized. */
  fit: 'squarePad' | 'squareStretch';
  /** 'auto', 'none' or a fixed {center, width}; see windowDescription for what it means. */
  window: WindowOption;
  windowDescription: string;
  /** MONOCHROME1 DICOMs are inverted after windowing so that bright means dense. */
  invertMonochrome1: true;
  /** Antialiased resize: 'area' averages each output pixel's input footprint. */
  filter: 'area' | 'triangle' | 'lanczos3';
  /** 'grey': RGB sources become luma = rgbToGrey · (R, G, B) before resizing. */
  color: 'grey';
  rgbToGrey: [number, number, number];
  /** Windowed [0, 1] values are quantised to this integer type (round to nearest, clamped)... */
  dtype: 'uint16' | 'uint8';
  /** ...then divided by this (65535 for uint16) back to [0, 1]... */
  scale: number;
  /** ...then (x - mean[c]) / std[c] per channel. */
  mean: number[];
  std: number[];
  /**
   * Informative: the encoder inside the model was trained on `channels`-channel images normalised
   * per channel with this mean/std (from its sidecar). The model itself replicates the grey input
   * and applies this, so the input stays the 1-channel tensor described above.
   */
  encoderInput?: { channels: number; mean: number[]; std: number[] };
}

const WINDOW_AUTO =
  "DICOM: the file's VOI LUT if present, else its first Window Center/Width (0028,1050/1051) with its VOI LUT Function (LINEAR by default), " +
  'applied after Rescale Slope/Intercept; without either, and for greyscale PNG/JPEG, the 0.5th to 99.5th percentile range of the pixel values ' +
  '(4096-bin histogram) mapped linearly to [0, 1] and clamped. RGB PNG/JPEG: the full range 0..2^bits-1 mapped to [0, 1].';

function describeWindow(window: WindowOption): string {
  if (window === 'auto') return WINDOW_AUTO;
  if (window === 'none') return 'the full min-max range of the (rescaled) pixel values mapped linearly to [0, 1]';
  return `the fixed window center ${window.center}, width ${window.width} (${window.voiFunction ?? 'LINEAR'}) mapped to [0, 1]`;
}

/** The description of a recipe: the cache settings the pixels were made with, then the trainer's mean/std. */
export function classifierPreprocessing(
  settings: PreprocessSettings,
  normalise: { mean: number; std: number; encoderInput?: { channels: number; mean: number[]; std: number[] } },
  inputName = 'image',
): ClassifierPreprocessing {
  if (settings.color !== 'grey') throw new ClassifierMetadataError(`classifier preprocessing: colour '${settings.color}' is not supported`);
  if (settings.fit === 'shortSide')
    throw new ClassifierMetadataError(
      "classifier preprocessing: fit 'shortSide' gives no fixed input size; use squarePad or squareStretch",
    );
  return {
    schema: 1,
    inputs: ['dicom', 'png', 'jpeg'],
    inputName,
    layout: 'NCHW',
    channels: 1,
    height: settings.size,
    width: settings.size,
    fit: settings.fit,
    window: settings.window,
    windowDescription: describeWindow(settings.window),
    invertMonochrome1: true,
    filter: settings.filter,
    color: 'grey',
    rgbToGrey: [0.299, 0.587, 0.114],
    dtype: settings.dtype,
    scale: settings.dtype === 'uint16' ? 65535 : 255,
    mean: [normalise.mean],
    std: [normalise.std],
    ...(normalise.encoderInput
      ? { encoderInput: { channels: normalise.encoderInput.channels, mean: normalise.encoderInput.mean, std: normalise.encoderInput.std } }
      : {}),
  };
}

/** Checks a parsed 'radlearn.preprocessing' value field by field; `where` names the model. */
export function parsePreprocessing(value: unknown, where: string): ClassifierPreprocessing {
  const bad = (field: string, expected: string): never => {
    throw new ClassifierMetadataError(`${where}: metadata ${PREPROCESSING_METADATA_KEY} field ${field}: expected ${expected}`, {
      path: where,
      field,
    });
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('(root)', 'a JSON object');
  const p = value as Record<string, unknown>;
  if (p.schema !== 1) bad('schema', '1');
  const positiveInt = (k: string) => (Number.isInteger(p[k]) && (p[k] as number) > 0 ? (p[k] as number) : bad(k, 'a positive integer'));
  const oneOf = <T extends string>(k: string, options: readonly T[]): T =>
    options.includes(p[k] as T) ? (p[k] as T) : bad(k, `one of ${options.join(', ')}`);
  const numbers = (k: string, positive: boolean): number[] => {
    const v = p[k];
    if (!Array.isArray(v) || v.length !== 1 || !v.every((x) => typeof x === 'number' && Number.isFinite(x) && (!positive || x > 0)))
      bad(k, `an array of 1 finite${positive ? ' positive' : ''} number (one per channel)`);
    return v as number[];
  };
  const window = p.window;
  const windowOk =
    window === 'auto' ||
    window === 'none' ||
    (typeof window === 'object' &&
      window !== null &&
      Number.isFinite((window as { center?: unknown }).center) &&
      Number.isFinite((window as { width?: unknown }).width));
  if (!windowOk) bad('window', "'auto', 'none' or {center, width}");
  const inputs = p.inputs;
  if (!Array.isArray(inputs) || !inputs.every((f) => f === 'dicom' || f === 'png' || f === 'jpeg'))
    bad('inputs', 'an array of dicom, png, jpeg');
  const rgb = p.rgbToGrey;
  if (!Array.isArray(rgb) || rgb.length !== 3 || !rgb.every((x) => typeof x === 'number')) bad('rgbToGrey', 'three numbers');
  if (typeof p.inputName !== 'string' || p.inputName === '') bad('inputName', 'a non-empty string');
  if (p.channels !== 1) bad('channels', '1');
  if (p.color !== 'grey') bad('color', "'grey'");
  const dtype = oneOf('dtype', ['uint16', 'uint8'] as const);
  if (p.scale !== (dtype === 'uint16' ? 65535 : 255)) bad('scale', `${dtype === 'uint16' ? 65535 : 255} for ${dtype}`);
  return {
    schema: 1,
    inputs: inputs as ClassifierPreprocessing['inputs'],
    inputName: p.inputName as string,
    layout: oneOf('layout', ['NCHW'] as const),
    channels: 1,
    height: positiveInt('height'),
    width: positiveInt('width'),
    fit: oneOf('fit', ['squarePad', 'squareStretch'] as const),
    window: window as WindowOption,
    windowDescription: typeof p.windowDescription === 'string' ? p.windowDescription : describeWindow(window as WindowOption),
    invertMonochrome1: true,
    filter: oneOf('filter', ['area', 'triangle', 'lanczos3'] as const),
    color: 'grey',
    rgbToGrey: rgb as [number, number, number],
    dtype,
    scale: p.scale as number,
    mean: numbers('mean', false),
    std: numbers('std', true),
    ...encoderInputOf(p.encoderInput, bad),
  };
}

function encoderInputOf(value: unknown, bad: (field: string, expected: string) => never): Pick<ClassifierPreprocessing, 'encoderInput'> {
  if (value === undefined) return {};
  const e = value as { channels?: unknown; mean?: unknown; std?: unknown } | null;
  const finite = (v: unknown, n: unknown) =>
    Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (typeof e !== 'object' || e === null || !Number.isInteger(e.channels) || !finite(e.mean, e.channels) || !finite(e.std, e.channels))
    return bad('encoderInput', '{channels, mean, std} with one mean and std per channel');
  return { encoderInput: { channels: e.channels as number, mean: e.mean as number[], std: e.std as number[] } };
}

/** The image cache settings that make these pixels. */
export function cacheSettingsOf(p: ClassifierPreprocessing): PreprocessSettings {
  if (p.height !== p.width)
    throw new ClassifierMetadataError(`preprocessing for ${p.height}x${p.width}: only square inputs can be replayed`);
  const [r, g, b] = p.rgbToGrey;
  // the cache's luma weights are fixed; a description with others could not be replayed exactly
  if (r !== 0.299 || g !== 0.587 || b !== 0.114)
    throw new ClassifierMetadataError(`preprocessing rgbToGrey ${JSON.stringify(p.rgbToGrey)}: radlearn converts with 0.299, 0.587, 0.114`);
  return { size: p.height, dtype: p.dtype, window: p.window, fit: p.fit, filter: p.filter, color: 'grey' };
}

/**
 * One DICOM/PNG/JPEG file as the classifier's input, float32 [1, 1, H, W]: the same pixels the
 * trainer fed the encoder (decoded and resized by the image cache's own code, then scaled and
 * normalised as the trainer does).
 */
export async function preprocessForClassifier(file: string, preprocessing: ClassifierPreprocessing): Promise<Float32Array> {
  const image = await preprocessImage(file, cacheSettingsOf(preprocessing));
  const { height, width, scale } = preprocessing;
  if (image.rows !== height || image.columns !== width)
    throw new ClassifierMetadataError(`${file}: preprocessed to ${image.rows}x${image.columns}, expected ${height}x${width}`, {
      path: file,
    });
  const mean = preprocessing.mean[0]!;
  const std = preprocessing.std[0]!;
  const px = image.data;
  const channels = image.channels;
  const out = new Float32Array(height * width);
  // the trainer's expression (src/train/images.ts readImages), so the floats are bit-identical
  for (let k = 0; k < out.length; k++) out[k] = (px[k * channels]! / scale - mean) / std;
  return out;
}
