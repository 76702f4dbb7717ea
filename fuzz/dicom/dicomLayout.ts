/**
 * A lenient walk over a DICOM file's element headers, so mutations can aim at the structure
 * (tags, VRs, length fields, items, fragments) instead of only at random bytes. It trusts the
 * seed, stops quietly at the first thing it cannot follow, and never throws.
 */
import { inflateRawSync } from 'node:zlib';

export interface ElementHeader {
  /** Offset of the tag. */
  start: number;
  group: number;
  element: number;
  /** Two letters for explicit VR elements. */
  vr?: string;
  lengthOffset: number;
  lengthSize: 2 | 4;
  /** As stored; 0xFFFFFFFF is undefined length. */
  length: number;
  valueOffset: number;
  /** Where the element ends when its length is defined and inside the file, else undefined. */
  end?: number;
  littleEndian: boolean;
  explicit: boolean;
  /** 0 for the top-level dataset, +1 per sequence item. */
  depth: number;
  /** Item, item delimiter or sequence delimiter (group FFFE). */
  isDelimiter: boolean;
}

export interface DicomLayout {
  transferSyntaxUID: string;
  /** Offset where the dataset after the meta group starts (0 without a Part 10 header). */
  bodyStart: number;
  explicit: boolean;
  littleEndian: boolean;
  /** Whether the body is deflated (then `elements` covers the meta group only). */
  deflated: boolean;
  elements: ElementHeader[];
  pixelData?: ElementHeader;
  /** Items of encapsulated PixelData, the offset table first. */
  fragments: ElementHeader[];
}

const UNDEFINED = 0xffffffff;
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const IMPLICIT_LE = '1.2.840.10008.1.2';
const EXPLICIT_BE = '1.2.840.10008.1.2.2';
const DEFLATED = '1.2.840.10008.1.2.1.99';
const MAX_ELEMENTS = 20_000;
/** Deeper nesting (which mutations create on purpose) is left unwalked rather than recursed into. */
const MAX_DEPTH = 64;

export function isUpperLetter(c: number | undefined): boolean {
  return c !== undefined && c >= 0x41 && c <= 0x5a;
}

export interface WalkOptions {
  /** The body of a deflated file has already been inflated in place: walk it as explicit VR LE. */
  bodyInflated?: boolean;
}

export function walkDicom(bytes: Uint8Array, options: WalkOptions = {}): DicomLayout {
  const layout: DicomLayout = {
    transferSyntaxUID: '',
    bodyStart: 0,
    explicit: true,
    littleEndian: true,
    deflated: false,
    elements: [],
    fragments: [],
  };
  let position = 0;
  if (bytes.length >= 132 && String.fromCharCode(...bytes.subarray(128, 132)) === 'DICM') {
    position = 132;
    while (position + 8 <= bytes.length && (bytes[position]! | (bytes[position + 1]! << 8)) === 0x0002) {
      const header = readHeader(bytes, position, true, true, 0);
      if (!header || header.end === undefined) return layout;
      layout.elements.push(header);
      if (header.element === 0x0010) layout.transferSyntaxUID = text(bytes, header.valueOffset, header.length);
      position = header.end;
    }
  } else {
    layout.transferSyntaxUID = isUpperLetter(bytes[4]) && isUpperLetter(bytes[5]) ? EXPLICIT_LE : IMPLICIT_LE;
  }
  layout.bodyStart = position;
  const syntax = layout.transferSyntaxUID;
  layout.explicit = syntax !== IMPLICIT_LE;
  layout.littleEndian = syntax !== EXPLICIT_BE;
  layout.deflated = syntax === DEFLATED && !options.bodyInflated;
  if (!layout.deflated) walkDataset(bytes, position, bytes.length, layout, 0);
  return layout;
}

/** The deflated body of a Deflated Explicit VR LE file, inflated (for mutating the dataset inside). */
export function inflateBody(bytes: Uint8Array, bodyStart: number): Uint8Array | undefined {
  try {
    return new Uint8Array(inflateRawSync(bytes.subarray(bodyStart), { maxOutputLength: 64 << 20 }));
  } catch {
    return undefined;
  }
}

function walkDataset(bytes: Uint8Array, from: number, to: number, layout: DicomLayout, depth: number): number {
  let position = from;
  if (depth > MAX_DEPTH) return position;
  while (position + 8 <= to && layout.elements.length < MAX_ELEMENTS) {
    const header = readHeader(bytes, position, layout.explicit, layout.littleEndian, depth);
    if (!header) return position;
    layout.elements.push(header);
    const tag = header.group * 0x10000 + header.element;
    if (header.group === 0xfffe) {
      // An item delimiter ends the item this call walks; a sequence delimiter ends the caller's sequence.
      return tag === 0xfffee00d || tag === 0xfffee0dd ? header.valueOffset : position;
    }
    if (tag === 0x7fe00010 && depth === 0) {
      layout.pixelData = header;
      if (header.length === UNDEFINED) return walkFragments(bytes, header.valueOffset, to, layout);
    }
    if (header.length === UNDEFINED || header.vr === 'SQ' || looksLikeItem(bytes, header, layout.littleEndian)) {
      const next = walkSequence(bytes, header, to, layout, depth);
      if (next === undefined) return position;
      position = next;
      continue;
    }
    if (header.end === undefined || header.end > to) return position;
    position = header.end;
  }
  return position;
}

