/**
 * The intensity pipeline, in MONAI / PS3.3 C.11 vocabulary:
 * stored values → Modality LUT (rescale slope/intercept or a LUT sequence) →
 * VOI LUT (window center/width with LINEAR, LINEAR_EXACT or SIGMOID, or a VOI
 * LUT sequence; 'auto' percentiles when the file has none) → [0, 1], with
 * MONOCHROME1 inverted so that bright always means dense.
 */
import type { DataSet } from 'dicom-parser';
import { DicomError } from './errors.js';
import type { StoredArray } from './stored.js';

export interface LookupTable {
  firstMapped: number;
  bitsPerEntry: number;
  data: Uint16Array;
}

export type VoiFunction = 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';
export interface WindowSpec {
  center: number;
  width: number;
  voiFunction?: VoiFunction;
}

/** Reads the first item of a Modality (0028,3000) or VOI (0028,3010) LUT sequence. */
export function readLutSequence(ds: DataSet, sequenceTag: string, signedInput: boolean): LookupTable | undefined {
  const item = ds.elements[sequenceTag]?.items?.[0]?.dataSet;
  if (!item) return undefined;
  const descriptor = item.elements.x00283002;
  const dataElement = item.elements.x00283006;
  if (!descriptor || !dataElement) {
    throw new DicomError('ERR_DICOM_BAD_ATTRIBUTE', `LUT sequence ${sequenceTag} item lacks LUT Descriptor or LUT Data`);
  }
  const entries = item.uint16('x00283002', 0) || 65536;
  let firstMapped = item.uint16('x00283002', 1) ?? 0;
  if (signedInput && firstMapped >= 32768) firstMapped -= 65536;
  const declaredBits = item.uint16('x00283002', 2) ?? 16;
  const data = new Uint16Array(entries);
  if (dataElement.length === entries * 2) {
    for (let i = 0; i < entries; i++) data[i] = item.uint16('x00283006', i)!;
  } else if (dataElement.length === entries || dataElement.length === entries + 1) {
    for (let i = 0; i < entries; i++) data[i] = item.byteArray[dataElement.dataOffset + i]!;
  } else {
    throw new DicomError(
      'ERR_DICOM_BAD_ATTRIBUTE',
      `LUT Data holds ${dataElement.length} bytes for ${entries} entries of ${declaredBits} bits`,
    );
  }
  return { firstMapped, bitsPerEntry: entryBits(declaredBits, data), data };
}

/**
 * The VOI LUT output is scaled by 2^bits - 1, so the bit depth must cover the data. PS3.3
 * allows 8–16 bits; a descriptor outside that, or one its own data exceed (a known writer
 * bug), is replaced by the depth the data need, as dcmtk does.
 */
function entryBits(declared: number, data: Uint16Array): number {
  let max = 0;
  for (let i = 0; i < data.length; i++) if (data[i]! > max) max = data[i]!;
  if (declared >= 8 && declared <= 16 && max <= 2 ** declared - 1) return declared;
  return Math.min(16, Math.max(8, Math.ceil(Math.log2(max + 1))));
}

export function applyLut(values: ArrayLike<number>, lut: LookupTable, out: Float32Array, scale = 1): Float32Array {
  const last = lut.data.length - 1;
  for (let i = 0; i < values.length; i++) {
    let index = Math.round(values[i]!) - lut.firstMapped;
    if (index < 0) index = 0;
    else if (index > last) index = last;
    out[i] = lut.data[index]! * scale;
  }
  return out;
}

export function applyRescale(stored: StoredArray, slope: number, intercept: number): Float32Array {
  const out = new Float32Array(stored.length);
  if (slope === 1 && intercept === 0) {
    out.set(stored);
    return out;
  }
  for (let i = 0; i < stored.length; i++) out[i] = stored[i]! * slope + intercept;
  return out;
}

/** PS3.3 C.11.2.1.2 window functions, output in [0, 1]. */
export function applyWindow(values: Float32Array, window: WindowSpec, out: Float32Array): Float32Array {
  const { center: c } = window;
  const w = window.width;
  if (!(w > 0) || !Number.isFinite(c)) {
    throw new DicomError('ERR_DICOM_BAD_ATTRIBUTE', `window width must be > 0 and center finite, got C=${c} W=${w}`);
  }
  const fn = window.voiFunction ?? 'LINEAR';
  if (fn === 'SIGMOID') {
    for (let i = 0; i < values.length; i++) out[i] = 1 / (1 + Math.exp((-4 * (values[i]! - c)) / w));
    return out;
  }
  if (fn === 'LINEAR_EXACT') {
    const low = c - w / 2;
    for (let i = 0; i < values.length; i++) out[i] = clamp01((values[i]! - low) / w);
    return out;
  }
  if (w < 1) throw new DicomError('ERR_DICOM_BAD_ATTRIBUTE', `LINEAR window width must be >= 1, got ${w}`);
  if (w === 1) {
    for (let i = 0; i < values.length; i++) out[i] = values[i]! < c - 0.5 ? 0 : 1;
    return out;
  }
  const base = c - 0.5;
  const span = w - 1;
  for (let i = 0; i < values.length; i++) out[i] = clamp01((values[i]! - base) / span + 0.5);
  return out;
}

/** Linear map of [low, high] to [0, 1], clamped. */
export function applyRange(values: Float32Array, low: number, high: number, out: Float32Array): Float32Array {
  const span = high - low;
  if (!(span > 0)) {
    out.fill(0);
    return out;
  }
  const inv = 1 / span;
  for (let i = 0; i < values.length; i++) out[i] = clamp01((values[i]! - low) * inv);
  return out;
}

export function minMax(values: Float32Array): [number, number] {
  let lo = Infinity,
    hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/**
 * Percentile window from a 4096-bin histogram (exact to 1/4096 of the range):
 * robust to the few saturated or collimated pixels every radiograph has. Images
 * above 2^20 pixels are sampled on a fixed stride (still over a million samples).
 */
export function percentileRange(values: Float32Array, lowerPct = 0.5, upperPct = 99.5): [number, number] {
  const [lo, hi] = minMax(values);
  if (!(hi > lo)) return [lo, hi];
  const stride = Math.max(1, Math.floor(values.length / 2 ** 20));
  const bins = 4096;
  const histogram = new Uint32Array(bins);
  const scale = (bins - 1) / (hi - lo);
  let samples = 0;
  for (let i = 0; i < values.length; i += stride, samples++) histogram[((values[i]! - lo) * scale) | 0]!++;
  const find = (pct: number, fromTop: boolean): number => {
    const target = (samples * pct) / 100;
    let seen = 0;
    for (let k = 0; k < bins; k++) {
      const b = fromTop ? bins - 1 - k : k;
      seen += histogram[b]!;
      if (seen > target) return lo + (fromTop ? b + 1 : b) / scale;
    }
    return fromTop ? hi : lo;
  };
  const low = find(lowerPct, false);
  const high = Math.min(hi, find(100 - upperPct, true));
  return high > low ? [low, high] : [lo, hi];
}

export function readVoiFunction(ds: DataSet): VoiFunction {
  const fn = ds.string('x00281056')?.trim().toUpperCase();
  return fn === 'SIGMOID' || fn === 'LINEAR_EXACT' ? fn : 'LINEAR';
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
