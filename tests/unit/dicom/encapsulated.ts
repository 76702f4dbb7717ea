/** Test helpers for compressed frames: take one out of a file, put a changed one back. */
import dicomParser from 'dicom-parser';
import { encodeDicom, type DicomWriteSpec } from '../../../src/index.js';
import { writeEncapsulatedDicom } from '../../../src/data/dicom/write.js';

/** The codestream of frame 0 (all fragments joined). */
export function firstFrame(file: Uint8Array): Uint8Array {
  const ds = dicomParser.parseDicom(file);
  const element = ds.elements.x7fe00010!;
  return dicomParser.readEncapsulatedPixelDataFromFragments(ds, element, 0, element.fragments!.length).slice();
}

/** A single-frame file in `syntax` whose frame is `edit` applied to what radlearn's encoder wrote. */
export async function withEditedFrame(
  spec: DicomWriteSpec,
  syntax: string,
  edit: (frame: Uint8Array) => Uint8Array,
  header: Partial<DicomWriteSpec> = {},
): Promise<Uint8Array> {
  const frame = edit(firstFrame(await encodeDicom({ ...spec, transferSyntaxUID: syntax })));
  const { pixels: _pixels, ...rest } = spec;
  return writeEncapsulatedDicom({ ...rest, ...header, transferSyntaxUID: syntax }, [frame]);
}

/** Big-endian 16-bit write, the byte order of JPEG and JPEG 2000 headers. */
export function setU16(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const out = bytes.slice();
  out[at] = value >> 8;
  out[at + 1] = value & 0xff;
  return out;
}

/** Offset of the first marker segment `marker` (e.g. 0xffc3) in a JPEG-style stream. */
export function markerAt(bytes: Uint8Array, marker: number): number {
  for (let i = 0; i + 1 < bytes.length; i++) if (bytes[i] === marker >> 8 && bytes[i + 1] === (marker & 0xff)) return i;
  throw new Error(`marker ${marker.toString(16)} not found`);
}
