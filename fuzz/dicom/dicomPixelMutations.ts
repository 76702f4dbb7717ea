/**
 * DICOM mutations of the pixel description: hostile pixel-module attributes, pathological
 * sizes (alone, or agreed on by the dataset and the codestream), native pixels re-described
 * in other consistent layouts, Float Pixel Data, and LUT sequences that contradict their data.
 */
import { INTERESTING_U16, concat, replaceRange, writeUint } from '../shared/mutate.js';
import { TAGS, findElement, walkDicom } from './dicomLayout.js';
import { encodeDelimiter, encodeElement, insertSorted, readUs, replaceValue, setText, setUs, textValue, uint16Value } from './dicomEdit.js';
import { codecOfSyntax, resizeCodestream } from './codestreamMutations.js';
import { UNDEFINED_LENGTH, type Operator } from './dicomOperator.js';

const US_ATTRIBUTES: Array<[string, number]> = [
  ['Rows', TAGS.rows],
  ['Columns', TAGS.columns],
  ['BitsAllocated', TAGS.bitsAllocated],
  ['BitsStored', TAGS.bitsStored],
  ['HighBit', TAGS.highBit],
  ['SamplesPerPixel', TAGS.samplesPerPixel],
  ['PixelRepresentation', TAGS.pixelRepresentation],
  ['PlanarConfiguration', TAGS.planarConfiguration],
];
const TEXT_ATTRIBUTES: Array<[string, number, string, string[]]> = [
  [
    'NumberOfFrames',
    TAGS.numberOfFrames,
    'IS',
    ['0', '1', '2', '3', '-1', '1000', '65535', '4294967297', '1e9', '2.5', 'NaN', '', '  ', '1\\2', '99999999999999999999'],
  ],
  [
    'PhotometricInterpretation',
    TAGS.photometricInterpretation,
    'CS',
    [
      'MONOCHROME1',
      'MONOCHROME2',
      'RGB',
      'YBR_FULL',
      'YBR_FULL_422',
      'YBR_PARTIAL_422',
      'YBR_PARTIAL_420',
      'YBR_RCT',
      'YBR_ICT',
      'PALETTE COLOR',
      'ARGB',
      'CMYK',
      'HSV',
      '',
      'monochrome2',
    ],
  ],
  ['WindowCenter', TAGS.windowCenter, 'DS', ['0', '-1', '1', '0.5', '1e308', '-1e308', 'NaN', 'inf', '1e-300', '40\\400', '', 'abc']],
  ['WindowWidth', TAGS.windowWidth, 'DS', ['0', '-1', '1', '0.5', '2', '1e308', 'NaN', 'inf', '1e-300', '400\\1', '', 'abc']],
  ['RescaleSlope', TAGS.rescaleSlope, 'DS', ['0', '1e38', '-1e38', '1e-45', 'NaN', 'inf', '-0', '2', '1e300', '-1']],
  ['RescaleIntercept', TAGS.rescaleIntercept, 'DS', ['0', '1e38', '-1e38', 'NaN', 'inf', '-1024', '1e300', '-1e300']],
  ['VOILUTFunction', TAGS.voiLutFunction, 'CS', ['SIGMOID', 'LINEAR_EXACT', 'LINEAR', 'BOGUS', '']],
  ['PixelSpacing', TAGS.pixelSpacing, 'DS', ['0\\0', '-1\\-1', 'NaN\\1', '1e308\\1e308', '1', 'x\\y']],
];

