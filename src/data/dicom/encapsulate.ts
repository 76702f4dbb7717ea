/**
 * encodeDicom: writes a DicomWriteSpec in any supported transfer syntax,
 * compressing each frame with an encoder: RLE and JPEG lossless (process 14)
 * written here, JPEG-LS (CharLS), JPEG 2000 (OpenJPEG) and 8-bit JPEG baseline
 * (libjpeg-turbo) from the cornerstone codecs, and 12-bit greyscale JPEG Extended
 * (written here). For fixtures, phantoms and tests.
 */
import { DicomError } from './errors.js';
import { TransferSyntax, isEncapsulatedSyntax, transferSyntaxName } from './syntax.js';
import { writeDicom, writeEncapsulatedDicom, type DicomWriteSpec } from './write.js';
import { encodeRle } from './rle.js';
import { encodeJpegLossless } from './jpegLosslessEncode.js';
import { encodeJpegDct } from './jpegDctEncode.js';
import { codecFailure, loadCharls, loadLibJpegTurbo, loadOpenJpeg, safeDelete, type CodecName } from './codecs.js';
import type { CodecEncoder, CodecFrameInfo } from '@cornerstonejs/codec-common';

export interface EncodeOptions {
  /** JPEG-LS near-lossless error bound (syntax .81); default 2. */
  nearLossless?: number;
  /** JPEG baseline quality 1-100; default 90. */
  jpegQuality?: number;
  /** Lossy JPEG 2000 (.91) compression ratio; default 8. */
  j2kCompressionRatio?: number;
  /** Quantization step of the 12-bit JPEG Extended encoder, 1-255 (default 2). */
  jpegQuantStep?: number;
  /** JPEG lossless predictor 1-7 for syntax .57 (default 1; .70 is always 1). */
  jpegPredictor?: number;
}

export async function encodeDicom(spec: DicomWriteSpec, options: EncodeOptions = {}): Promise<Uint8Array> {
  const syntax = spec.transferSyntaxUID ?? TransferSyntax.ExplicitVRLittleEndian;
  if (!isEncapsulatedSyntax(syntax)) return writeDicom(spec);
  const frames = spec.numberOfFrames ?? 1;
  const samples = spec.samplesPerPixel ?? 1;
  const perFrame = spec.rows * spec.columns * samples;
  if (spec.pixels.length !== perFrame * frames) {
    throw new DicomError('ERR_DICOM_PIXEL_LENGTH', `pixels has ${spec.pixels.length} values, expected ${perFrame * frames}`);
  }
  const encoded: Uint8Array[] = [];
  for (let f = 0; f < frames; f++) {
    const framePixels = spec.pixels.subarray(f * perFrame, (f + 1) * perFrame);
    encoded.push(await encodeFrame(syntax, spec, framePixels, options));
  }
  const { pixels: _pixels, ...header } = spec;
  const photometric =
    spec.photometricInterpretation ??
    (samples === 3
      ? syntax === TransferSyntax.JpegBaseline || syntax === TransferSyntax.JpegExtended
        ? 'YBR_FULL_422'
        : syntax === TransferSyntax.Jpeg2000Lossless
          ? 'YBR_RCT'
          : syntax === TransferSyntax.Jpeg2000
            ? 'YBR_ICT'
            : 'RGB'
      : 'MONOCHROME2');
  return writeEncapsulatedDicom({ ...header, transferSyntaxUID: syntax, photometricInterpretation: photometric }, encoded);
}

