/**
 * Decodes one frame to little-endian, pixel-interleaved sample bytes with
 * BitsAllocated/8 bytes per sample. The decoder is chosen from the transfer
 * syntax (and, for JPEG, the frame header), never by trial.
 */
import type { DataSet, Element } from 'dicom-parser';
import { DicomError } from './errors.js';
import type { PixelModule } from './attributes.js';
import { encapsulatedFrameBytes, isYbr422, nativeFrameBytes } from './frames.js';
import { TransferSyntax, isEncapsulatedSyntax, transferSyntaxName } from './syntax.js';
import { decodeRle } from './rle.js';
import { minimumScanBytes, readJpegFrameHeader, readJpegLsFrameHeader, type CodestreamHeader, type JpegFrameHeader } from './jpegInfo.js';
import { decodeJpegDct } from './jpegDct.js';
import { readJ2kFrameHeader } from './j2kInfo.js';
import {
  decodeJpeg2000,
  decodeJpeg8,
  decodeJpegLossless,
  decodeJpegLs,
  loadCharls,
  loadLibJpegTurbo,
  loadOpenJpeg,
  type DecodedFrame,
} from './codecs.js';

export interface FrameSamples {
  /** LE samples, BitsAllocated/8 bytes each (1-bit data: one byte per sample), pixel-interleaved. */
  bytes: Uint8Array;
  /** The codec already turned YBR into RGB (JPEG baseline, JPEG 2000 with MCT). */
  colorConverted: boolean;
}

const JPEG_FAMILY = new Set<string>([
  TransferSyntax.JpegBaseline,
  TransferSyntax.JpegExtended,
  TransferSyntax.JpegLossless,
  TransferSyntax.JpegLosslessSV1,
]);

const SUPPORTED = new Set<string>([
  TransferSyntax.ImplicitVRLittleEndian,
  TransferSyntax.ExplicitVRLittleEndian,
  TransferSyntax.DeflatedExplicitVRLittleEndian,
  TransferSyntax.ExplicitVRBigEndian,
  ...JPEG_FAMILY,
  TransferSyntax.JpegLsLossless,
  TransferSyntax.JpegLsNearLossless,
  TransferSyntax.Jpeg2000Lossless,
  TransferSyntax.Jpeg2000,
  TransferSyntax.RleLossless,
]);

/** Loads (once) the codec a syntax needs, or throws the typed 'unsupported' error. */
export async function prepareCodec(syntax: string): Promise<void> {
  if (!SUPPORTED.has(syntax)) {
    throw new DicomError('ERR_DICOM_UNSUPPORTED_SYNTAX', `transfer syntax ${syntax} (${transferSyntaxName(syntax)}) is not supported`, {
      transferSyntaxUID: syntax,
    });
  }
  if (syntax === TransferSyntax.Jpeg2000 || syntax === TransferSyntax.Jpeg2000Lossless) await loadOpenJpeg();
  if (syntax === TransferSyntax.JpegLsLossless || syntax === TransferSyntax.JpegLsNearLossless) await loadCharls();
  if (syntax === TransferSyntax.JpegBaseline || syntax === TransferSyntax.JpegExtended) await loadLibJpegTurbo();
}

export function decodeFrameSamples(ds: DataSet, element: Element, pm: PixelModule, syntax: string, frame: number): FrameSamples {
  if (!isEncapsulatedSyntax(syntax)) {
    if (element.encapsulatedPixelData) {
      throw new DicomError('ERR_DICOM_DECODE', `PixelData is encapsulated but the transfer syntax ${syntax} is native`);
    }
    return { bytes: nativeSamples(ds, element, pm, syntax, frame), colorConverted: false };
  }
  if (!element.encapsulatedPixelData) {
    throw new DicomError(
      'ERR_DICOM_DECODE',
      `transfer syntax ${transferSyntaxName(syntax)} needs encapsulated PixelData, but it has a defined length`,
    );
  }
  const encoded = encapsulatedFrameBytes(ds, element, pm, frame, JPEG_FAMILY.has(syntax));
  switch (syntax) {
    case TransferSyntax.RleLossless:
      return { bytes: decodeRle(encoded, pm.rows, pm.columns, pm.samplesPerPixel, pm.bitsAllocated), colorConverted: false };
    case TransferSyntax.Jpeg2000:
    case TransferSyntax.Jpeg2000Lossless:
      checkFrameHeader(readJ2kFrameHeader(encoded), pm, 'JPEG 2000');
      // YBR_RCT/YBR_ICT are undone by OpenJPEG's inverse component transform; plain YBR_FULL is not.
      return {
        bytes: fromCodec(decodeJpeg2000(encoded), pm, 'JPEG 2000'),
        colorConverted: pm.samplesPerPixel === 3 && pm.photometricInterpretation !== 'YBR_FULL',
      };
    case TransferSyntax.JpegLsLossless:
    case TransferSyntax.JpegLsNearLossless: {
      checkFrameHeader(readJpegLsFrameHeader(encoded), pm, 'JPEG-LS');
      const decoded = decodeJpegLs(encoded);
      const bytes = fromCodec(decoded, pm, 'JPEG-LS');
      // Interleave mode 0 (none) stores each component as its own plane (of BitsAllocated-sized samples by now).
      const planar = decoded.interleaveMode === 0 && pm.samplesPerPixel === 3;
      return { bytes: planar ? planarToInterleaved(bytes, pm, pm.bitsAllocated / 8) : bytes, colorConverted: false };
    }
    default:
      return decodeJpegFamily(encoded, pm, syntax);
  }
}

