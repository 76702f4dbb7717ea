/**
 * Lazily loads the field's own codecs (cornerstone WASM builds of OpenJPEG,
 * CharLS and libjpeg-turbo; jpeg-lossless-decoder-js) once per thread. Each
 * Emscripten factory gets its own options object: sharing one between modules
 * makes embind register symbols twice.
 */
import { createRequire } from 'node:module';
import { Decoder as LosslessDecoder } from 'jpeg-lossless-decoder-js';
import type { OpenJpegModule } from '@cornerstonejs/codec-openjpeg/wasmjs';
import type { CharlsModule } from '@cornerstonejs/codec-charls/wasmjs';
import type { LibJpegTurboModule } from '@cornerstonejs/codec-libjpeg-turbo-8bit/wasmjs';
import type { CodecDecoder, CodecFrameInfo } from '@cornerstonejs/codec-common';
import { DicomError } from './errors.js';

const require = createRequire(import.meta.url);
const silent = () => ({ print() {}, printErr() {} });

type Factory<T> = (options: ReturnType<typeof silent>) => Promise<T>;
let openJpeg: Promise<OpenJpegModule> | undefined;
let charls: Promise<CharlsModule> | undefined;
let libJpegTurbo: Promise<LibJpegTurboModule> | undefined;
const loaded: { openJpeg?: OpenJpegModule; charls?: CharlsModule; libJpegTurbo?: LibJpegTurboModule } = {};

export async function loadOpenJpeg(): Promise<OpenJpegModule> {
  openJpeg ??= (require('@cornerstonejs/codec-openjpeg/wasmjs') as Factory<OpenJpegModule>)(silent());
  return (loaded.openJpeg = await openJpeg);
}
export async function loadCharls(): Promise<CharlsModule> {
  charls ??= (require('@cornerstonejs/codec-charls/wasmjs') as Factory<CharlsModule>)(silent());
  return (loaded.charls = await charls);
}
export async function loadLibJpegTurbo(): Promise<LibJpegTurboModule> {
  libJpegTurbo ??= (require('@cornerstonejs/codec-libjpeg-turbo-8bit/wasmjs') as Factory<LibJpegTurboModule>)(silent());
  return (loaded.libJpegTurbo = await libJpegTurbo);
}

export interface DecodedFrame {
  bytes: Uint8Array;
  info: CodecFrameInfo;
}

/** Runs one WASM decoder; copies the output out of WASM memory before `delete()` frees it. */
function runDecoder(decoder: CodecDecoder, encoded: Uint8Array, codec: CodecName): DecodedFrame {
  try {
    decoder.getEncodedBuffer(encoded.length).set(encoded);
    decoder.decode();
    const info = decoder.getFrameInfo();
    return { bytes: decoder.getDecodedBuffer().slice(), info: { ...info } };
  } catch (error) {
    throw codecFailure(codec, 'decode', error);
  } finally {
    safeDelete(decoder, codec);
  }
}

export type CodecName = 'OpenJPEG' | 'CharLS' | 'libjpeg-turbo';

/**
 * Emscripten throws bare numbers (C++ exception pointers) for codec errors, and a
 * WebAssembly.RuntimeError when the module itself faults (the libjpeg-turbo
 * encoder does on some small images). After a fault the instance's memory cannot
 * be trusted, so it is dropped and the next load instantiates a fresh one.
 */
export function codecFailure(codec: CodecName, action: 'decode' | 'encode', error: unknown): DicomError {
  if (isWasmFault(error)) discard(codec);
  const detail = error instanceof Error ? error.message : `aborted (code ${String(error)})`;
  return new DicomError(
    action === 'decode' ? 'ERR_DICOM_DECODE' : 'ERR_DICOM_ENCODE',
    `${codec} could not ${action} the frame: ${detail}`,
    { codec },
  );
}

export function safeDelete(instance: { delete(): void }, codec: CodecName): void {
  try {
    instance.delete();
  } catch (error) {
    if (isWasmFault(error)) discard(codec);
  }
}

/** WebAssembly.RuntimeError (not in this project's lib typings): a trap inside the module. */
function isWasmFault(error: unknown): boolean {
  return error instanceof Error && error.name === 'RuntimeError';
}

function discard(codec: CodecName): void {
  if (codec === 'OpenJPEG') {
    openJpeg = undefined;
    loaded.openJpeg = undefined;
  }
  if (codec === 'CharLS') {
    charls = undefined;
    loaded.charls = undefined;
  }
  if (codec === 'libjpeg-turbo') {
    libJpegTurbo = undefined;
    loaded.libJpegTurbo = undefined;
  }
}

function need<T>(module: T | undefined, name: string): T {
  if (!module) throw new DicomError('ERR_DICOM_DECODE', `${name} codec used before it was loaded`);
  return module;
}

export function decodeJpeg2000(encoded: Uint8Array): DecodedFrame {
  const mod = need(loaded.openJpeg, 'OpenJPEG');
  return runDecoder(new mod.J2KDecoder(), encoded, 'OpenJPEG');
}

export function decodeJpegLs(encoded: Uint8Array): DecodedFrame & { interleaveMode: number } {
  const mod = need(loaded.charls, 'CharLS');
  const decoder = new mod.JpegLSDecoder();
  let interleaveMode = 0;
  const frame = runDecoder(
    {
      getEncodedBuffer: (n) => decoder.getEncodedBuffer(n),
      decode: () => {
        decoder.decode();
        interleaveMode = decoder.getInterleaveMode();
      },
      getFrameInfo: () => decoder.getFrameInfo(),
      getDecodedBuffer: () => decoder.getDecodedBuffer(),
      delete: () => decoder.delete(),
    },
    encoded,
    'CharLS',
  );
  return { ...frame, interleaveMode };
}

export function decodeJpeg8(encoded: Uint8Array): DecodedFrame {
  const mod = need(loaded.libJpegTurbo, 'libjpeg-turbo');
  return runDecoder(new mod.JPEGDecoder(), encoded, 'libjpeg-turbo');
}

/** Public fields of jpeg-lossless-decoder-js's Decoder that its declaration file leaves out. */
interface LosslessProgress {
  stream: { index: number; buffer: Uint8Array } | null;
  yLoc: number;
  yDim: number;
}

export function decodeJpegLossless(encoded: Uint8Array, bytesPerSample: number): Uint8Array {
  const decoder = new LosslessDecoder();
  const progress = decoder as unknown as LosslessProgress;
  let out: Uint8Array | Uint16Array;
  try {
    const copy = encoded.slice();
    out = decoder.decode(copy.buffer, 0, copy.byteLength, bytesPerSample);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new DicomError('ERR_DICOM_DECODE', `jpeg-lossless-decoder-js could not decode the frame: ${detail}`);
  }
  // The decoder does not fail on a short stream: it reads past the end (as undefined) or stops
  // at an early marker, and returns the image with the rest invented or left zero.
  const overran = progress.stream !== null && progress.stream.index > progress.stream.buffer.length;
  if (overran || progress.yLoc < progress.yDim) {
    throw new DicomError(
      'ERR_DICOM_TRUNCATED',
      `JPEG lossless frame's entropy-coded data ends ` +
        `${overran ? 'before the last' : `after ${progress.yLoc}`} of its ${progress.yDim} rows: the codestream is truncated`,
    );
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