/** Hostile values for the attributes that size and interpret the pixels; inserted when absent. */
export const attribute: Operator = (bytes, layout, rng) => {
  if (rng.chance(0.55)) {
    const [name, tag] = rng.pick(US_ATTRIBUTES);
    const value = rng.chance(0.8) ? rng.pick([...INTERESTING_U16, 8, 12, 16, 24, 32, 64]) : rng.int(65536);
    const e = findElement(layout, tag);
    if (e && e.end !== undefined && rng.chance(0.9)) {
      if (rng.chance(0.1)) {
        const odd = rng.pick([
          new Uint8Array(0),
          Uint8Array.of(value & 0xff),
          uint16Value(value, e.littleEndian).subarray(0, 2),
          new Uint8Array(4).fill(0xff),
        ]);
        return { bytes: replaceValue(bytes, e, odd), label: `${name} value of ${odd.length} bytes` };
      }
      return { bytes: writeUint(bytes, e.valueOffset, 2, value, e.littleEndian), label: `${name}=${value}` };
    }
    const encoded = encodeElement(tag, 'US', uint16Value(value, layout.littleEndian), layout.explicit, layout.littleEndian);
    return { bytes: insertSorted(bytes, layout, tag, encoded), label: `insert ${name}=${value}` };
  }
  const [name, tag, vr, values] = rng.pick(TEXT_ATTRIBUTES);
  const text = rng.pick(values);
  const value = textValue(text, rng.chance(0.15));
  const e = findElement(layout, tag);
  if (e && e.end !== undefined) return { bytes: replaceValue(bytes, e, value), label: `${name}='${text}'` };
  const encoded = encodeElement(tag, vr, value, layout.explicit, layout.littleEndian);
  return { bytes: insertSorted(bytes, layout, tag, encoded), label: `insert ${name}='${text}'` };
};

/** The header of a pathological image: every size field at its maximum. */
export const hugeImage: Operator = (bytes, layout, rng) => {
  let out = bytes;
  const settings: Array<[number, number]> = [
    [TAGS.rows, rng.pick([65535, 32768, 16384])],
    [TAGS.columns, rng.pick([65535, 32768, 16384])],
  ];
  if (rng.chance(0.5)) settings.push([TAGS.bitsAllocated, 32]);
  for (const [tag, value] of settings) {
    const e = findElement(walkDicom(out), tag);
    if (e) out = writeUint(out, e.valueOffset, 2, value, e.littleEndian);
  }
  const frames = rng.pick(['1000', '65535', '1']);
  const current = walkDicom(out);
  const e = findElement(current, TAGS.numberOfFrames);
  out = e
    ? replaceValue(out, e, textValue(frames))
    : insertSorted(
        out,
        current,
        TAGS.numberOfFrames,
        encodeElement(TAGS.numberOfFrames, 'IS', textValue(frames), layout.explicit, layout.littleEndian),
      );
  return { bytes: out, label: `huge image ${settings.map(([, v]) => v).join('x')}x${frames} frames` };
};

/** Rows/Columns set to a huge size in the dataset and, where there is one, in the first frame's codestream too. */
export const hugeConsistentFrame: Operator = (bytes, layout, rng) => {
  const rows = rng.pick([4097, 8192, 8193, 16384, 32768, 65535]);
  const columns = rng.pick([4097, 8192, 8193, 16384, 32768, 65535]);
  let out = setUs(bytes, TAGS.rows, rows);
  out = setUs(out, TAGS.columns, columns);
  const frame = walkDicom(out).fragments[1];
  if (frame?.end !== undefined) {
    const resized = resizeCodestream(codecOfSyntax(layout.transferSyntaxUID), out.slice(frame.valueOffset, frame.end), rows, columns);
    out = replaceValue(out, frame, resized);
  }
  return { bytes: out, label: `huge frame ${columns}x${rows} in dataset and codestream` };
};

/** Native pixels re-described as 1xN, Nx1 or another factorisation of the same sample count: valid, but extreme. */
export const reshapeNative: Operator = (bytes, layout, rng) => {
  const pixelData = layout.pixelData;
  if (!pixelData || pixelData.length === UNDEFINED_LENGTH || layout.fragments.length) return undefined;
  const bits = readUs(bytes, layout, TAGS.bitsAllocated) ?? 16;
  const samples = readUs(bytes, layout, TAGS.samplesPerPixel) ?? 1;
  const count = Math.floor((pixelData.length * 8) / Math.max(1, bits) / samples);
  const divisors = [1, 2, 3, 4, 5, 8].filter((d) => count % d === 0 && count / d <= 65535);
  if (!divisors.length) return undefined;
  const short = rng.pick(divisors);
  const [rows, columns] = rng.chance(0.5) ? [short, count / short] : [count / short, short];
  let out = setUs(bytes, TAGS.rows, rows);
  out = setUs(out, TAGS.columns, columns);
  out = setText(out, TAGS.numberOfFrames, 'IS', '1');
  return { bytes: out, label: `reshape native to ${columns}x${rows}` };
};

/**
 * Native pixels re-described with another depth, sample layout, photometric interpretation or
 * planar configuration, with Rows x Columns chosen so the data length still matches: these
 * files pass every length check and reach the sample unpacking and colour conversion.
 */
