/**
 * DICOM seeds: pydicom's corpus of real files plus files radlearn writes itself in every
 * transfer syntax it supports (single- and multi-frame, grey and colour, signed, windowed,
 * MONOCHROME1, LUT sequences). The generated images are small so a case stays cheap.
 */
import { encodeDicom, TransferSyntax, type DicomWriteSpec, type EncodeOptions } from '../../src/index.js';
import { writeEncapsulatedDicom } from '../../src/data/dicom/write.js';
import { loadCharls } from '../../src/data/dicom/codecs.js';
import { loadPydicomCorpus, type CorpusFile } from './pydicomCorpus.js';

export interface DicomSeeds {
  /** From pydicom's corpus (empty when pydicom is not installed). */
  real: CorpusFile[];
  /** Written by radlearn's own encoder. */
  generated: CorpusFile[];
}

export async function loadDicomSeeds(): Promise<DicomSeeds> {
  const real = loadPydicomCorpus();
  if (real.length === 0) {
    process.stderr.write('fuzz dicom: pydicom test_files corpus not found (install python3-pydicom); using radlearn-written seeds only\n');
  }
  return { real, generated: await generatedDicomSeeds() };
}

/** Smooth ramps with a little structure: decodable by every codec at a tiny size. */
function pixels(
  rows: number,
  columns: number,
  frames: number,
  samples: number,
  bitsAllocated: number,
  bits: number,
  signed: boolean,
): Uint8Array | Int8Array | Uint16Array | Int16Array {
  const n = rows * columns * frames * samples;
  const max = 2 ** (signed ? bits - 1 : bits) - 1;
  const min = signed ? -(max + 1) : 0;
  const out = bitsAllocated > 8 ? (signed ? new Int16Array(n) : new Uint16Array(n)) : signed ? new Int8Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const p = Math.floor(i / samples);
    const r = Math.floor(p / columns) % rows,
      c = p % columns;
    const v = 0.5 + 0.4 * Math.sin(r / 3 + (i % samples)) * Math.cos(c / 4 + Math.floor(p / (rows * columns)));
    out[i] = Math.round(min + v * (max - min));
  }
  return out;
}

const FUZZ_UID_ROOT = '1.2.826.0.1.3680043.10.1473.9';

interface Variant {
  name: string;
  spec: Partial<DicomWriteSpec>;
  options?: EncodeOptions;
}

function spec(rows: number, columns: number, bitsAllocated: 8 | 16, extra: Partial<DicomWriteSpec> = {}): DicomWriteSpec {
  const frames = extra.numberOfFrames ?? 1;
  const samples = extra.samplesPerPixel ?? 1;
  const bitsStored = extra.bitsStored ?? bitsAllocated;
  const signed = extra.pixelRepresentation === 1;
  // Fixed UIDs: the writer otherwise makes random ones, and a case must be the same bytes on every run.
  return {
    rows,
    columns,
    bitsAllocated,
    pixels: pixels(rows, columns, frames, samples, bitsAllocated, bitsStored, signed),
    patientId: 'FUZZ',
    modality: 'DX',
    pixelSpacing: [0.2, 0.2],
    studyInstanceUID: `${FUZZ_UID_ROOT}.1`,
    seriesInstanceUID: `${FUZZ_UID_ROOT}.2`,
    sopInstanceUID: `${FUZZ_UID_ROOT}.3`,
    ...extra,
  };
}

const SYNTAXES: Array<[string, string]> = [
  ['implicit', TransferSyntax.ImplicitVRLittleEndian],
  ['explicit', TransferSyntax.ExplicitVRLittleEndian],
  ['big-endian', TransferSyntax.ExplicitVRBigEndian],
  ['deflated', TransferSyntax.DeflatedExplicitVRLittleEndian],
  ['rle', TransferSyntax.RleLossless],
  ['jpeg-lossless', TransferSyntax.JpegLossless],
  ['jpeg-lossless-sv1', TransferSyntax.JpegLosslessSV1],
  ['jpeg-ls', TransferSyntax.JpegLsLossless],
  ['jpeg-ls-near', TransferSyntax.JpegLsNearLossless],
  ['j2k-lossless', TransferSyntax.Jpeg2000Lossless],
  ['j2k', TransferSyntax.Jpeg2000],
];