function walkSequence(bytes: Uint8Array, sequence: ElementHeader, to: number, layout: DicomLayout, depth: number): number | undefined {
  const end = sequence.length === UNDEFINED ? to : sequence.end;
  if (end === undefined || end > to) return undefined;
  let position = sequence.valueOffset;
  while (position + 8 <= end && layout.elements.length < MAX_ELEMENTS) {
    const item = readDelimiter(bytes, position, layout.littleEndian, depth);
    if (!item) return undefined;
    layout.elements.push(item);
    if (item.element === 0xe0dd) return item.valueOffset;
    if (item.element !== 0xe000) return undefined;
    const itemEnd = item.length === UNDEFINED ? end : item.valueOffset + item.length;
    const after = walkDataset(bytes, item.valueOffset, Math.min(itemEnd, end), layout, depth + 1);
    position = item.length === UNDEFINED ? after : itemEnd;
    if (item.length === UNDEFINED && after === item.valueOffset && !isItemDelimiterBefore(bytes, after, layout.littleEndian))
      return undefined;
  }
  return sequence.length === UNDEFINED ? position : end;
}

function walkFragments(bytes: Uint8Array, from: number, to: number, layout: DicomLayout): number {
  let position = from;
  while (position + 8 <= to) {
    const item = readDelimiter(bytes, position, layout.littleEndian, 1);
    if (!item) break;
    layout.elements.push(item);
    if (item.element === 0xe0dd) return item.valueOffset;
    if (item.element !== 0xe000 || item.end === undefined) break;
    layout.fragments.push(item);
    position = item.end;
  }
  return position;
}

function readHeader(bytes: Uint8Array, at: number, explicit: boolean, littleEndian: boolean, depth: number): ElementHeader | undefined {
  if (at + 8 > bytes.length) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const group = view.getUint16(at, littleEndian);
  const element = view.getUint16(at + 2, littleEndian);
  if (group === 0xfffe) return readDelimiter(bytes, at, littleEndian, depth);
  let vr: string | undefined;
  let lengthOffset: number;
  let lengthSize: 2 | 4;
  if (explicit) {
    if (!isUpperLetter(bytes[at + 4]) || !isUpperLetter(bytes[at + 5])) return undefined;
    vr = String.fromCharCode(bytes[at + 4]!, bytes[at + 5]!);
    if (LONG_VRS.has(vr)) {
      lengthOffset = at + 8;
      lengthSize = 4;
    } else {
      lengthOffset = at + 6;
      lengthSize = 2;
    }
  } else {
    lengthOffset = at + 4;
    lengthSize = 4;
  }
  if (lengthOffset + lengthSize > bytes.length) return undefined;
  const length = lengthSize === 2 ? view.getUint16(lengthOffset, littleEndian) : view.getUint32(lengthOffset, littleEndian);
  const valueOffset = lengthOffset + lengthSize;
  const end = length !== UNDEFINED && valueOffset + length <= bytes.length ? valueOffset + length : undefined;
  return {
    start: at,
    group,
    element,
    vr,
    lengthOffset,
    lengthSize,
    length,
    valueOffset,
    end,
    littleEndian,
    explicit,
    depth,
    isDelimiter: false,
  };
}

function readDelimiter(bytes: Uint8Array, at: number, littleEndian: boolean, depth: number): ElementHeader | undefined {
  if (at + 8 > bytes.length) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const group = view.getUint16(at, littleEndian);
  const element = view.getUint16(at + 2, littleEndian);
  if (group !== 0xfffe) return undefined;
  const length = view.getUint32(at + 4, littleEndian);
  const valueOffset = at + 8;
  const end = length !== UNDEFINED && valueOffset + length <= bytes.length ? valueOffset + length : undefined;
  return {
    start: at,
    group,
    element,
    lengthOffset: at + 4,
    lengthSize: 4,
    length,
    valueOffset,
    end,
    littleEndian,
    explicit: false,
    depth,
    isDelimiter: true,
  };
}

/** Implicit VR has no SQ marker: a value that opens with an item tag is taken as a sequence. */
function looksLikeItem(bytes: Uint8Array, header: ElementHeader, littleEndian: boolean): boolean {
  if (header.explicit || header.length < 8 || header.end === undefined) return false;
  const at = header.valueOffset;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.getUint16(at, littleEndian) === 0xfffe && view.getUint16(at + 2, littleEndian) === 0xe000;
}

function isItemDelimiterBefore(bytes: Uint8Array, at: number, littleEndian: boolean): boolean {
  if (at < 8) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return view.getUint16(at - 8, littleEndian) === 0xfffe && view.getUint16(at - 6, littleEndian) === 0xe00d;
}

function text(bytes: Uint8Array, at: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + length)).replace(/[\0 ]+$/, '');
}

export const TAGS = {
  transferSyntaxUID: 0x00020010,
  samplesPerPixel: 0x00280002,
  photometricInterpretation: 0x00280004,
  planarConfiguration: 0x00280006,
  numberOfFrames: 0x00280008,
  rows: 0x00280010,
  columns: 0x00280011,
  bitsAllocated: 0x00280100,
  bitsStored: 0x00280101,
  highBit: 0x00280102,
  pixelRepresentation: 0x00280103,
  windowCenter: 0x00281050,
  windowWidth: 0x00281051,
  rescaleIntercept: 0x00281052,
  rescaleSlope: 0x00281053,
  voiLutFunction: 0x00281056,
  pixelSpacing: 0x00280030,
  pixelData: 0x7fe00010,
} as const;

export function tagOf(header: ElementHeader): number {
  return header.group * 0x10000 + header.element;
}

/** The top-level element with this tag, if the walk reached it. */
export function findElement(layout: DicomLayout, tag: number): ElementHeader | undefined {
  return layout.elements.find((e) => e.depth === 0 && !e.isDelimiter && tagOf(e) === tag);
}
