import type { Command } from 'commander';
import { open, stat } from 'node:fs/promises';
import {
  readAnyImage,
  readDicomHeader,
  readImageInfo,
  sniffFormat,
  transferSyntaxName,
  writePngImage,
  InvalidArgumentError,
  type ImageInfo,
  type WindowOption,
} from '../../index.js';

/** Parses `auto`, `none` or `C,W` (e.g. `-600,1500`). */
export function parseWindowOption(text: string): WindowOption {
  if (text === 'auto' || text === 'none') return text;
  const parts = text.split(',').map((p) => Number(p.trim()));
  if (parts.length !== 2 || !parts.every(Number.isFinite) || !(parts[1]! > 0)) {
    throw new InvalidArgumentError(`--window must be auto, none or CENTER,WIDTH with WIDTH > 0, got '${text}'`);
  }
  return { center: parts[0]!, width: parts[1]! };
}

/** 'png' or 'jpeg' when the file's magic bytes say so; DICOM and anything else go to the DICOM reader. */
async function pngOrJpeg(file: string): Promise<'png' | 'jpeg' | undefined> {
  let head: Uint8Array;
  try {
    const handle = await open(file, 'r');
    try {
      head = new Uint8Array(4);
      const { bytesRead } = await handle.read(head, 0, 4, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch {
    return undefined; // the DICOM reader reports the missing or unreadable file as before
  }
  const format = sniffFormat(head);
  return format === 'png' || format === 'jpeg' ? format : undefined;
}

/** The lines `radlearn dicom info` prints for a PNG or JPEG. */
export function imageInfoLines(file: string, info: ImageInfo): string[] {
  const icc = info.iccProfile;
  const rows: [string, string][] = [
    ['file', `${file} (${info.bytes} bytes)`],
    ['format', `${info.format.toUpperCase()}${info.progressive ? (info.format === 'png' ? ', interlaced' : ', progressive') : ''}`],
    ['size', `${info.width} x ${info.height}`],
    ['bit depth', `${info.bitDepth}`],
    ['channels', `${info.channels} (${info.space}${info.palette ? ', palette' : ''}${info.hasAlpha ? ', alpha dropped when read' : ''})`],
    [
      'icc profile',
      icc
        ? `${icc.colourSpace}${icc.description ? ` '${icc.description}'` : ''}, ${icc.bytes} bytes (${icc.applicable ? 'not applied unless applyIccProfile' : 'rejected by libpng: never applied'})`
        : 'none',
    ],
  ];
  return rows.map(([k, v]) => `${`${k}:`.padEnd(18)}${v}`);
}

/** The lines `radlearn dicom info` prints; exported for tests. PNG and JPEG get their header summary. */
export async function dicomInfoLines(file: string): Promise<string[]> {
  if (await pngOrJpeg(file)) return imageInfoLines(file, await readImageInfo(file));
  const h = await readDicomHeader(file);
  const size = (await stat(file)).size;
  const rows: [string, unknown][] = [
    ['file', `${file} (${size} bytes)`],
    ['transfer syntax', `${h.transferSyntaxUID} (${transferSyntaxName(h.transferSyntaxUID)})${h.hasMetaHeader ? '' : ', no meta header'}`],
    ['size', `${h.columns} x ${h.rows}, ${h.numberOfFrames} frame(s), ${h.samplesPerPixel} sample(s)/pixel`],
    ['photometric', h.photometricInterpretation],
    [
      'bits',
      `allocated ${h.bitsAllocated}, stored ${h.bitsStored}, high bit ${h.highBit}, ${h.pixelRepresentation ? 'signed' : 'unsigned'}`,
    ],
    ['rescale', `slope ${h.rescaleSlope}, intercept ${h.rescaleIntercept}`],
    ['window', h.windowCenter ? h.windowCenter.map((c, i) => `C ${c} W ${h.windowWidth?.[i] ?? '?'}`).join('; ') : 'none in file'],
    ['modality', h.modality],
    ['view position', h.viewPosition],
    ['patient id', h.patientId],
    ['study uid', h.studyInstanceUID],
    ['series uid', h.seriesInstanceUID],
    ['sop instance uid', h.sopInstanceUID],
    ['pixel spacing', h.pixelSpacing ? `${h.pixelSpacing[0]} x ${h.pixelSpacing[1]} mm` : undefined],
  ];
  return rows.filter(([, v]) => v !== undefined).map(([k, v]) => `${`${k}:`.padEnd(18)}${String(v)}`);
}

export function registerDicom(program: Command): void {
  const dicom = program.command('dicom').description('inspect DICOM files and render them to PNG');
  dicom
    .command('info')
    .description('print the metadata and pixel description of a DICOM file (or the header of a PNG/JPEG)')
    .argument('<file>', 'DICOM, PNG or JPEG file')
    .option('--json', 'print JSON instead of text')
    .action(async (file: string, options: { json?: boolean }) => {
      if (options.json) {
        const header = (await pngOrJpeg(file)) ? await readImageInfo(file) : await readDicomHeader(file);
        process.stdout.write(`${JSON.stringify(header, null, 2)}\n`);
      } else process.stdout.write(`${(await dicomInfoLines(file)).join('\n')}\n`);
    });
  dicom
    .command('png')
    .description('write the windowed image (MONOCHROME1 inverted) as a PNG a person can look at')
    .argument('<file>', 'DICOM (or PNG/JPEG) file')
    .argument('<out>', 'output .png path')
    .option('--window <window>', "'auto' (file window or percentiles), 'none' (min-max) or CENTER,WIDTH", 'auto')
    .option('--frame <n>', 'frame index for multi-frame files', '0')
    .option('--depth <bits>', 'PNG bit depth, 8 or 16', '8')
    .action(async (file: string, out: string, options: { window: string; frame: string; depth: string }) => {
      const window = parseWindowOption(options.window);
      const frame = Number(options.frame);
      const depth = Number(options.depth);
      if (depth !== 8 && depth !== 16) throw new InvalidArgumentError(`--depth must be 8 or 16, got ${options.depth}`);
      const image = await readAnyImage(file);
      const pixels = image.toImage(frame, { window, onWarning: (message) => process.stderr.write(`[warning] ${message}\n`) });
      await writePngImage(out, pixels, image.rows, image.columns, image.samplesPerPixel === 3 ? 3 : 1, { bitDepth: depth });
      process.stderr.write(`wrote ${out} (${image.columns}x${image.rows}, frame ${frame}, window ${options.window})\n`);
    });
}
