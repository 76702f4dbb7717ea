/**
 * Finds the bytes of one frame inside PixelData: a slice of native data, or the
 * fragments of one encapsulated frame (offset table, one fragment per frame, or
 * JPEG start-of-image markers when the offset table is empty).
 */
import dicomParser, { type DataSet, type Element } from 'dicom-parser';
import { DicomError } from './errors.js';
import type { PixelModule } from './attributes.js';

export function pixelDataElement(ds: DataSet): Element {
  const element = ds.elements.x7fe00010;
  if (element) return element;
  // Float and Double Float Pixel Data hold IEEE floats, which the integer sample path would misread.
  const float = ds.elements.x7fe00008
    ? 'Float Pixel Data (7FE0,0008)'
    : ds.elements.x7fe00009
      ? 'Double Float Pixel Data (7FE0,0009)'
      : undefined;
  if (float) throw new DicomError('ERR_DICOM_UNSUPPORTED', `${float} is not supported; radlearn reads integer Pixel Data (7FE0,0010)`);
  throw new DicomError('ERR_DICOM_NO_PIXEL_DATA', 'dataset has no PixelData (7FE0,0010)');
}

/** Bytes of one native frame; 1-bit frames are returned with their leading bit offset. */
export function nativeFrameBytes(ds: DataSet, element: Element, pm: PixelModule, frame: number): Uint8Array {
  const samplesPerFrame = pm.rows * pm.columns * pm.samplesPerPixel * (isYbr422(pm) ? 2 / 3 : 1);
  const bitsPerFrame = samplesPerFrame * pm.bitsAllocated;
  const expectedBytes = Math.ceil((bitsPerFrame * pm.numberOfFrames) / 8);
  // Bytes past the last frame are padding (the pad byte that evens a length, or writers that pad to a
  // block size) and are ignored, as pydicom and DCMTK do; too few bytes means the attributes lie.
  if (element.length < expectedBytes) {
    throw new DicomError(
      'ERR_DICOM_PIXEL_LENGTH',
      `PixelData holds ${element.length} bytes but ${pm.rows}x${pm.columns}x${pm.numberOfFrames} frames of ` +
        `${pm.samplesPerPixel} x ${pm.bitsAllocated}-bit samples need ${expectedBytes}`,
      { actualBytes: element.length, expectedBytes },
    );
  }
  const startBit = bitsPerFrame * frame;
  const start = element.dataOffset + Math.floor(startBit / 8);
  const end = element.dataOffset + Math.ceil((startBit + bitsPerFrame) / 8);
  return ds.byteArray.subarray(start, end);
}

export function isYbr422(pm: PixelModule): boolean {
  return pm.photometricInterpretation === 'YBR_FULL_422' || pm.photometricInterpretation === 'YBR_PARTIAL_422';
}

export function encapsulatedFrameBytes(ds: DataSet, element: Element, pm: PixelModule, frame: number, isJpegFamily: boolean): Uint8Array {
  const fragments = element.fragments ?? [];
  if (fragments.length === 0) {
    throw new DicomError('ERR_DICOM_NO_PIXEL_DATA', 'encapsulated PixelData has no fragments');
  }
  for (const fragment of fragments) {
    if (fragment.position + fragment.length > ds.byteArray.length) {
      throw new DicomError(
        'ERR_DICOM_TRUNCATED',
        `PixelData fragment at byte ${fragment.position} runs ${fragment.length} bytes past the end of the file`,
      );
    }
  }
  try {
    if (pm.numberOfFrames === 1) {
      return toUint8(dicomParser.readEncapsulatedPixelDataFromFragments(ds, element, 0, fragments.length));
    }
    const table = element.basicOffsetTable ?? [];
    if (table.length === pm.numberOfFrames) {
      return toUint8(dicomParser.readEncapsulatedImageFrame(ds, element, frame));
    }
    if (fragments.length === pm.numberOfFrames) {
      return toUint8(dicomParser.readEncapsulatedPixelDataFromFragments(ds, element, frame, 1));
    }
    if (isJpegFamily) {
      const jpegTable = dicomParser.createJPEGBasicOffsetTable(ds, element);
      if (jpegTable.length === pm.numberOfFrames) {
        return toUint8(dicomParser.readEncapsulatedImageFrame(ds, element, frame, jpegTable));
      }
    }
  } catch (error) {
    if (error instanceof DicomError) throw error;
    throw new DicomError('ERR_DICOM_DECODE', `could not locate frame ${frame} in encapsulated PixelData: ${String(error)}`);
  }
  throw new DicomError(
    'ERR_DICOM_PIXEL_LENGTH',
    `cannot find ${pm.numberOfFrames} frames in encapsulated PixelData: ${fragments.length} fragments and ` +
      `an offset table of ${(element.basicOffsetTable ?? []).length} entries`,
  );
}

function toUint8(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