/** Grey 16-bit, colour 8-bit and three frames in every lossless-capable syntax; the lossy JPEGs on their own terms. */
function variants(): Variant[] {
  const out: Variant[] = [];
  for (const [name, uid] of SYNTAXES) {
    out.push({ name: `${name} u16 12-bit`, spec: { transferSyntaxUID: uid, bitsStored: 12 } });
    out.push({
      name: `${name} s16 MONOCHROME1 windowed`,
      spec: {
        transferSyntaxUID: uid,
        bitsStored: 14,
        pixelRepresentation: 1,
        photometricInterpretation: 'MONOCHROME1',
        windowCenter: [0, 100],
        windowWidth: [2000, 400],
        rescaleSlope: 0.5,
        rescaleIntercept: -1024,
      },
    });
    out.push({ name: `${name} u8 RGB`, spec: { transferSyntaxUID: uid, samplesPerPixel: 3, bitsAllocated: 8 } });
    // OpenJPEG's WASM encoder faults on 16-bit colour.
    if (!name.startsWith('j2k'))
      out.push({ name: `${name} u16 RGB`, spec: { transferSyntaxUID: uid, samplesPerPixel: 3, bitsStored: 12 } });
    out.push({ name: `${name} u16 3 frames`, spec: { transferSyntaxUID: uid, numberOfFrames: 3, bitsStored: 10 } });
  }
  const lut = Array.from({ length: 256 }, (_, i) => (i * 97) % 4000);
  out.push(
    { name: 'jpeg-baseline u8 grey', spec: { transferSyntaxUID: TransferSyntax.JpegBaseline, bitsAllocated: 8 } },
    // libjpeg-turbo's WASM encoder faults below about 16x24 colour pixels.
    {
      name: 'jpeg-baseline u8 RGB',
      spec: { transferSyntaxUID: TransferSyntax.JpegBaseline, bitsAllocated: 8, samplesPerPixel: 3, rows: 16, columns: 24 },
    },
    { name: 'jpeg-baseline u8 2 frames', spec: { transferSyntaxUID: TransferSyntax.JpegBaseline, bitsAllocated: 8, numberOfFrames: 2 } },
    { name: 'jpeg-extended 12-bit', spec: { transferSyntaxUID: TransferSyntax.JpegExtended, bitsStored: 12 } },
    { name: 'jpeg-extended 12-bit 2 frames', spec: { transferSyntaxUID: TransferSyntax.JpegExtended, bitsStored: 12, numberOfFrames: 2 } },
    { name: 'explicit u8 grey odd size', spec: { bitsAllocated: 8, rows: 7, columns: 9 } },
    { name: 'explicit u8 RGB planar', spec: { bitsAllocated: 8, samplesPerPixel: 3, extra: { PlanarConfiguration: 1 } } },
    {
      name: 'explicit s16 modality LUT',
      spec: {
        bitsStored: 12,
        extra: {
          ModalityLUTSequence: [
            { LUTDescriptor: [256, 0, 16], ModalityLUTType: 'US', LUTData: lut, _vrMap: { LUTDescriptor: 'US', LUTData: 'US' } },
          ],
        },
      },
    },
    {
      name: 'explicit u16 VOI LUT',
      spec: {
        bitsStored: 8,
        extra: { VOILUTSequence: [{ LUTDescriptor: [256, 0, 16], LUTData: lut, _vrMap: { LUTDescriptor: 'US', LUTData: 'US' } }] },
      },
    },
    {
      name: 'explicit u16 sigmoid window',
      spec: { bitsStored: 12, windowCenter: 2000, windowWidth: 1000, extra: { VOILUTFunction: 'SIGMOID' } },
    },
  );
  return out;
}

export async function generatedDicomSeeds(): Promise<CorpusFile[]> {
  const out: CorpusFile[] = [];
  for (const variant of variants()) {
    const bits = variant.spec.bitsAllocated ?? 16;
    const full = spec(variant.spec.rows ?? 12, variant.spec.columns ?? 17, bits, variant.spec);
    out.push({ name: `radlearn ${variant.name}`, bytes: await encodeDicom(full, variant.options) });
  }
  for (const bits of [8, 16] as const) out.push(await planarJpegLs(bits));
  return out;
}

/** RGB JPEG-LS with interleave mode 0 (one plane per component), which radlearn's encoder never writes. */
async function planarJpegLs(bits: 8 | 16): Promise<CorpusFile> {
  const rows = 12,
    columns = 17,
    bitsStored = bits === 16 ? 12 : 8;
  const planes = pixels(rows, columns, 1, 3, bits, bitsStored, false);
  const charls = await loadCharls();
  const encoder = new charls.JpegLSEncoder();
  try {
    encoder
      .getDecodedBuffer({ width: columns, height: rows, bitsPerSample: bitsStored, componentCount: 3, isSigned: false })
      .set(new Uint8Array(planes.buffer, planes.byteOffset, planes.byteLength));
    encoder.setInterleaveMode(0);
    encoder.encode();
    const frame = encoder.getEncodedBuffer().slice();
    return {
      name: `radlearn jpeg-ls u${bits} RGB planar`,
      bytes: writeEncapsulatedDicom(
        {
          rows,
          columns,
          bitsAllocated: bits,
          bitsStored,
          samplesPerPixel: 3,
          photometricInterpretation: 'RGB',
          transferSyntaxUID: TransferSyntax.JpegLsLossless,
          studyInstanceUID: `${FUZZ_UID_ROOT}.1`,
          seriesInstanceUID: `${FUZZ_UID_ROOT}.2`,
          sopInstanceUID: `${FUZZ_UID_ROOT}.3`,
        },
        [frame],
      ),
    };
  } finally {
    encoder.delete();
  }
}
