/**
 * The paths a user's image file takes through radlearn, run one after another on one input:
 * read and window every frame, render like `radlearn dicom png`, preprocess like
 * `radlearn cache build`, and (for DICOM) describe like `radlearn dicom info`. Each path runs
 * even when an earlier one failed, so a header-only bug is not hidden by a pixel error.
 *
 * Results are checked, not only survived: wrong shapes, values outside [0, 1], NaN, headers
 * that disagree with the pixels, and typed errors that do not name the file are reported as
 * plain Errors, which the runner counts as untyped (silent garbage is a failure too).
 */
import { writeFile } from 'node:fs/promises';
import {
  DicomError,
  RadlearnError,
  encodePngImage,
  readDicom,
  readDicomHeader,
  readImage,
  type DicomImage,
  type WindowOption,
} from '../../src/index.js';
import { preprocessImage, type PreprocessSettings } from '../../src/data/cache/preprocess.js';
import { dicomInfoLines } from '../../src/cli/commands/dicom.js';

export interface PipelineOptions {
  /** What `dicom png` renders: the window and the PNG depth. */
  window: WindowOption;
  /** Which of the file's windows 'auto' uses. */
  windowIndex: number;
  depth: 8 | 16;
  cache: PreprocessSettings;
}

export class GarbageError extends Error {
  override name = 'GarbageError';
}

function expect(condition: boolean, message: string): void {
  if (!condition) throw new GarbageError(message);
}

/** Runs every step, then rethrows the worst failure: untyped before typed. */
export async function runPipeline(kind: 'dicom' | 'image', bytes: Uint8Array, file: string, options: PipelineOptions): Promise<void> {
  await writeFile(file, bytes);
  const steps: Array<() => Promise<unknown>> = [
    async () => {
      const image = kind === 'dicom' ? await readDicom(bytes, { path: file }) : await readImage(bytes, { path: file });
      checkImage(image);
      for (let frame = 0; frame < image.numberOfFrames; frame++) checkWindowed(image, image.toImage(frame), `frame ${frame}`);
      const rendered = image.toImage(0, { window: options.window, windowIndex: options.windowIndex });
      checkWindowed(image, rendered, `window ${JSON.stringify(options.window)}`);
      const png = encodePngImage(rendered, image.rows, image.columns, image.samplesPerPixel === 3 ? 3 : 1, { bitDepth: options.depth });
      expect(png.length > 57, `PNG of ${png.length} bytes`);
      if (kind === 'dicom') await checkHeaderAgrees(bytes, file, image);
    },
    async () => {
      const cached = await preprocessImage(file, options.cache);
      expect(
        cached.data.length === cached.rows * cached.columns * cached.channels,
        `cache entry has ${cached.data.length} values for ${cached.rows}x${cached.columns}x${cached.channels}`,
      );
      expect(cached.rows >= 1 && cached.columns >= 1, `cache entry is ${cached.rows}x${cached.columns}`);
    },
  ];
  if (kind === 'dicom') {
    steps.push(async () => {
      const lines = await dicomInfoLines(file);
      expect(lines.length > 0 && lines.every((line) => !/NaN|undefined/.test(line)), `dicom info printed ${JSON.stringify(lines)}`);
    });
  }
  let typed: RadlearnError | undefined;
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      if (!(error instanceof RadlearnError)) throw error;
      if (!error.message.includes(file)) throw new GarbageError(`typed error ${error.code} does not name the file: ${error.message}`);
      if (hidesInternalError(error)) throw new GarbageError(`typed error ${error.code} wraps an internal exception: ${error.message}`);
      typed ??= error;
    }
  }
  if (typed) throw typed;
}

/**
 * readDicom turns any exception it did not expect into ERR_DICOM_DECODE with the exception as
 * its cause: a safety net for users, but for the fuzzer a bug hiding behind a code. (PNG/JPEG
 * errors carry sharp's error as their cause on purpose, so only DICOM errors are checked.)
 */
function hidesInternalError(error: RadlearnError): boolean {
  return error instanceof DicomError && error.cause !== undefined && !(error.cause instanceof RadlearnError);
}

function checkImage(image: DicomImage): void {
  const positive = (n: number) => Number.isInteger(n) && n >= 1;
  expect(
    positive(image.rows) && positive(image.columns) && positive(image.numberOfFrames),
    `image is ${image.rows}x${image.columns}x${image.numberOfFrames}`,
  );
  expect(image.samplesPerPixel === 1 || image.samplesPerPixel === 3, `samplesPerPixel ${image.samplesPerPixel}`);
  expect([1, 8, 16, 32].includes(image.bitsAllocated), `bitsAllocated ${image.bitsAllocated}`);
  expect(image.bitsStored >= 1 && image.bitsStored <= image.bitsAllocated, `bitsStored ${image.bitsStored} of ${image.bitsAllocated}`);
  const stored = image.storedPixels(0);
  expect(
    stored.length === image.rows * image.columns * image.samplesPerPixel,
    `frame 0 has ${stored.length} stored values for ${image.rows}x${image.columns}x${image.samplesPerPixel}`,
  );
  expect(
    Number.isFinite(image.rescaleSlope) && image.rescaleSlope !== 0 && Number.isFinite(image.rescaleIntercept),
    `rescale ${image.rescaleSlope}/${image.rescaleIntercept}`,
  );
}

function checkWindowed(image: DicomImage, pixels: Float32Array, what: string): void {
  const expected = image.rows * image.columns * image.samplesPerPixel;
  expect(pixels.length === expected, `${what}: ${pixels.length} values, expected ${expected}`);
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i]!;
    if (!(v >= 0 && v <= 1)) throw new GarbageError(`${what}: value ${v} at ${i} is outside [0, 1]`);
  }
}

async function checkHeaderAgrees(bytes: Uint8Array, file: string, image: DicomImage): Promise<void> {
  const header = await readDicomHeader(bytes, { path: file });
  expect(
    header.rows === image.rows && header.columns === image.columns && header.numberOfFrames === image.numberOfFrames,
    `header says ${header.rows}x${header.columns}x${header.numberOfFrames}, image is ${image.rows}x${image.columns}x${image.numberOfFrames}`,
  );
}
