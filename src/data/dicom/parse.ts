/**
 * Turns bytes into a dicom-parser DataSet, or a typed DicomError. Handles files
 * with and without the 128-byte preamble and meta header (a bare dataset is read
 * as Implicit VR Little Endian, Explicit VR Little Endian or Explicit VR Big Endian,
 * whichever its first element shows), meta headers that name the wrong VR encoding,
 * deflated bodies (inflated with a size cap), and DICOMDIR files.
 */
import { inflateRawSync } from 'node:zlib';
import dicomParser, { type DataSet, type Element } from 'dicom-parser';
import { DicomError } from './errors.js';
import { TransferSyntax } from './syntax.js';

export interface ParsedDicom {
  dataSet: DataSet;
  transferSyntaxUID: string;
  hasMetaHeader: boolean;
}

/** Inflated bodies larger than this are refused rather than exhausting memory on a crafted file. */
const MAX_INFLATED_BYTES = 2 ** 31 - 1;

export function parseDicomBytes(bytes: Uint8Array): ParsedDicom {
  if (bytes.length < 8) {
    throw new DicomError('ERR_DICOM_NOT_DICOM', `file is ${bytes.length} bytes, too short to be DICOM`);
  }
  const layout = detectLayout(bytes);
  checkMetaLength(layout.bytes);
  let dataSet: DataSet;
  try {
    dataSet = layout.bareSyntax
      ? dicomParser.parseDicom(layout.bytes, { TransferSyntaxUID: layout.bareSyntax, inflater: inflate })
      : parsePart10(layout.bytes);
  } catch (error) {
    throw classifyParserError(error);
  }
  checkElementBounds(dataSet);
  const transferSyntaxUID = (dataSet.string('x00020010') ?? layout.bareSyntax ?? '').trim();
  if (!transferSyntaxUID) {
    throw new DicomError('ERR_DICOM_NOT_DICOM', 'file meta header has no Transfer Syntax UID (0002,0010)');
  }
  const mediaClass = dataSet.string('x00020002');
  if (mediaClass === '1.2.840.10008.1.3.10' || dataSet.elements.x00041220 !== undefined) {
    throw new DicomError('ERR_DICOM_DICOMDIR', 'file is a DICOMDIR (a media directory), not an image; read the files it lists');
  }
  return { dataSet, transferSyntaxUID, hasMetaHeader: !layout.bareSyntax };
}

/** Little-endian, undeflated syntaxes: the only ones whose dataset VR encoding can be sniffed and swapped. */
const LITTLE_ENDIAN_BODY = (syntax: string): boolean =>
  syntax !== TransferSyntax.ExplicitVRBigEndian && syntax !== TransferSyntax.DeflatedExplicitVRLittleEndian;

/**
 * Reads a Part 10 file. Some writers declare Explicit VR in the meta header but write the dataset
 * Implicit VR (or the reverse); like pydicom and DCMTK, the dataset is read the way its first
 * element is actually encoded, and the pixels are still decoded per the declared syntax.
 */
function parsePart10(bytes: Uint8Array): DataSet {
  const meta = dicomParser.readPart10Header(bytes);
  const syntax = (meta.string('x00020010') ?? '').trim();
  const position = (meta as DataSet & { position: number }).position;
  if (!syntax || !LITTLE_ENDIAN_BODY(syntax) || position + 6 > bytes.length) return dicomParser.parseDicom(bytes, { inflater: inflate });
  const declaredExplicit = syntax !== TransferSyntax.ImplicitVRLittleEndian;
  const foundExplicit = isUpper(bytes[position + 4]!) && isUpper(bytes[position + 5]!);
  if (foundExplicit === declaredExplicit) return dicomParser.parseDicom(bytes, { inflater: inflate });
  const parser = dicomParser.littleEndianByteArrayParser;
  const elements: Record<string, Element> = {};
  const dataSet = new (dicomParser as unknown as { DataSet: DataSetConstructor }).DataSet(parser, bytes, elements);
  const stream = new dicomParser.ByteStream(parser, bytes, position);
  if (foundExplicit) dicomParser.parseDicomDataSetExplicit(dataSet, stream, bytes.length);
  else parseImplicitBody(dataSet, stream, bytes.length);
  Object.assign(elements, meta.elements);
  return dataSet;
}

/**
 * dicom-parser's implicit reader takes undefined-length PixelData for a sequence (its first item
 * is the offset table); here it stops there, walks the fragments by their item lengths as the
 * explicit reader does, and reads on after the sequence delimiter.
 */
function parseImplicitBody(dataSet: DataSet, stream: dicomParser.ByteStream, end: number): void {
  const untilPixels = { untilTag: 'x7fe00010' };
  dicomParser.parseDicomDataSetImplicit(dataSet, stream, end, untilPixels);
  const pixels = dataSet.elements.x7fe00010;
  if (!pixels || stream.position >= end) return;
  if (pixels.hadUndefinedLength) dicomParser.findEndOfEncapsulatedElement(stream, pixels, []);
  else stream.seek(pixels.length);
  if (stream.position < end) dicomParser.parseDicomDataSetImplicit(dataSet, stream, end);
}

type DataSetConstructor = new (
  parser: typeof dicomParser.littleEndianByteArrayParser,
  bytes: Uint8Array,
  elements: Record<string, Element>,
) => DataSet;

/** Groups a bare dataset (no preamble, no meta header) plausibly starts with. */
const DATASET_GROUPS = new Set([0x0008, 0x0010, 0x0018, 0x0020, 0x0028]);

