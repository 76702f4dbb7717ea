/**
 * PNG and JPEG seeds: Pillow's encoders (fuzz/image/pillow_seeds.py, run at setup), radlearn's
 * own PNG writer and JPEG encoders (restart markers, 12-bit, lossless), and the JPEG streams
 * inside pydicom's JPEG DICOM files. Without Python or Pillow, sharp makes stand-ins.
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { encodePngImage } from '../../src/index.js';
import { encodeJpegDct } from '../../src/data/dicom/jpegDctEncode.js';
import { encodeJpegLossless } from '../../src/data/dicom/jpegLosslessEncode.js';
import { codecOfSyntax } from '../dicom/codestreamMutations.js';
import { walkDicom } from '../dicom/dicomLayout.js';
import { loadPydicomCorpus, type CorpusFile } from '../dicom/pydicomCorpus.js';

const here = dirname(fileURLToPath(import.meta.url));

export async function loadImageSeeds(): Promise<CorpusFile[]> {
  const pillow = pillowSeeds();
  if (pillow.length === 0)
    process.stderr.write('fuzz image: Pillow seeds unavailable (install python3-pil); using sharp-made seeds instead\n');
  return [...(pillow.length ? pillow : await sharpSeeds()), ...radlearnSeeds(), ...pydicomJpegStreams()];
}

function pillowSeeds(): CorpusFile[] {
  try {
    const json = execFileSync('/usr/bin/python3', [join(here, 'pillow_seeds.py')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 60_000,
      maxBuffer: 16 << 20,
    });
    return Object.entries(JSON.parse(json) as Record<string, string>).map(([name, base64]) => ({
      name,
      bytes: new Uint8Array(Buffer.from(base64, 'base64')),
    }));
  } catch {
    return [];
  }
}

function ramp(rows: number, columns: number, channels: number): Float32Array {
  const out = new Float32Array(rows * columns * channels);
  for (let i = 0; i < out.length; i++) {
    const p = Math.floor(i / channels);
    out[i] = 0.5 + 0.45 * Math.sin(Math.floor(p / columns) / 3 + (i % channels)) * Math.cos((p % columns) / 5);
  }
  return out;
}

function radlearnSeeds(): CorpusFile[] {
  const grey8 = Uint8Array.from(ramp(20, 28, 1), (v) => Math.round(v * 255));
  const grey12 = Uint16Array.from(ramp(20, 28, 1), (v) => Math.round(v * 4095));
  return [
    { name: 'radlearn grey 8-bit.png', bytes: encodePngImage(ramp(19, 26, 1), 19, 26, 1, { bitDepth: 8 }) },
    { name: 'radlearn grey 16-bit.png', bytes: encodePngImage(ramp(19, 26, 1), 19, 26, 1, { bitDepth: 16 }) },
    { name: 'radlearn RGB 8-bit.png', bytes: encodePngImage(ramp(9, 14, 3), 9, 14, 3, { bitDepth: 8 }) },
    { name: 'radlearn RGB 16-bit.png', bytes: encodePngImage(ramp(9, 14, 3), 9, 14, 3, { bitDepth: 16 }) },
    {
      name: 'radlearn restart every MCU.jpg',
      bytes: encodeJpegDct(grey8, { rows: 20, columns: 28, precision: 8, quantStep: 4, restartInterval: 1 }),
    },
    {
      name: 'radlearn restart every 3 MCUs.jpg',
      bytes: encodeJpegDct(grey8, { rows: 20, columns: 28, precision: 8, quantStep: 2, restartInterval: 3 }),
    },
    { name: 'radlearn 12-bit DCT.jpg', bytes: encodeJpegDct(grey12, { rows: 20, columns: 28, precision: 12, quantStep: 2 }) },
    { name: 'radlearn lossless.jpg', bytes: encodeJpegLossless(grey8, { rows: 20, columns: 28, components: 1, precision: 8 }) },
  ];
}

/** Frame 0 of every JPEG-family DICOM in pydicom's corpus, as a bare JPEG stream. */
function pydicomJpegStreams(): CorpusFile[] {
  const out: CorpusFile[] = [];
  for (const file of loadPydicomCorpus()) {
    const layout = walkDicom(file.bytes);
    const frame = layout.fragments[1];
    if (codecOfSyntax(layout.transferSyntaxUID) !== 'jpeg' || frame?.end === undefined) continue;
    const bytes = file.bytes.slice(frame.valueOffset, frame.end);
    if (bytes[0] === 0xff && bytes[1] === 0xd8) out.push({ name: `${file.name} frame 0.jpg`, bytes });
  }
  return out;
}

/** Stand-ins for Pillow's seeds when Python is missing: the same modes where sharp can write them. */
async function sharpSeeds(): Promise<CorpusFile[]> {
  const grey = Buffer.from(Uint8Array.from(ramp(17, 23, 1), (v) => Math.round(v * 255)));
  const rgb = Buffer.from(Uint8Array.from(ramp(24, 32, 3), (v) => Math.round(v * 255)));
  // sharp writes 3 channels unless told the image is greyscale.
  const raw = (b: Buffer, channels: 1 | 3, width: number, height: number) =>
    sharp(b, { raw: { width, height, channels } }).toColourspace(channels === 1 ? 'b-w' : 'srgb');
  return [
    { name: 'sharp grey.png', bytes: await raw(grey, 1, 23, 17).png().toBuffer() },
    { name: 'sharp interlaced grey.png', bytes: await raw(grey, 1, 23, 17).png({ progressive: true }).toBuffer() },
    { name: 'sharp palette.png', bytes: await raw(rgb, 3, 32, 24).png({ palette: true, colours: 16 }).toBuffer() },
    { name: 'sharp RGB.png', bytes: await raw(rgb, 3, 32, 24).png().toBuffer() },
    { name: 'sharp baseline.jpg', bytes: await raw(rgb, 3, 32, 24).jpeg({ quality: 85 }).toBuffer() },
    { name: 'sharp progressive.jpg', bytes: await raw(rgb, 3, 32, 24).jpeg({ quality: 85, progressive: true }).toBuffer() },
    { name: 'sharp greyscale.jpg', bytes: await raw(grey, 1, 23, 17).jpeg({ quality: 90 }).toBuffer() },
  ].map(({ name, bytes }) => ({ name, bytes: new Uint8Array(bytes) }));
}