export const reinterpretNative: Operator = (bytes, layout, rng) => {
  const pixelData = layout.pixelData;
  if (!pixelData || pixelData.length === UNDEFINED_LENGTH || layout.fragments.length || pixelData.length === 0) return undefined;
  const bits = rng.pick([1, 8, 8, 16, 16, 32]);
  const samples = rng.pick([1, 3]);
  const photometric =
    samples === 1 ? rng.pick(['MONOCHROME1', 'MONOCHROME2']) : rng.pick(['RGB', 'YBR_FULL', 'YBR_FULL_422', 'YBR_PARTIAL_422', 'YBR_RCT']);
  const perPixelBits = bits * (photometric.endsWith('_422') ? 2 : samples);
  const pixels = Math.floor((pixelData.length * 8) / perPixelBits);
  const divisors = [1, 2, 3, 4, 6, 8, 16].filter((d) => pixels % d === 0 && pixels / d <= 65535);
  if (pixels === 0 || !divisors.length) return undefined;
  const rows = rng.pick(divisors);
  const stored = rng.intBetween(1, bits);
  const values: Array<[number, number]> = [
    [TAGS.bitsAllocated, bits],
    [TAGS.samplesPerPixel, samples],
    [TAGS.rows, rows],
    [TAGS.columns, pixels / rows],
    [TAGS.bitsStored, stored],
    [TAGS.highBit, rng.intBetween(stored - 1, bits - 1)],
    [TAGS.pixelRepresentation, rng.int(2)],
    [TAGS.planarConfiguration, rng.int(2)],
  ];
  let out = bytes;
  for (const [tag, value] of values) out = setUs(out, tag, value);
  out = setText(out, TAGS.photometricInterpretation, 'CS', photometric);
  out = setText(out, TAGS.numberOfFrames, 'IS', '1');
  return { bytes: out, label: `reinterpret native as ${pixels / rows}x${rows} ${samples}x${bits}-bit ${photometric}` };
};

/** PixelData re-tagged as Float or Double Float Pixel Data, which hold IEEE floats. */
export const floatPixelData: Operator = (bytes, layout, rng) => {
  const e = layout.pixelData;
  if (!e) return undefined;
  const [element, vr] = rng.pick([
    [0x0008, 'OF'],
    [0x0009, 'OD'],
  ] as const);
  let out = writeUint(bytes, e.start + 2, 2, element, e.littleEndian);
  if (e.explicit && e.vr !== undefined) out = replaceRange(out, e.start + 4, e.start + 6, textValue(vr));
  return { bytes: out, label: `PixelData as (7fe0,${element.toString(16).padStart(4, '0')}) ${vr}` };
};

/** A Modality or VOI LUT sequence whose descriptor disagrees with its data. */
export const lut: Operator = (bytes, layout, rng) => {
  const le = layout.littleEndian;
  const entries = rng.pick([0, 1, 2, 255, 256, 4096, 65535]);
  const first = rng.pick([0, 1, 32768, 65535]);
  const bits = rng.pick([0, 1, 8, 12, 16, 17, 32, 255]);
  const descriptor = new Uint8Array(6);
  const view = new DataView(descriptor.buffer);
  view.setUint16(0, entries, le);
  view.setUint16(2, first, le);
  view.setUint16(4, bits, le);
  const dataLength = rng.pick([entries * 2, entries, entries + 1, 0, 2, 3, 4096]);
  const data = new Uint8Array(dataLength + (dataLength & 1));
  for (let i = 0; i < data.length; i++) data[i] = (i * 37) & 0xff;
  const tag = rng.chance(0.5) ? 0x00283000 : 0x00283010;
  const item = concat(
    encodeElement(0x00283002, rng.chance(0.8) ? 'US' : 'SS', descriptor, layout.explicit, le),
    encodeElement(0x00283006, rng.pick(['OW', 'US', 'OB']), data, layout.explicit, le),
  );
  const itemBytes = concat(encodeDelimiter(0xe000, item.length, le), item);
  const encoded = encodeElement(tag, 'SQ', itemBytes, layout.explicit, le);
  return {
    bytes: insertSorted(bytes, layout, tag, encoded),
    label: `${tag === 0x00283000 ? 'Modality' : 'VOI'} LUT ${entries}/${first}/${bits} with ${dataLength} data bytes`,
  };
};
