/**
 * A miniature of the Indiana University chest X-ray collection as distributed on Kaggle:
 * indiana_reports.csv (uid, MeSH, Problems, image, indication, comparison, findings, impression),
 * indiana_projections.csv (uid, filename, projection) and PNGs in images/images_normalized/.
 * Report text is invented in the collection's style (de-identified words written XXXX).
 *
 * uid 1: normal, frontal + lateral. uid 2: Cardiomegaly;Pulmonary Artery, frontal + lateral.
 * uid 3: Opacity;Pulmonary Atelectasis, blank comparison and findings, frontal listed but no file,
 * lateral. uid 4: Cardiomegaly, frontal only. uid 5: normal, no image at all. uid 6: Calcified
 * Granuloma, frontal.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatCsv } from '../../../src/data/manifest/csv.js';
import { writeTinyImage } from './tiny-images.js';

export const IU_REPORT_COLUMNS = ['uid', 'MeSH', 'Problems', 'image', 'indication', 'comparison', 'findings', 'impression'];

const REPORTS: string[][] = [
  [
    '1',
    'normal',
    'normal',
    'Xray Chest PA and Lateral',
    'Positive TB test',
    'None.',
    'The cardiac silhouette and mediastinum size are within normal limits. There is no pulmonary edema. There is no focal consolidation.',
    'Normal chest x-XXXX.',
  ],
  [
    '2',
    'Cardiomegaly/borderline;Pulmonary Artery/enlarged',
    'Cardiomegaly;Pulmonary Artery',
    'Chest, 2 views, frontal and lateral',
    'Preop bariatric surgery.',
    'None.',
    'Borderline cardiomegaly. Midline sternotomy XXXX. Enlarged pulmonary arteries. Clear lungs.',
    'No acute pulmonary findings.',
  ],
  [
    '3',
    'Opacity/lung/base/left/mild;Pulmonary Atelectasis/base/left/mild',
    'Opacity;Pulmonary Atelectasis',
    'Xray Chest PA and Lateral',
    'XXXX-year-old male, shortness of breath.',
    '',
    '',
    'Mild left basilar opacity, likely atelectasis.',
  ],
  [
    '4',
    'Cardiomegaly/mild',
    'Cardiomegaly',
    'PA and lateral chest XXXX',
    'Chest pain.',
    'XXXX, XXXX.',
    'Mild cardiomegaly. No pleural effusion.',
    'Mild cardiomegaly.',
  ],
  ['5', 'normal', 'normal', 'CHEST 2V FRONTAL/LATERAL', 'Routine.', 'None.', 'Lungs are clear.', 'No active disease.'],
  [
    '6',
    'Calcified Granuloma/lung/upper lobe/right',
    'Calcified Granuloma',
    'Xray Chest PA and Lateral',
    'Cough.',
    'None.',
    'Calcified granuloma in the right upper lobe. Otherwise clear.',
    'No acute disease.',
  ],
];

const PROJECTIONS: Array<[string, string, string, boolean]> = [
  ['1', '1_IM-0001-4001.dcm.png', 'Frontal', true],
  ['1', '1_IM-0001-3001.dcm.png', 'Lateral', true],
  ['2', '2_IM-0652-1001.dcm.png', 'Frontal', true],
  ['2', '2_IM-0652-2001.dcm.png', 'Lateral', true],
  ['3', '3_IM-1384-1001.dcm.png', 'Frontal', false],
  ['3', '3_IM-1384-2001.dcm.png', 'Lateral', true],
  ['4', '4_IM-2050-1001.dcm.png', 'Frontal', true],
  ['6', '6_IM-2192-1001.dcm.png', 'Frontal', true],
];

export interface IuFixtureOptions {
  /** Images in images/images_normalized (Kaggle, default) or directly in images/. */
  images?: 'images_normalized' | 'flat';
}

export async function writeIuFixture(dir: string, options: IuFixtureOptions = {}): Promise<string> {
  const root = join(dir, 'iu-xray');
  const images = options.images === 'flat' ? join(root, 'images') : join(root, 'images', 'images_normalized');
  await mkdir(images, { recursive: true });
  let grey = 20;
  for (const [, filename, , written] of PROJECTIONS) {
    grey += 25;
    if (written) await writeTinyImage(join(images, filename), grey, 'png');
  }
  await writeFile(join(root, 'indiana_reports.csv'), formatCsv([IU_REPORT_COLUMNS, ...REPORTS]));
  await writeFile(
    join(root, 'indiana_projections.csv'),
    formatCsv([['uid', 'filename', 'projection'], ...PROJECTIONS.map(([u, f, p]) => [u, f, p])]),
  );
  return root;
}