async function encodeFrame(
  syntax: string,
  spec: DicomWriteSpec,
  pixels: DicomWriteSpec['pixels'],
  options: EncodeOptions,
): Promise<Uint8Array> {
  const samples = spec.samplesPerPixel ?? 1;
  const bitsStored = spec.bitsStored ?? spec.bitsAllocated;
  const bytes = new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  const info: CodecFrameInfo = {
    width: spec.columns,
    height: spec.rows,
    bitsPerSample: bitsStored,
    componentCount: samples,
    isSigned: spec.pixelRepresentation === 1,
  };
  switch (syntax) {
    case TransferSyntax.RleLossless:
      return encodeRle(bytes, spec.rows, spec.columns, samples, spec.bitsAllocated);
    case TransferSyntax.JpegLossless:
    case TransferSyntax.JpegLosslessSV1: {
      const unsigned =
        spec.bitsAllocated === 16
          ? new Uint16Array(pixels.buffer, pixels.byteOffset, pixels.length)
          : new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.length);
      return encodeJpegLossless(unsigned, {
        rows: spec.rows,
        columns: spec.columns,
        components: samples as 1 | 3,
        precision: bitsStored,
        predictor: syntax === TransferSyntax.JpegLosslessSV1 ? 1 : (options.jpegPredictor ?? 1),
      });
    }
    case TransferSyntax.JpegLsLossless:
    case TransferSyntax.JpegLsNearLossless: {
      const mod = await loadCharls();
      const encoder = new mod.JpegLSEncoder();
      if (syntax === TransferSyntax.JpegLsNearLossless) encoder.setNearLossless(options.nearLossless ?? 2);
      if (samples === 3) encoder.setInterleaveMode(2); // sample-interleaved
      // JPEG-LS has no sign: it codes the BitsStored-bit pattern.
      return runEncoder(encoder, { ...info, isSigned: false }, maskToBitsStored(bytes, spec.bitsAllocated, bitsStored), 'CharLS');
    }
    case TransferSyntax.Jpeg2000Lossless:
    case TransferSyntax.Jpeg2000: {
      const mod = await loadOpenJpeg();
      const encoder = new mod.J2KEncoder();
      return runEncoder(encoder, info, bytes, 'OpenJPEG', () => {
        // Five decompositions need at least 32 pixels per side at the coarsest level.
        encoder.setDecompositions(Math.max(0, Math.min(5, Math.floor(Math.log2(Math.min(spec.rows, spec.columns))) - 1)));
        if (syntax === TransferSyntax.Jpeg2000) {
          encoder.setQuality(false, 1);
          encoder.setCompressionRatio(0, options.j2kCompressionRatio ?? 8);
        }
      });
    }
    case TransferSyntax.JpegBaseline:
    case TransferSyntax.JpegExtended: {
      if (spec.bitsAllocated === 16 && bitsStored <= 12 && samples === 1 && syntax === TransferSyntax.JpegExtended) {
        const unsigned = new Uint16Array(pixels.buffer, pixels.byteOffset, pixels.length);
        const masked = unsigned.map((v) => v & 0xfff); // JPEG has no sign: code the 12-bit pattern
        return encodeJpegDct(masked, { rows: spec.rows, columns: spec.columns, precision: 12, quantStep: options.jpegQuantStep ?? 2 });
      }
      if (spec.bitsAllocated !== 8) {
        throw new DicomError(
          'ERR_DICOM_UNSUPPORTED_SYNTAX',
          `no encoder here writes ${bitsStored}-bit lossy JPEG in ${transferSyntaxName(syntax)} (12-bit greyscale needs JPEG Extended)`,
        );
      }
      if (samples === 1) {
        // Greyscale goes through radlearn's own encoder: the libjpeg-turbo WASM encoder faults on some small sizes.
        const step = Math.max(1, Math.round((100 - (options.jpegQuality ?? 90)) / 4));
        return encodeJpegDct(new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.length), {
          rows: spec.rows,
          columns: spec.columns,
          precision: 8,
          quantStep: step,
        });
      }
      const mod = await loadLibJpegTurbo();
      const encoder = new mod.JPEGEncoder();
      encoder.setQuality(options.jpegQuality ?? 90);
      return runEncoder(encoder, { ...info, bitsPerSample: 8, isSigned: false }, bytes, 'libjpeg-turbo');
    }
    default:
      throw new DicomError('ERR_DICOM_UNSUPPORTED_SYNTAX', `cannot encode ${transferSyntaxName(syntax)} (${syntax})`);
  }
}

function runEncoder(encoder: CodecEncoder, info: CodecFrameInfo, bytes: Uint8Array, codec: CodecName, configure?: () => void): Uint8Array {
  try {
    encoder.getDecodedBuffer(info).set(bytes);
    configure?.();
    encoder.encode();
    return encoder.getEncodedBuffer().slice();
  } catch (error) {
    throw codecFailure(codec, 'encode', error);
  } finally {
    safeDelete(encoder, codec);
  }
}

function maskToBitsStored(bytes: Uint8Array, bitsAllocated: number, bitsStored: number): Uint8Array {
  if (bitsStored === bitsAllocated) return bytes;
  const mask = (1 << bitsStored) - 1;
  const out = bytes.slice();
  if (bitsAllocated === 8) {
    for (let i = 0; i < out.length; i++) out[i] = out[i]! & mask;
    return out;
  }
  const words = new Uint16Array(out.buffer, 0, out.length / 2);
  for (let i = 0; i < words.length; i++) words[i] = words[i]! & mask;
  return out;
}
