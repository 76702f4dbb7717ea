/**
 * toImage's onWarning: a window (the file's or the one given) that maps more than 99% of the
 * pixels to one end is reported with the window and the data range; a window that fits the data,
 * 'none' and the percentile default are not.
 */
import { describe, expect, it } from 'vitest';
import { readDicom, writeDicom, SATURATED_WINDOW_FRACTION, type DicomWriteSpec, type ToImageOptions } from '../../../src/index.js';

const rows = 20,
  columns = 25;

/** 12-bit stored values spread over 100..900. */
function ramp(): Uint16Array {
  const pixels = new Uint16Array(rows * columns);
  for (let i = 0; i < pixels.length; i++) pixels[i] = 100 + Math.round((800 * i) / (pixels.length - 1));
  return pixels;
}

async function render(spec: Partial<DicomWriteSpec>, options: ToImageOptions = {}): Promise<{ image: Float32Array; warnings: string[] }> {
  const dicom = await readDicom(writeDicom({ rows, columns, bitsAllocated: 16, bitsStored: 12, pixels: ramp(), ...spec }), {
    path: 'mismatch.dcm',
  });
  const warnings: string[] = [];
  const image = dicom.toImage(0, { ...options, onWarning: (m) => warnings.push(m) });
  return { image, warnings };
}

describe('window saturation warning', () => {
  it('a file window above the data renders all black and says so, with the window and the data range', async () => {
    const { image, warnings } = await render({ windowCenter: 3000, windowWidth: 400 });
    expect(image.every((v) => v === 0)).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('mismatch.dcm');
    expect(warnings[0]).toContain('WindowCenter 3000, WindowWidth 400');
    expect(warnings[0]).toContain('100% of the pixels to black');
    expect(warnings[0]).toContain('100 to 900 (stored values)');
  });

  it('MONOCHROME1 inverts, so the same mismatch is all white; the range is in modality values after rescale', async () => {
    const { image, warnings } = await render({
      windowCenter: 3000,
      windowWidth: 400,
      photometricInterpretation: 'MONOCHROME1',
      rescaleSlope: 2,
      rescaleIntercept: -1024,
    });
    expect(image.every((v) => v === 1)).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('to white');
    expect(warnings[0]).toContain(`${2 * 100 - 1024} to ${2 * 900 - 1024} (modality values)`);
  });

  it('a window given below the data is named as given', async () => {
    const { warnings } = await render({}, { window: { center: -500, width: 100 } });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('the window given (center -500, width 100)');
    expect(warnings[0]).toContain('100% of the pixels to white');
  });

  it('no warning for a window that fits, for none, or for the percentile default', async () => {
    expect((await render({ windowCenter: 500, windowWidth: 800 })).warnings).toEqual([]);
    expect((await render({ windowCenter: 3000, windowWidth: 400 }, { window: 'none' })).warnings).toEqual([]);
    expect((await render({})).warnings).toEqual([]);
  });

  it('the threshold: just under 99% at one end is quiet, just over warns', async () => {
    const n = rows * columns; // 500 pixels, values 100..900 in steps of 800/499
    // LINEAR window from 0 (nothing black) to an upper edge placed so that exactly `white` pixels are above it:
    // values at or above center - 0.5 + (width - 1) / 2 are white, at or below center - 0.5 - (width - 1) / 2 black.
    const valueAt = (i: number) => 100 + Math.round((800 * i) / (n - 1));
    const windowWithWhite = (white: number) => {
      const edge = (valueAt(n - white - 1) + valueAt(n - white)) / 2;
      return { center: edge / 2 + 0.5, width: edge + 1 };
    };
    const quiet = Math.floor(n * SATURATED_WINDOW_FRACTION); // 495: 99.0%, not above
    const loud = quiet + 1;
    expect((await render({}, { window: windowWithWhite(quiet) })).warnings).toEqual([]);
    const { image, warnings } = await render({}, { window: windowWithWhite(loud) });
    expect(image.filter((v) => v >= 1).length).toBe(loud);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('99.2% of the pixels to white');
  });
});