function decodeJpegFamily(encoded: Uint8Array, pm: PixelModule, syntax: string): FrameSamples {
  const header = readJpegFrameHeader(encoded);
  checkFrameHeader(header, pm, 'JPEG');
  const lossy = header.process === 0 || header.process === 1 || header.process === 2;
  // No installed codec decodes 12-bit lossy JPEG; radlearn's own sequential DCT decoder does.
  const sequential12 = (header.process === 0 || header.process === 1) && header.precision === 12;
  if (lossy && header.precision !== 8 && !sequential12) {
    throw new DicomError(
      'ERR_DICOM_UNSUPPORTED_SYNTAX',
      `${transferSyntaxName(syntax)} (${syntax}) with ${header.precision}-bit lossy JPEG has no decoder in radlearn ` +
        '(progressive 12-bit is not supported)',
      { transferSyntaxUID: syntax, precision: header.precision },
    );
  }
  if (!lossy && header.process !== 3) {
    throw new DicomError(
      'ERR_DICOM_UNSUPPORTED_SYNTAX',
      `JPEG process with SOF marker FFC${header.process.toString(16)} (hierarchical or arithmetic coded) is not supported`,
      { transferSyntaxUID: syntax },
    );
  }
  checkScanLength(header, encoded);
  if (header.process === 3) {
    const bytesPerSample = header.precision > 8 ? 2 : 1;
    const raw = decodeJpegLossless(encoded, bytesPerSample);
    return {
      bytes: widen(
        { bytes: raw, info: { width: pm.columns, height: pm.rows, bitsPerSample: header.precision, componentCount: header.components } },
        pm,
        'JPEG lossless',
      ),
      colorConverted: false,
    };
  }
  if (sequential12) {
    const decoded = decodeJpegDct(encoded);
    const bytes = new Uint8Array(decoded.data.buffer, decoded.data.byteOffset, decoded.data.byteLength);
    return {
      bytes: fromCodec(
        { bytes, info: { width: decoded.width, height: decoded.height, bitsPerSample: 12, componentCount: decoded.components } },
        pm,
        'JPEG 12-bit',
      ),
      colorConverted: pm.samplesPerPixel === 3,
    };
  }
  return { bytes: fromCodec(decodeJpeg8(encoded), pm, 'JPEG'), colorConverted: pm.samplesPerPixel === 3 };
}

/** Refuses a frame with too little entropy-coded data for its size, before a decoder fills the gap. */
function checkScanLength(header: JpegFrameHeader, encoded: Uint8Array): void {
  const scanBytes = encoded.length - header.scanOffset;
  const needed = minimumScanBytes(header);
  if (scanBytes < needed) {
    throw new DicomError(
      'ERR_DICOM_TRUNCATED',
      `JPEG frame has ${scanBytes} bytes of scan data, fewer than the ${needed} a ${header.columns}x${header.rows}x` +
        `${header.components} ${header.process === 3 ? 'lossless' : 'DCT'} frame needs: it is truncated`,
    );
  }
}

/** A codestream must describe the frame the dataset does; checked before a codec allocates for it. */
function checkFrameHeader(header: CodestreamHeader, pm: PixelModule, codec: string): void {
  if (header.rows !== pm.rows || header.columns !== pm.columns || header.components !== pm.samplesPerPixel) {
    throw new DicomError(
      'ERR_DICOM_DECODE',
      `${codec} frame is ${header.columns}x${header.rows}x${header.components} but the dataset says ` +
        `${pm.columns}x${pm.rows}x${pm.samplesPerPixel}`,
    );
  }
}