interface Layout {
  bytes: Uint8Array;
  bareSyntax?: string;
}

function detectLayout(bytes: Uint8Array): Layout {
  if (bytes.length >= 132 && ascii(bytes, 128, 4) === 'DICM') return { bytes };
  if (ascii(bytes, 0, 4) === 'DICM') return { bytes: prepend(new Uint8Array(128), bytes) };
  const group = bytes[0]! | (bytes[1]! << 8);
  const bigEndianGroup = (bytes[0]! << 8) | bytes[1]!;
  if (DATASET_GROUPS.has(bigEndianGroup) && !DATASET_GROUPS.has(group) && isUpper(bytes[4]!) && isUpper(bytes[5]!)) {
    // A bare Explicit VR Big Endian dataset (pydicom reads these when forced; so do DCMTK and GDCM).
    return { bytes, bareSyntax: TransferSyntax.ExplicitVRBigEndian };
  }
  if (group === 0x0002) {
    // Meta header without preamble and prefix.
    return { bytes: prepend(Uint8Array.from([...new Uint8Array(128), 0x44, 0x49, 0x43, 0x4d]), bytes) };
  }
  if (!DATASET_GROUPS.has(group)) {
    throw new DicomError(
      'ERR_DICOM_NOT_DICOM',
      'no DICM prefix at byte 128 and the data does not start with a DICOM element (group 0008-0028); not a DICOM file',
    );
  }
  // Bare dataset: an explicit VR is two upper-case letters right after the tag.
  const explicit = isUpper(bytes[4]!) && isUpper(bytes[5]!);
  return { bytes, bareSyntax: explicit ? TransferSyntax.ExplicitVRLittleEndian : TransferSyntax.ImplicitVRLittleEndian };
}

/** A Part 10 file shorter than its meta group says is truncated, whatever dicom-parser reports. */
function checkMetaLength(bytes: Uint8Array): void {
  if (bytes.length < 144) {
    if (bytes.length >= 132 && ascii(bytes, 128, 4) === 'DICM') {
      throw new DicomError('ERR_DICOM_TRUNCATED', `file ends at byte ${bytes.length}, inside the file meta header`);
    }
    return;
  }
  const isGroupLength =
    bytes[132] === 0x02 && bytes[133] === 0 && bytes[134] === 0 && bytes[135] === 0 && bytes[136] === 0x55 && bytes[137] === 0x4c; // (0002,0000) UL
  if (!isGroupLength) return;
  const groupLength = new DataView(bytes.buffer, bytes.byteOffset + 140, 4).getUint32(0, true);
  if (bytes.length < 144 + groupLength) {
    throw new DicomError(
      'ERR_DICOM_TRUNCATED',
      `file ends at byte ${bytes.length}, inside the file meta header (which runs to byte ${144 + groupLength})`,
    );
  }
}

function inflate(bytes: Uint8Array, position: number): Uint8Array {
  let body: Buffer;
  try {
    body = inflateRawSync(bytes.subarray(position), { maxOutputLength: MAX_INFLATED_BYTES });
  } catch (error) {
    throw new DicomError('ERR_DICOM_TRUNCATED', `deflated dataset could not be inflated: ${(error as Error).message}`);
  }
  const out = new Uint8Array(position + body.length);
  out.set(bytes.subarray(0, position), 0);
  out.set(body, position);
  return out;
}

/**
 * dicom-parser's implicit VR reader skips an element's value without checking that it fits,
 * so a truncated file parses and fails later, in whichever accessor reads the last element.
 * Every element (in nested items too) is checked here, once. Encapsulated PixelData is
 * checked fragment by fragment when a frame is located.
 */
function checkElementBounds(root: DataSet): void {
  const end = root.byteArray.length;
  const pending: DataSet[] = [root];
  for (let dataSet = pending.pop(); dataSet; dataSet = pending.pop()) {
    for (const [tag, element] of Object.entries(dataSet.elements)) {
      if (!element.encapsulatedPixelData && element.dataOffset + element.length > end) {
        throw new DicomError(
          'ERR_DICOM_TRUNCATED',
          `element (${tag.slice(1, 5)},${tag.slice(5)}) claims ${element.length} bytes ` +
            `at offset ${element.dataOffset} but the file ends at byte ${end}`,
          { tag, length: element.length },
        );
      }
      for (const item of element.items ?? []) if (item.dataSet) pending.push(item.dataSet);
    }
  }
}

function classifyParserError(error: unknown): DicomError {
  if (error instanceof DicomError) return error;
  // dicom-parser throws strings, or objects with `exception` and a partial dataSet.
  const message =
    typeof error === 'string'
      ? error
      : error instanceof Error
        ? error.message
        : typeof error === 'object' && error !== null && 'exception' in error
          ? String((error as { exception: unknown }).exception)
          : String(error);
  const truncated = /overread|overrun|end of buffer|past end|beyond|eof|truncat|greater than or equal to 'byteArray' length/i.test(message);
  return new DicomError(
    truncated ? 'ERR_DICOM_TRUNCATED' : 'ERR_DICOM_NOT_DICOM',
    truncated ? `file is truncated: ${message}` : `file could not be parsed as DICOM: ${message}`,
    { parserMessage: message },
  );
}

function ascii(bytes: Uint8Array, start: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(start, start + length));
}
function isUpper(c: number): boolean {
  return c >= 0x41 && c <= 0x5a;
}
function prepend(head: Uint8Array, tail: Uint8Array): Uint8Array {
  const out = new Uint8Array(head.length + tail.length);
  out.set(head, 0);
  out.set(tail, head.length);
  return out;
}
