/**
 * DICOM mutations of the dataset's structure: truncation at element boundaries, header bytes,
 * length fields, VRs, sequence nesting and delimiters, the declared transfer syntax, the
 * preamble and meta group, whole elements, and splices of two files.
 */
import { concat, flipBits, overwriteBytes, removeRange, replaceRange, splice, truncate, writeUint } from '../shared/mutate.js';
import { TAGS, findElement, tagOf, walkDicom } from './dicomLayout.js';
import { encodeDelimiter, encodeElement, insertSorted, replaceValue, textValue } from './dicomEdit.js';
import { UNDEFINED_LENGTH, pickElement, tagName, type Operator } from './dicomOperator.js';

/** Cuts at an element boundary or inside a header, where parsers switch state. */
export const truncateAtBoundary: Operator = (bytes, layout, rng) => {
  const e = pickElement(layout, rng);
  if (!e) return undefined;
  const at = rng.pick([
    e.start,
    e.start + 1 + rng.int(7),
    e.lengthOffset,
    e.valueOffset,
    e.valueOffset + rng.int(Math.max(1, Math.min(e.length, bytes.length - e.valueOffset))),
    (e.end ?? bytes.length) - 1,
  ]);
  return { bytes: truncate(bytes, at), label: `truncate@${at} (element ${tagName(tagOf(e))})` };
};

/** Flips or overwrites bytes of one element's tag, VR and length. */
export const headerBytes: Operator = (bytes, layout, rng) => {
  const e = pickElement(layout, rng);
  if (!e) return undefined;
  const count = rng.intBetween(1, 8);
  const mutated = rng.chance(0.5)
    ? flipBits(bytes, rng, count, e.start, e.valueOffset)
    : overwriteBytes(bytes, rng, count, e.start, e.valueOffset);
  return { bytes: mutated, label: `header bytes x${count} of ${tagName(tagOf(e))}` };
};

/** Lengths that overrun the file, are odd, undefined where not allowed, or zero. */
export const lengthField: Operator = (bytes, layout, rng) => {
  const favoured = rng.chance(0.5)
    ? pickElement(
        layout,
        rng,
        (e) => e === layout.pixelData || layout.fragments.includes(e) || e.vr === 'SQ' || (e.isDelimiter && e.element === 0xe000),
      )
    : undefined;
  const e = favoured ?? pickElement(layout, rng);
  if (!e) return undefined;
  const remaining = bytes.length - e.valueOffset;
  const defined = e.length !== UNDEFINED_LENGTH;
  const value = rng.pick([
    UNDEFINED_LENGTH,
    remaining,
    remaining + 1,
    remaining + rng.intBetween(2, 4096),
    defined ? e.length | 1 : 1,
    defined ? e.length + 1 : 3,
    defined ? Math.max(0, e.length - 1) : 0,
    0,
    0x7fffffff,
    0xfffffffe,
    0xffff,
    defined ? e.length * 2 : 0x10000,
    rng.nextU32(),
  ]);
  const stored = e.lengthSize === 2 ? value & 0xffff : value >>> 0;
  return {
    bytes: writeUint(bytes, e.lengthOffset, e.lengthSize, stored, e.littleEndian),
    label: `length of ${tagName(tagOf(e))}@${e.start}=${stored}`,
  };
};

const VRS = ['OB', 'OW', 'SQ', 'UN', 'US', 'UL', 'SS', 'IS', 'DS', 'CS', 'UI', 'UT', 'AT', 'FL', 'FD', 'OF', 'XX', 'ob'];

/** A different VR changes how the length is read and how the value is interpreted. */
export const wrongVr: Operator = (bytes, layout, rng) => {
  const e = pickElement(layout, rng, (x) => x.explicit && !x.isDelimiter && x.vr !== undefined);
  if (!e) return undefined;
  const vr = rng.chance(0.9) ? rng.pick(VRS) : String.fromCharCode(rng.int(256), rng.int(256));
  const out = bytes.slice();
  out[e.start + 4] = vr.charCodeAt(0) & 0xff;
  out[e.start + 5] = vr.charCodeAt(1) & 0xff;
  return { bytes: out, label: `VR of ${tagName(tagOf(e))} ${e.vr}->${JSON.stringify(vr)}` };
};