function fromCodec(frame: DecodedFrame, pm: PixelModule, codec: string): Uint8Array {
  const { info } = frame;
  // OpenJPEG reports a failed decode as an empty image rather than an error.
  if (info.width === 0 || info.height === 0) {
    throw new DicomError('ERR_DICOM_DECODE', `${codec} could not decode the frame: the codestream is corrupt or truncated`);
  }
  if (info.width !== pm.columns || info.height !== pm.rows || info.componentCount !== pm.samplesPerPixel) {
    throw new DicomError(
      'ERR_DICOM_DECODE',
      `${codec} frame is ${info.width}x${info.height}x${info.componentCount} but the dataset says ` +
        `${pm.columns}x${pm.rows}x${pm.samplesPerPixel}`,
    );
  }
  return widen(frame, pm, codec);
}

/** Codecs emit 1 byte per sample up to 8 bits and 2 above; match BitsAllocated. */
function widen(frame: DecodedFrame, pm: PixelModule, codec: string): Uint8Array {
  const count = pm.rows * pm.columns * pm.samplesPerPixel;
  const have = frame.info.bitsPerSample > 8 ? 2 : 1;
  const want = pm.bitsAllocated / 8;
  if (frame.bytes.length < count * have) {
    throw new DicomError('ERR_DICOM_DECODE', `${codec} produced ${frame.bytes.length} bytes, expected ${count * have}`);
  }
  if (have === want) return frame.bytes.subarray(0, count * want);
  if (have > want) {
    throw new DicomError(
      'ERR_DICOM_DECODE',
      `${codec} frame has ${frame.info.bitsPerSample}-bit samples but BitsAllocated is ${pm.bitsAllocated}`,
    );
  }
  const out = new Uint8Array(count * want);
  const src = have === 2 ? new Uint16Array(frame.bytes.buffer, frame.bytes.byteOffset, count) : frame.bytes;
  const view = new DataView(out.buffer);
  for (let i = 0; i < count; i++) {
    if (want === 2) view.setUint16(i * 2, src[i]!, true);
    else view.setUint32(i * 4, src[i]!, true);
  }
  return out;
}

function nativeSamples(ds: DataSet, element: Element, pm: PixelModule, syntax: string, frame: number): Uint8Array {
  const raw = nativeFrameBytes(ds, element, pm, frame);
  if (pm.bitsAllocated === 1) return unpackBits(raw, pm, frame);
  const bytesPerSample = pm.bitsAllocated / 8;
  let bytes = raw;
  if (syntax === TransferSyntax.ExplicitVRBigEndian) {
    // OW words are swapped as 16-bit units even when samples are 8-bit.
    const unit = bytesPerSample === 1 && element.vr === 'OW' ? 2 : bytesPerSample;
    if (unit > 1) bytes = swapBytes(raw, unit);
  }
  if (pm.samplesPerPixel === 3 && pm.planarConfiguration === 1) {
    // Pairs of pixels share their chroma samples: there are no three planes to separate.
    if (isYbr422(pm)) {
      throw new DicomError(
        'ERR_DICOM_BAD_ATTRIBUTE',
        `PlanarConfiguration (0028,0006) is 1 but ${pm.photometricInterpretation} data is always interleaved (expected 0)`,
      );
    }
    return planarToInterleaved(bytes, pm, bytesPerSample);
  }
  return bytes;
}

function swapBytes(src: Uint8Array, unit: number): Uint8Array {
  const out = new Uint8Array(src.length);
  for (let i = 0; i + unit <= src.length; i += unit) {
    for (let k = 0; k < unit; k++) out[i + k] = src[i + unit - 1 - k]!;
  }
  return out;
}

function planarToInterleaved(bytes: Uint8Array, pm: PixelModule, bytesPerSample: number): Uint8Array {
  const pixels = pm.rows * pm.columns;
  const out = new Uint8Array(pixels * 3 * bytesPerSample);
  for (let c = 0; c < 3; c++) {
    for (let p = 0; p < pixels; p++) {
      for (let k = 0; k < bytesPerSample; k++) {
        out[(p * 3 + c) * bytesPerSample + k] = bytes[(c * pixels + p) * bytesPerSample + k]!;
      }
    }
  }
  return out;
}

function unpackBits(raw: Uint8Array, pm: PixelModule, frame: number): Uint8Array {
  const count = pm.rows * pm.columns * pm.samplesPerPixel;
  const bitOffset = (count * frame) % 8;
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const bit = bitOffset + i;
    out[i] = (raw[bit >> 3]! >> (bit & 7)) & 1;
  }
  return out;
}
