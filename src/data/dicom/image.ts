/**
 * The decoded-image interface shared by readDicom and readImage: stored values,
 * modality values and a windowed [0, 1] image per frame.
 */
import type { DicomMetadata, PixelModule } from './attributes.js';
import { DicomError } from './errors.js';
import type { StoredArray } from './stored.js';
import {
  applyLut,
  applyRange,
  applyRescale,
  applyWindow,
  minMax,
  percentileRange,
  type LookupTable,
  type VoiFunction,
  type WindowSpec,
} from './lut.js';

export type WindowOption = 'auto' | 'none' | { center: number; width: number; voiFunction?: VoiFunction };

export interface ToImageOptions {
  /** 'auto' (default): the file's VOI LUT or first window, else the 0.5–99.5 percentile range.
   *  'none': the full min–max range. {center, width}: that window (LINEAR unless voiFunction says). */
  window?: WindowOption;
  /** Default true: MONOCHROME1 is inverted so that bright always means dense. */
  invertMonochrome1?: boolean;
  /** Which of several file windows 'auto' uses; default 0 (the first). */
  windowIndex?: number;
  /**
   * Called when a window or VOI LUT (the file's or the one given) maps more than 99% of a
   * greyscale frame's pixels to black or to white: usually window tags that do not match the
   * data. The message names the window and the data range.
   */
  onWarning?: (message: string) => void;
}

/** Above this fraction of pixels at one end of the window, toImage warns. */
export const SATURATED_WINDOW_FRACTION = 0.99;

export interface DicomImage extends Omit<PixelModule, 'planarConfiguration'>, DicomMetadata {
  format: 'dicom' | 'png' | 'jpeg';
  /** '' for PNG/JPEG. */
  transferSyntaxUID: string;
  voiFunction?: VoiFunction;
  /** Source file path when read from disk. */
  path?: string;
  storedPixels(frame?: number): StoredArray;
  modalityPixels(frame?: number): Float32Array;
  toImage(frame?: number, options?: ToImageOptions): Float32Array;
}

export interface ImageInit extends Omit<DicomImage, 'storedPixels' | 'modalityPixels' | 'toImage'> {
  decodeFrame(frame: number): StoredArray;
  modalityLut?: LookupTable;
  voiLut?: LookupTable;
}

export class DecodedImage implements DicomImage {
  format!: 'dicom' | 'png' | 'jpeg';
  rows!: number;
  columns!: number;
  numberOfFrames!: number;
  samplesPerPixel!: number;
  photometricInterpretation!: string;
  bitsAllocated!: number;
  bitsStored!: number;
  highBit!: number;
  pixelRepresentation!: 0 | 1;
  transferSyntaxUID!: string;
  modality?: string;
  viewPosition?: string;
  patientId?: string;
  studyInstanceUID?: string;
  seriesInstanceUID?: string;
  sopInstanceUID?: string;
  pixelSpacing?: [number, number];
  windowCenter?: number[];
  windowWidth?: number[];
  voiFunction?: VoiFunction;
  rescaleSlope!: number;
  rescaleIntercept!: number;
  path?: string;
  readonly #decodeFrame: (frame: number) => StoredArray;
  readonly #modalityLut?: LookupTable;
  readonly #voiLut?: LookupTable;
  #lastFrame = -1;
  #lastStored?: StoredArray;

  constructor(init: ImageInit) {
    const { decodeFrame, modalityLut, voiLut, ...fields } = init;
    Object.assign(this, fields);
    for (const key of Object.keys(fields) as (keyof typeof fields)[]) if (fields[key] === undefined) delete this[key];
    this.#decodeFrame = decodeFrame;
    this.#modalityLut = modalityLut;
    this.#voiLut = voiLut;
  }

  storedPixels(frame = 0): StoredArray {
    if (!Number.isInteger(frame) || frame < 0 || frame >= this.numberOfFrames) {
      throw new DicomError(
        'ERR_DICOM_FRAME_RANGE',
        `${this.path ?? 'image'}: frame ${frame} requested, the image has ${this.numberOfFrames} frame(s)`,
      );
    }
    if (frame !== this.#lastFrame) {
      this.#lastStored = this.#decodeFrame(frame);
      this.#lastFrame = frame;
    }
    return this.#lastStored!;
  }

