import { describe, expect, it } from 'vitest';
import { readDicom, writeDicom, TransferSyntax } from '../../../src/index.js';
import type { DicomWriteSpec } from '../../../src/index.js';
import { syntheticPixels } from './fixtures.js';

const rows = 23,
  columns = 31;
function base(extra: Partial<DicomWriteSpec> = {}): DicomWriteSpec {
  const pixels = syntheticPixels({ rows, columns, bitsAllocated: 16, bitsStored: 12, signed: true, seed: 5, noise: 0.2 });
  return { rows, columns, bitsAllocated: 16, bitsStored: 12, pixelRepresentation: 1, pixels, ...extra };
}
const close = (a: number, b: number, eps = 1e-5) => Math.abs(a - b) <= eps;

describe('intensity pipeline', () => {
  it('applies rescale slope/intercept as the Modality LUT', async () => {
    const spec = base({ rescaleSlope: 0.5, rescaleIntercept: -1024 });
    const image = await readDicom(writeDicom(spec));
    const m = image.modalityPixels();
    for (let i = 0; i < m.length; i++) expect(close(m[i]!, spec.pixels[i]! * 0.5 - 1024)).toBe(true);
  });

  it('applies a Modality LUT sequence instead of rescale', async () => {
    const first = -2048,
      n = 4096;
    const lut = Array.from({ length: n }, (_, i) => (i * 7 + 13) % 4000);
    const spec = base({
      extra: {
        ModalityLUTSequence: [
          { LUTDescriptor: [n, first & 0xffff, 16], ModalityLUTType: 'US', LUTData: lut, _vrMap: { LUTDescriptor: 'US', LUTData: 'US' } },
        ],
      },
    });
    const image = await readDicom(writeDicom(spec));
    const m = image.modalityPixels();
    for (let i = 0; i < m.length; i++) {
      const index = Math.min(n - 1, Math.max(0, spec.pixels[i]! - first));
      expect(m[i]).toBe(lut[index]);
    }
  });

  it('LINEAR window from the file (first value by default, second on request)', async () => {
    const spec = base({ windowCenter: [100, -300], windowWidth: [800, 400] });
    const image = await readDicom(writeDicom(spec));
    expect(image.windowCenter).toEqual([100, -300]);
    const img0 = image.toImage(0);
    const img1 = image.toImage(0, { windowIndex: 1 });
    for (let i = 0; i < img0.length; i++) {
      const x = spec.pixels[i]!;
      const ref = (c: number, w: number) => Math.min(1, Math.max(0, (x - (c - 0.5)) / (w - 1) + 0.5));
      expect(close(img0[i]!, ref(100, 800))).toBe(true);
      expect(close(img1[i]!, ref(-300, 400))).toBe(true);
    }
  });

  it('SIGMOID VOI function', async () => {
    const spec = base({ windowCenter: 50, windowWidth: 300, extra: { VOILUTFunction: 'SIGMOID' } });
    const img = (await readDicom(writeDicom(spec))).toImage();
    for (let i = 0; i < img.length; i++) {
      expect(close(img[i]!, 1 / (1 + Math.exp((-4 * (spec.pixels[i]! - 50)) / 300)))).toBe(true);
    }
  });

  it('VOI LUT sequence', async () => {
    const n = 4096,
      first = -2048;
    const lut = Array.from({ length: n }, (_, i) => Math.round((i / (n - 1)) ** 0.5 * 65535));
    const spec = base({
      extra: { VOILUTSequence: [{ LUTDescriptor: [n, first & 0xffff, 16], LUTData: lut, _vrMap: { LUTDescriptor: 'US', LUTData: 'US' } }] },
    });
    const img = (await readDicom(writeDicom(spec))).toImage();
    for (let i = 0; i < img.length; i++) expect(close(img[i]!, lut[spec.pixels[i]! - first]! / 65535)).toBe(true);
  });

  it("'auto' without a file window uses 0.5-99.5 percentiles; 'none' uses min-max; explicit window wins", async () => {
    const spec = base();
    const image = await readDicom(writeDicom(spec));
    const auto = image.toImage(0, { window: 'auto' });
    const sorted = Array.from(spec.pixels).sort((a, b) => a - b);
    const lo = sorted[Math.floor(sorted.length * 0.005)]!,
      hi = sorted[Math.ceil(sorted.length * 0.995) - 1]!;
    let saturatedLow = 0,
      saturatedHigh = 0;
    for (let i = 0; i < auto.length; i++) {
      if (auto[i] === 0) saturatedLow++;
      if (auto[i] === 1) saturatedHigh++;
      expect(auto[i]).toBeGreaterThanOrEqual(0);
      expect(auto[i]).toBeLessThanOrEqual(1);
    }
    expect(saturatedLow).toBeGreaterThan(0);
    expect(saturatedHigh).toBeGreaterThan(0);
    expect(saturatedLow / auto.length).toBeLessThan(0.02);
    // Away from the clipped tails, 'auto' is the linear map of [p0.5, p99.5] (to histogram-bin accuracy).
    for (let i = 0; i < auto.length; i++) {
      const x = spec.pixels[i]!;
      if (x > lo && x < hi) expect(Math.abs(auto[i]! - (x - lo) / (hi - lo))).toBeLessThan(0.01);
    }
    const none = image.toImage(0, { window: 'none' });
    const min = sorted[0]!,
      max = sorted[sorted.length - 1]!;
    for (let i = 0; i < none.length; i++) expect(close(none[i]!, (spec.pixels[i]! - min) / (max - min))).toBe(true);
    const fixed = image.toImage(0, { window: { center: 0, width: 1000 } });
    for (let i = 0; i < fixed.length; i++) {
      expect(close(fixed[i]!, Math.min(1, Math.max(0, (spec.pixels[i]! + 0.5) / 999 + 0.5)))).toBe(true);
    }
  });

  it('inverts MONOCHROME1 so bright means dense, unless asked not to', async () => {
    const spec = base({ photometricInterpretation: 'MONOCHROME1', windowCenter: 0, windowWidth: 2000 });
    const image = await readDicom(writeDicom(spec));
    const inverted = image.toImage();
    const raw = image.toImage(0, { invertMonochrome1: false });
    for (let i = 0; i < raw.length; i++) expect(close(inverted[i]!, 1 - raw[i]!)).toBe(true);
  });

  it('RGB: stored values scaled to [0,1] per channel, interleaved', async () => {
    const pixels = syntheticPixels({ rows, columns, samples: 3, bitsAllocated: 8, seed: 9, noise: 0.5 });
    const image = await readDicom(writeDicom({ rows, columns, samplesPerPixel: 3, bitsAllocated: 8, pixels }));
    const img = image.toImage();
    expect(img.length).toBe(rows * columns * 3);
    for (let i = 0; i < img.length; i++) expect(close(img[i]!, pixels[i]! / 255)).toBe(true);
  });

  it('converts YBR_FULL and planar configuration 1 to interleaved RGB', async () => {
    const rgb = syntheticPixels({ rows, columns, samples: 3, bitsAllocated: 8, seed: 11, noise: 0.3 }) as Uint8Array;
    const n = rows * columns;
    const ybr = new Uint8Array(n * 3);
    for (let p = 0; p < n; p++) {
      const [r, g, b] = [rgb[p * 3]!, rgb[p * 3 + 1]!, rgb[p * 3 + 2]!];
      ybr[p * 3] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
      ybr[p * 3 + 1] = Math.round(-0.168736 * r - 0.331264 * g + 0.5 * b + 128);
      ybr[p * 3 + 2] = Math.round(0.5 * r - 0.418688 * g - 0.081312 * b + 128);
    }
    const img = await readDicom(
      writeDicom({ rows, columns, samplesPerPixel: 3, bitsAllocated: 8, pixels: ybr, photometricInterpretation: 'YBR_FULL' }),
    );
    const back = img.storedPixels();
    for (let i = 0; i < back.length; i++) expect(Math.abs(back[i]! - rgb[i]!)).toBeLessThanOrEqual(2);
    const planar = new Uint8Array(n * 3);
    for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) planar[c * n + p] = rgb[p * 3 + c]!;
    const img2 = await readDicom(
      writeDicom({ rows, columns, samplesPerPixel: 3, bitsAllocated: 8, pixels: planar, extra: { PlanarConfiguration: 1 } }),
    );
    expect(Array.from(img2.storedPixels())).toEqual(Array.from(rgb));
  });

  it('masks BitsStored and honours HighBit below BitsAllocated-1', async () => {
    // 10 bits stored in bits 11..2 (HighBit 11) with garbage in the other bits.
    const values = syntheticPixels({ rows, columns, bitsAllocated: 16, bitsStored: 10, seed: 4, noise: 0.5 }) as Uint16Array;
    const packed = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) packed[i] = (values[i]! << 2) | 0b11 | 0xf000;
    const image = await readDicom(writeDicom({ rows, columns, bitsAllocated: 16, bitsStored: 10, pixels: packed, extra: { HighBit: 11 } }));
    expect(Array.from(image.storedPixels())).toEqual(Array.from(values));
  });

  it('reads a bare dataset without preamble and meta header (implicit VR LE)', async () => {
    const spec = base({ transferSyntaxUID: TransferSyntax.ImplicitVRLittleEndian });
    const file = writeDicom(spec);
    const view = new DataView(file.buffer, file.byteOffset);
    const bodyStart = 132 + 12 + view.getUint32(140, true);
    const image = await readDicom(file.subarray(bodyStart));
    expect(image.transferSyntaxUID).toBe(TransferSyntax.ImplicitVRLittleEndian);
    expect(Array.from(image.storedPixels())).toEqual(Array.from(spec.pixels));
  });
});

describe('unusable file windows', () => {
  it("'auto' falls back to percentiles when the file's window width is 0", async () => {
    const spec = base({ windowCenter: 100, windowWidth: 0 });
    const image = await readDicom(writeDicom(spec));
    const auto = image.toImage();
    const reference = (await readDicom(writeDicom(base()))).toImage();
    expect(Array.from(auto)).toEqual(Array.from(reference));
  });
});
