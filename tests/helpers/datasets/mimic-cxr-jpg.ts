/**
 * A miniature MIMIC-CXR-JPG in the published layout: files/pNN/pNNNNNNNN/sNNNNNNNN/<dicom_id>.jpg,
 * mimic-cxr-2.0.0-{metadata,chexpert,negbio,split}.csv.gz with the published columns, and a
 * mimic-cxr-reports tree (files/pNN/pNNNNNNNN/sNNNNNNNN.txt) written in the MIMIC report style.
 * Everything is invented. What it holds:
 *
 * | subject  | study    | dicom_id (short) | ViewPosition | notes                                   |
 * |----------|----------|------------------|--------------|-----------------------------------------|
 * | 10000032 | 50414267 | 02aa804e         | PA           | No Finding 1.0; train                   |
 * | 10000032 | 50414267 | 174413ec         | LATERAL      | train                                   |
 * | 10000032 | 53189527 | 2a2277a9         | AP           | -1.0, 1.0, 0.0 and blanks; train        |
 * | 10000764 | 57375967 | 096052b7         | AP           | validate                                |
 * | 10000764 | 57375967 | b79e55c3         | PA           | listed, but no image file; validate     |
 * | 11000011 | 51234567 | c0ffee00         | LL           | test                                    |
 * | 11000011 | 51234567 | deadbeef         | (blank)      | test                                    |
 * | 11000011 | 59999999 | f00dcafe         | AP AXIAL     | no label row, no split row, no report   |
 *
 * plus a label row for study 58888888 of subject 11000011, which has no image.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { formatCsv } from '../../../src/data/manifest/csv.js';
import { writeTinyImage } from './tiny-images.js';

export const MIMIC_METADATA_COLUMNS = [
  'dicom_id',
  'subject_id',
  'study_id',
  'PerformedProcedureStepDescription',
  'ViewPosition',
  'Rows',
  'Columns',
  'StudyDate',
  'StudyTime',
  'ProcedureCodeSequence_CodeMeaning',
  'ViewCodeSequence_CodeMeaning',
  'PatientOrientationCodeSequence_CodeMeaning',
];

// The label table's published column order (alphabetical after the ids).
export const MIMIC_LABEL_COLUMNS = [
  'subject_id',
  'study_id',
  'Atelectasis',
  'Cardiomegaly',
  'Consolidation',
  'Edema',
  'Enlarged Cardiomediastinum',
  'Fracture',
  'Lung Lesion',
  'Lung Opacity',
  'No Finding',
  'Pleural Effusion',
  'Pleural Other',
  'Pneumonia',
  'Pneumothorax',
  'Support Devices',
];

interface Image {
  dicom: string;
  subject: string;
  study: string;
  view: string;
  viewMeaning: string;
  orientation: string;
  split?: 'train' | 'validate' | 'test';
  written: boolean;
}

const IMAGES: Image[] = [
  {
    dicom: '02aa804e-bde0afdd-112c0b34-7bc16630-4e384014',
    subject: '10000032',
    study: '50414267',
    view: 'PA',
    viewMeaning: 'postero-anterior',
    orientation: 'Erect',
    split: 'train',
    written: true,
  },
  {
    dicom: '174413ec-4ec4c1f7-34ea26b7-c5f994f8-79ef1962',
    subject: '10000032',
    study: '50414267',
    view: 'LATERAL',
    viewMeaning: 'lateral',
    orientation: 'Erect',
    split: 'train',
    written: true,
  },
  {
    dicom: '2a2277a9-b0ded155-c0de8eb9-c124d10e-82c5caab',
    subject: '10000032',
    study: '53189527',
    view: 'AP',
    viewMeaning: 'antero-posterior',
    orientation: 'Erect',
    split: 'train',
    written: true,
  },
  {
    dicom: '096052b7-d256dc40-453a102b-fa7d01c6-1b22c6b4',
    subject: '10000764',
    study: '57375967',
    view: 'AP',
    viewMeaning: 'antero-posterior',
    orientation: 'Recumbent',
    split: 'validate',
    written: true,
  },
  {
    dicom: 'b79e55c3-735ce5ac-64412506-cdc9ea79-f1af521f',
    subject: '10000764',
    study: '57375967',
    view: 'PA',
    viewMeaning: 'postero-anterior',
    orientation: 'Erect',
    split: 'validate',
    written: false,
  },
  {
    dicom: 'c0ffee00-11111111-22222222-33333333-44444444',
    subject: '11000011',
    study: '51234567',
    view: 'LL',
    viewMeaning: 'left lateral',
    orientation: 'Erect',
    split: 'test',
    written: true,
  },
  {
    dicom: 'deadbeef-55555555-66666666-77777777-88888888',
    subject: '11000011',
    study: '51234567',
    view: '',
    viewMeaning: '',
    orientation: '',
    split: 'test',
    written: true,
  },
  {
    dicom: 'f00dcafe-99999999-aaaaaaaa-bbbbbbbb-cccccccc',
    subject: '11000011',
    study: '59999999',
    view: 'AP AXIAL',
    viewMeaning: 'antero-posterior',
    orientation: 'Erect',
    written: true,
  },
];

/** Study labels by column name; absent columns are blank, as in the published table. */
const CHEXPERT_LABELS: Array<[string, string, Record<string, string>]> = [
  ['10000032', '50414267', { 'No Finding': '1.0' }],
  ['10000032', '53189527', { Atelectasis: '-1.0', Edema: '1.0', 'Pleural Effusion': '0.0', 'Support Devices': '1.0' }],
  ['10000764', '57375967', { Cardiomegaly: '1.0', Pneumonia: '-1.0', Pneumothorax: '0.0' }],
  ['11000011', '51234567', { 'Lung Opacity': '1.0', Fracture: '-1.0' }],
  ['11000011', '58888888', { 'No Finding': '1.0' }],
];