  modalityPixels(frame = 0): Float32Array {
    const stored = this.storedPixels(frame);
    if (this.samplesPerPixel === 1 && this.#modalityLut) {
      return applyLut(stored, this.#modalityLut, new Float32Array(stored.length));
    }
    // The Modality LUT is defined for greyscale only; colour passes through.
    if (this.samplesPerPixel !== 1) return applyRescale(stored, 1, 0);
    return applyRescale(stored, this.rescaleSlope, this.rescaleIntercept);
  }

  /** The file's window at `index` (clamped), or undefined when absent or unusable (width below the VOI function's minimum). */
  private fileWindow(index: number): WindowSpec | undefined {
    if (!this.windowCenter?.length || !this.windowWidth?.length) return undefined;
    const i = Math.min(index, this.windowCenter.length - 1, this.windowWidth.length - 1);
    const spec: WindowSpec = { center: this.windowCenter[i]!, width: this.windowWidth[i]!, voiFunction: this.voiFunction };
    const minWidth = (spec.voiFunction ?? 'LINEAR') === 'LINEAR' ? 1 : Number.MIN_VALUE;
    return Number.isFinite(spec.center) && spec.width >= minWidth ? spec : undefined;
  }

  toImage(frame = 0, options: ToImageOptions = {}): Float32Array {
    const window = options.window ?? 'auto';
    const values = this.modalityPixels(frame);
    const out = values; // windowed in place
    if (this.samplesPerPixel === 3) {
      if (typeof window === 'object') return applyWindow(values, window, out);
      return applyRange(values, 0, 2 ** this.bitsStored - 1, out);
    }
    // The data range is taken before windowing overwrites the values, only when a warning can follow.
    const range = options.onWarning && window !== 'none' ? minMax(values) : undefined;
    let applied: string | undefined; // the window a saturated result is blamed on
    if (window === 'none') {
      const [lo, hi] = minMax(values);
      applyRange(values, lo, hi, out);
    } else if (typeof window === 'object') {
      applyWindow(values, window, out);
      applied = `the window given (center ${window.center}, width ${window.width})`;
    } else if (this.#voiLut) {
      applyLut(values, this.#voiLut, out, 1 / (2 ** this.#voiLut.bitsPerEntry - 1));
      applied = `the file's VOI LUT (${this.#voiLut.data.length} entries from ${this.#voiLut.firstMapped})`;
    } else if (this.fileWindow(options.windowIndex ?? 0)) {
      const spec = this.fileWindow(options.windowIndex ?? 0)!;
      applyWindow(values, spec, out);
      applied = `the file's window (WindowCenter ${spec.center}, WindowWidth ${spec.width})`;
    } else {
      const [lo, hi] = percentileRange(values);
      applyRange(values, lo, hi, out);
    }
    if (this.photometricInterpretation === 'MONOCHROME1' && options.invertMonochrome1 !== false) {
      for (let i = 0; i < out.length; i++) out[i] = 1 - out[i]!;
    }
    if (range && applied) this.warnIfSaturated(out, frame, applied, range, options.onWarning!);
    return out;
  }

  private warnIfSaturated(out: Float32Array, frame: number, applied: string, range: [number, number], warn: (m: string) => void): void {
    let black = 0,
      white = 0;
    for (let i = 0; i < out.length; i++) {
      const v = out[i]!;
      if (v <= 0) black++;
      else if (v >= 1) white++;
    }
    const [end, count] = white >= black ? ['white', white] : ['black', black];
    if (out.length === 0 || count / out.length <= SATURATED_WINDOW_FRACTION) return;
    const percent = ((100 * count) / out.length).toFixed(count === out.length ? 0 : 1);
    const units = this.rescaleSlope !== 1 || this.rescaleIntercept !== 0 || this.#modalityLut ? 'modality values' : 'stored values';
    warn(
      `${this.path ?? 'image'}${this.numberOfFrames > 1 ? ` frame ${frame}` : ''}: ${applied} maps ${percent}% of the pixels to ${end}; ` +
        `the data range is ${range[0]} to ${range[1]} (${units}); the window does not match the data, try window 'none' or one inside that range`,
    );
  }
}
