/**
 * Turns bytes into a dicom-parser DataSet, or a typed DicomError. Handles files
 * with and without the 128-byte preamble and meta header (a bare dataset is read
 * as Implicit VR Little Endian when its first element says so, else explicit),
 * deflated bodies (inflated with a size cap), and DICOMDIR files.
 */
import { inflateRawSync } from 'node:zlib';
import dicomParser, { type DataSet } from 'dicom-parser';
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
    dataSet = dicomParser.parseDicom(layout.bytes, {
      ...(layout.bareSyntax ? { TransferSyntaxUID: layout.bareSyntax } : {}),
      inflater: inflate,
    });
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

interface Layout {
  bytes: Uint8Array;
  bareSyntax?: string;
}

function detectLayout(bytes: Uint8Array): Layout {
  if (bytes.length >= 132 && ascii(bytes, 128, 4) === 'DICM') return { bytes };
  if (ascii(bytes, 0, 4) === 'DICM') return { bytes: prepend(new Uint8Array(128), bytes) };
  const group = bytes[0]! | (bytes[1]! << 8);
  if (group === 0x0002) {
    // Meta header without preamble and prefix.
    return { bytes: prepend(Uint8Array.from([...new Uint8Array(128), 0x44, 0x49, 0x43, 0x4d]), bytes) };
  }
  if (group !== 0x0008 && group !== 0x0010 && group !== 0x0018 && group !== 0x0020 && group !== 0x0028) {
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