// NegBio differs from the CheXpert labeler on 53189527 (Atelectasis positive, no Edema call).
const NEGBIO_LABELS: Array<[string, string, Record<string, string>]> = CHEXPERT_LABELS.map(([subject, study, labels]) =>
  study === '53189527'
    ? [subject, study, { Atelectasis: '1.0', 'Pleural Effusion': '0.0', 'Support Devices': '1.0' }]
    : [subject, study, labels],
);

export const MIMIC_REPORTS: Record<string, string> = {
  '50414267': [
    '                                 FINAL REPORT',
    ' EXAMINATION:  CHEST (PA AND LAT)',
    ' ',
    ' INDICATION:  ___F with cough for two weeks  // eval for pneumonia',
    ' ',
    ' TECHNIQUE:  Chest PA and lateral',
    ' ',
    ' COMPARISON:  None.',
    ' ',
    ' FINDINGS: ',
    ' ',
    ' The lungs are clear without focal consolidation.  No pleural effusion or',
    ' pneumothorax.  The cardiomediastinal silhouette is within normal limits.',
    ' ',
    ' IMPRESSION: ',
    ' ',
    ' No acute cardiopulmonary process.',
    '',
  ].join('\n'),
  '53189527': [
    ' WET READ: ___ ___ 9:40 PM',
    '  Tubes in standard position.  Mild edema.',
    ' ______________________________________________________________________________',
    '                                 FINAL REPORT',
    ' PORTABLE CHEST, ___',
    ' ',
    ' COMPARISON:  ___ radiograph.',
    ' ',
    ' FINDINGS:  Endotracheal tube terminates 4 cm above the carina.  Mild pulmonary',
    ' edema.  Possible left basilar atelectasis.  No pleural effusion.',
    ' ',
    ' IMPRESSION:  Mild pulmonary edema.',
    '',
  ].join('\n'),
  '57375967': [
    '                                 FINAL REPORT',
    ' INDICATION:  ___M with fever.',
    ' ',
    ' FINDINGS AND IMPRESSION:  Enlarged cardiac silhouette.  Patchy right lower lobe',
    ' opacity, possibly pneumonia.  No pneumothorax.',
    '',
  ].join('\n'),
  '51234567': [
    '                                 FINAL REPORT',
    ' HISTORY:  Fall.',
    ' ',
    ' FINDINGS:  Left lower lobe opacity.  Possible nondisplaced left rib fracture.',
    ' ',
    ' IMPRESSION:  Left lower lobe opacity.',
    '',
  ].join('\n'),
};

