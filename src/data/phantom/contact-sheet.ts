/**
 * A contact sheet of typical phantom cases: one row per cardiomegaly grade (0-4), one column per
 * site and projection, each tile the first study of the dataset (same seed) that fits its cell,
 * as the decoded image would display (MONOCHROME2 sense), captioned with its findings.
 */
import sharp, { type OverlayOptions } from 'sharp';
import { InvalidArgumentError } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { renderPhantom } from './render.js';
import { PHANTOM_SITES, sampleStudies, type PhantomStudy } from './truth.js';

export interface ContactSheetOptions {
  /** PNG file to write. */
  path: string;
  seed?: number;
  /** Tile side in pixels (default 192). */
  tile?: number;
}

export interface ContactSheet {
  path: string;
  /** Row-major cells (grade, then site/projection column): the study shown, or null when none of the first studies fits. */
  cells: Array<{ grade: number; site: string; view: string; studyId: string | null }>;
}

const CAPTION = 34;
const GRADES = [0, 1, 2, 3, 4] as const;
const COLUMNS = PHANTOM_SITES.flatMap((site) => (['PA', 'AP'] as const).map((view) => ({ site: site.id, view })));
/** Studies searched for each cell's first fit: rare cells (site B PA at grade 4) still fill. */
const SEARCH = 6000;

function findingsCaption(study: PhantomStudy): string {
  const f = study.findings;
  const parts = [
    f.effusion && `${f.effusion.size} ${f.effusion.side} effusion`,
    f.pneumothorax && `${f.pneumothorax.size} ${f.pneumothorax.side} PTX`,
    f.lesion && `${f.lesion.diameterCm} cm ${f.lesion.kind}`,
    f.consolidation && `${f.consolidation.side} ${f.consolidation.zone} consolidation`,
    f.devices.length > 0 && f.devices.map((d) => d.replace('_', ' ')).join(', '),
  ].filter((p): p is string => typeof p === 'string');
  return parts.length > 0 ? parts.join('; ') : 'no other finding';
}

const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function captionSvg(width: number, lines: string[]): Buffer {
  const text = lines
    .map(
      (line, i) =>
        `<text x="4" y="${13 + i * 14}" font-family="DejaVu Sans, sans-serif" font-size="11" fill="#111">${escapeXml(line)}</text>`,
    )
    .join('');
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${CAPTION}">${text}</svg>`);
}

export async function writePhantomContactSheet(options: ContactSheetOptions): Promise<ContactSheet> {
  const seed = options.seed ?? 1;
  const tile = options.tile ?? 192;
  if (!Number.isInteger(tile) || tile < 32 || tile > 1024)
    throw new InvalidArgumentError(`phantom contact sheet: tile must be an integer in [32, 1024], got ${tile}`);
  const studies = sampleStudies(seed, SEARCH);
  const cells: ContactSheet['cells'] = [];
  const composites: OverlayOptions[] = [];
  for (const [r, grade] of GRADES.entries()) {
    for (const [c, column] of COLUMNS.entries()) {
      const study = studies.find(
        (s) => s.findings.cardiomegalyGrade === grade && s.patient.site === column.site && s.acquisition.view === column.view,
      );
      cells.push({ grade, site: column.site, view: column.view, studyId: study?.studyId ?? null });
      const left = c * tile;
      const top = r * (tile + CAPTION);
      const head = `site ${column.site} · ${column.view} · grade ${grade}`;
      if (!study) {
        composites.push({ input: captionSvg(tile, [head, 'no such study in the first 6000']), left, top: top + tile });
        continue;
      }
      const { pixels } = renderPhantom(study, tile, seed);
      const grey = Uint8Array.from(pixels, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
      composites.push({ input: Buffer.from(grey.buffer), raw: { width: tile, height: tile, channels: 1 }, left, top });
      composites.push({
        input: captionSvg(tile, [`${head} · ${study.studyId}`, findingsCaption(study).slice(0, Math.floor(tile / 6))]),
        left,
        top: top + tile,
      });
    }
  }
  const png = await sharp({
    create: { width: COLUMNS.length * tile, height: GRADES.length * (tile + CAPTION), channels: 3, background: '#ffffff' },
  })
    .composite(composites)
    .toColourspace('b-w')
    .png({ compressionLevel: 9 })
    .toBuffer();
  await writeFileAtomic(options.path, png);
  return { path: options.path, cells };
}