/** Deep or unterminated nesting, removed delimiters, stray items. */
export const sequence: Operator = (bytes, layout, rng) => {
  const le = layout.littleEndian;
  switch (rng.int(4)) {
    case 0: {
      const depth = rng.pick([2, 10, 100, 1000, 5000]);
      const closed = rng.chance(0.5);
      const open = concat(
        encodeElement(0x00081140, 'SQ', new Uint8Array(0), layout.explicit, le, UNDEFINED_LENGTH),
        encodeDelimiter(0xe000, UNDEFINED_LENGTH, le),
      );
      const close = concat(encodeDelimiter(0xe00d, 0, le), encodeDelimiter(0xe0dd, 0, le));
      const parts: Uint8Array[] = [];
      for (let i = 0; i < depth; i++) parts.push(open);
      if (closed) for (let i = 0; i < depth; i++) parts.push(close);
      return {
        bytes: insertSorted(bytes, layout, 0x00081140, concat(...parts)),
        label: `nested sequences x${depth}${closed ? '' : ' unterminated'}`,
      };
    }
    case 1: {
      const e = pickElement(layout, rng, (x) => x.isDelimiter && x.element !== 0xe000);
      if (!e) return undefined;
      return { bytes: removeRange(bytes, e.start, e.valueOffset), label: `remove delimiter ${tagName(tagOf(e))}@${e.start}` };
    }
    case 2: {
      const e = pickElement(
        layout,
        rng,
        (x) => (x.vr === 'SQ' || (x.isDelimiter && x.element === 0xe000)) && x.length !== UNDEFINED_LENGTH,
      );
      if (!e) return undefined;
      return {
        bytes: writeUint(bytes, e.lengthOffset, 4, UNDEFINED_LENGTH, e.littleEndian),
        label: `undefined length without delimiter @${e.start}`,
      };
    }
    default: {
      const e = pickElement(layout, rng, (x) => x.start >= layout.bodyStart);
      if (!e) return undefined;
      const stray = encodeDelimiter(rng.pick([0xe000, 0xe00d, 0xe0dd] as const), rng.pick([0, 4, UNDEFINED_LENGTH, 0x7fffffff]), le);
      return { bytes: replaceRange(bytes, e.start, e.start, stray), label: `stray item header @${e.start}` };
    }
  }
};

const SYNTAXES = [
  '1.2.840.10008.1.2',
  '1.2.840.10008.1.2.1',
  '1.2.840.10008.1.2.1.99',
  '1.2.840.10008.1.2.2',
  '1.2.840.10008.1.2.4.50',
  '1.2.840.10008.1.2.4.51',
  '1.2.840.10008.1.2.4.57',
  '1.2.840.10008.1.2.4.70',
  '1.2.840.10008.1.2.4.80',
  '1.2.840.10008.1.2.4.81',
  '1.2.840.10008.1.2.4.90',
  '1.2.840.10008.1.2.4.91',
  '1.2.840.10008.1.2.5',
  '1.2.840.10008.1.2.4.100',
  '1.2.3',
  '',
  '1.2.840.10008.1.2.1\0x',
];

/** Declares another transfer syntax than the one the body and pixels are written in. */
export const transferSyntax: Operator = (bytes, layout, rng) => {
  const e = findElement(layout, TAGS.transferSyntaxUID);
  if (!e) return undefined;
  const uid = rng.pick(SYNTAXES);
  const value = textValue(uid);
  if (value.length % 2 === 1) return { bytes: replaceValue(bytes, e, concat(value, new Uint8Array(1))), label: `syntax ${uid}` };
  return { bytes: replaceValue(bytes, e, value), label: `syntax ${uid}` };
};

/** Without the preamble, the prefix or the whole meta group: the reader must work out the layout itself. */
export const stripHeader: Operator = (bytes, layout, rng) => {
  if (layout.bodyStart < 132) return undefined;
  const cut = rng.pick([128, 132, layout.bodyStart]);
  const stripped = bytes.subarray(cut);
  return rng.chance(0.2)
    ? { bytes: concat(Uint8Array.of(0x08, 0x00), stripped), label: `strip first ${cut} bytes, two stray bytes before` }
    : { bytes: stripped.slice(), label: `strip first ${cut} bytes` };
};

export const elementCopy: Operator = (bytes, layout, rng) => {
  const e = pickElement(layout, rng, (x) => x.end !== undefined && x.start >= layout.bodyStart);
  if (!e || e.end === undefined) return undefined;
  if (rng.chance(0.5)) return { bytes: removeRange(bytes, e.start, e.end), label: `remove element ${tagName(tagOf(e))}` };
  return { bytes: replaceRange(bytes, e.end, e.end, bytes.slice(e.start, e.end)), label: `duplicate element ${tagName(tagOf(e))}` };
};

/** Head of this file and tail of another, both cut at element boundaries. */
export const structuralSplice: Operator = (bytes, layout, rng, donor) => {
  const a = pickElement(layout, rng);
  const b = pickElement(walkDicom(donor), rng);
  if (!a || !b) return undefined;
  return {
    bytes: splice(bytes, a.start, donor, b.start),
    label: `splice ${tagName(tagOf(a))}@${a.start} + donor ${tagName(tagOf(b))}@${b.start}`,
  };
};
