/**
 * Element-level edits in a seed's own encoding (explicit or implicit VR, either byte order):
 * replace a value and its length field, or insert a new element where its tag sorts. Lengths
 * of enclosing sequences and the meta group are deliberately left as they were.
 */
import { concat, readUint, replaceRange, writeUint } from '../shared/mutate.js';
import { findElement, tagOf, walkDicom, type DicomLayout, type ElementHeader } from './dicomLayout.js';

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

/** Replaces an element's value; the length field follows unless `keepLength`. */
export function replaceValue(bytes: Uint8Array, header: ElementHeader, value: Uint8Array, keepLength = false): Uint8Array {
  if (header.end === undefined) return bytes;
  const replaced = replaceRange(bytes, header.valueOffset, header.end, value);
  if (keepLength) return replaced;
  const max = header.lengthSize === 2 ? 0xffff : 0xfffffffe;
  return writeUint(replaced, header.lengthOffset, header.lengthSize, Math.min(max, value.length), header.littleEndian);
}

export function encodeElement(
  tag: number,
  vr: string,
  value: Uint8Array,
  explicit: boolean,
  littleEndian: boolean,
  length = value.length,
): Uint8Array {
  const head = new Uint8Array(explicit ? (LONG_VRS.has(vr) ? 12 : 8) : 8);
  const view = new DataView(head.buffer);
  view.setUint16(0, tag >>> 16, littleEndian);
  view.setUint16(2, tag & 0xffff, littleEndian);
  if (!explicit) view.setUint32(4, length >>> 0, littleEndian);
  else {
    head[4] = vr.charCodeAt(0);
    head[5] = vr.charCodeAt(1);
    if (LONG_VRS.has(vr)) view.setUint32(8, length >>> 0, littleEndian);
    else view.setUint16(6, length & 0xffff, littleEndian);
  }
  return concat(head, value);
}

/** Item (FFFE,E000), item delimiter (E00D) or sequence delimiter (E0DD) header. */
export function encodeDelimiter(element: 0xe000 | 0xe00d | 0xe0dd, length: number, littleEndian: boolean): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint16(0, 0xfffe, littleEndian);
  view.setUint16(2, element, littleEndian);
  view.setUint32(4, length >>> 0, littleEndian);
  return out;
}

/** Inserts encoded element bytes before the first top-level element whose tag sorts after `tag`. */
export function insertSorted(bytes: Uint8Array, layout: DicomLayout, tag: number, encoded: Uint8Array): Uint8Array {
  const next = layout.elements.find((e) => e.depth === 0 && !e.isDelimiter && e.start >= layout.bodyStart && tagOf(e) > tag);
  const last = layout.elements.at(-1);
  const at = next?.start ?? last?.end ?? bytes.length;
  return replaceRange(bytes, at, at, encoded);
}

export function uint16Value(value: number, littleEndian: boolean): Uint8Array {
  return writeUint(new Uint8Array(2), 0, 2, value, littleEndian);
}

/** Text padded to even length with a space, as DICOM string VRs are (unless `odd` asks for a broken one). */
export function textValue(text: string, odd = false): Uint8Array {
  const padded = text.length % 2 === 1 && !odd ? `${text} ` : text;
  return Uint8Array.from(padded, (c) => c.charCodeAt(0) & 0xff);
}

/** Sets a US attribute in place, or inserts it where it sorts. */
export function setUs(bytes: Uint8Array, tag: number, value: number): Uint8Array {
  const layout = walkDicom(bytes);
  const e = findElement(layout, tag);
  if (e) return writeUint(bytes, e.valueOffset, 2, value, e.littleEndian);
  return insertSorted(
    bytes,
    layout,
    tag,
    encodeElement(tag, 'US', uint16Value(value, layout.littleEndian), layout.explicit, layout.littleEndian),
  );
}

export function setText(bytes: Uint8Array, tag: number, vr: string, text: string): Uint8Array {
  const layout = walkDicom(bytes);
  const e = findElement(layout, tag);
  if (e) return replaceValue(bytes, e, textValue(text));
  return insertSorted(bytes, layout, tag, encodeElement(tag, vr, textValue(text), layout.explicit, layout.littleEndian));
}

export function readUs(bytes: Uint8Array, layout: DicomLayout, tag: number): number | undefined {
  const e = findElement(layout, tag);
  return e && e.length >= 2 ? readUint(bytes, e.valueOffset, 2, e.littleEndian) : undefined;
}