export interface MimicFixtureOptions {
  /** Write the tables as .csv.gz (published form, default) or plain .csv. */
  gzip?: boolean;
  /** Write mimic-cxr-2.0.0-split.csv(.gz) (default true). */
  split?: boolean;
  /** Write mimic-cxr-2.0.0-chexpert / -negbio tables (default true). */
  labels?: boolean;
  /**
   * Where the reports tree goes: inside the root as mimic-cxr-reports/files (default), into the
   * image tree itself ('files'), into a separate folder outside the root ('outside'), or nowhere.
   */
  reports?: 'mimic-cxr-reports' | 'files' | 'outside' | 'none';
}

export interface MimicFixture {
  /** The MIMIC-CXR-JPG folder (files/ and the tables). */
  root: string;
  /** The unzipped reports folder (holding files/), when written. */
  reportsRoot?: string;
}

/** Writes a table as the dataset does: gzip-compressed by default. */
export async function writeMimicTable(root: string, stem: string, rows: string[][], gzip = true): Promise<string> {
  const text = formatCsv(rows);
  const path = join(root, `mimic-cxr-2.0.0-${stem}.csv${gzip ? '.gz' : ''}`);
  await writeFile(path, gzip ? gzipSync(text) : text);
  return path;
}

function labelRows(source: Array<[string, string, Record<string, string>]>): string[][] {
  return [
    MIMIC_LABEL_COLUMNS,
    ...source.map(([subject, study, labels]) => [subject, study, ...MIMIC_LABEL_COLUMNS.slice(2).map((c) => labels[c] ?? '')]),
  ];
}

export async function writeMimicFixture(dir: string, options: MimicFixtureOptions = {}): Promise<MimicFixture> {
  const { gzip = true, split = true, labels = true, reports = 'mimic-cxr-reports' } = options;
  const root = join(dir, 'mimic-cxr-jpg', '2.0.0');
  await mkdir(join(root, 'files'), { recursive: true });
  let grey = 40;
  for (const image of IMAGES) {
    grey += 20;
    if (!image.written) continue;
    const folder = join(root, 'files', `p${image.subject.slice(0, 2)}`, `p${image.subject}`, `s${image.study}`);
    await writeTinyImage(join(folder, `${image.dicom}.jpg`), grey, 'jpeg');
  }
  const metadata = IMAGES.map((image, i) => [
    image.dicom,
    image.subject,
    image.study,
    image.view === 'LATERAL' || image.view === 'PA' ? 'CHEST (PA AND LAT)' : 'CHEST (PORTABLE AP)',
    image.view,
    String(3056 - i),
    String(2544 + i),
    String(21800506 + i),
    `${213014 + i}.531`,
    image.view === 'LATERAL' || image.view === 'PA' ? 'CHEST (PA AND LAT)' : 'CHEST (PORTABLE AP)',
    image.viewMeaning,
    image.orientation,
  ]);
  await writeMimicTable(root, 'metadata', [MIMIC_METADATA_COLUMNS, ...metadata], gzip);
  if (labels) {
    await writeMimicTable(root, 'chexpert', labelRows(CHEXPERT_LABELS), gzip);
    await writeMimicTable(root, 'negbio', labelRows(NEGBIO_LABELS), gzip);
  }
  if (split) {
    const rows = IMAGES.filter((image) => image.split).map((image) => [image.dicom, image.study, image.subject, image.split as string]);
    await writeMimicTable(root, 'split', [['dicom_id', 'study_id', 'subject_id', 'split'], ...rows], gzip);
  }
  const fixture: MimicFixture = { root };
  if (reports !== 'none') {
    const reportsRoot =
      reports === 'mimic-cxr-reports'
        ? join(root, 'mimic-cxr-reports')
        : reports === 'files'
          ? root
          : join(dir, 'elsewhere', 'mimic-cxr-reports');
    for (const [study, text] of Object.entries(MIMIC_REPORTS)) {
      const subject = (IMAGES.find((image) => image.study === study) as Image).subject;
      const folder = join(reportsRoot, 'files', `p${subject.slice(0, 2)}`, `p${subject}`);
      await mkdir(folder, { recursive: true });
      await writeFile(join(folder, `s${study}.txt`), text);
    }
    fixture.reportsRoot = reportsRoot;
  }
  return fixture;
}
