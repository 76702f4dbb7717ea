/**
 * A miniature CheXpert in the published layout: <parent>/CheXpert-v1.0-small/{train,valid}.csv
 * with the published columns, Path written relative to <parent>, and JPEGs at
 * <dataset>/{train,valid}/patientNNNNN/studyN/viewN_{frontal,lateral}.jpg. Everything is invented.
 *
 * train.csv: patient00001 study1 (AP frontal + lateral), patient00001 study2 (AP, with -1.0 and
 * blanks), patient00002 study1 (PA, listed but no image file), patient00003 study1 (frontal, AP/PA
 * blank). valid.csv: patient64541 study1 (PA), patient64542 study1 (AP + lateral), 0.0/1.0 only.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatCsv } from '../../../src/data/manifest/csv.js';
import { writeTinyImage } from './tiny-images.js';

/** The 14 observations in the order CheXpert's tables publish them (written out here, independently of radlearn's list). */
export const PUBLISHED_OBSERVATIONS = [
  'No Finding',
  'Enlarged Cardiomediastinum',
  'Cardiomegaly',
  'Lung Opacity',
  'Lung Lesion',
  'Edema',
  'Consolidation',
  'Pneumonia',
  'Atelectasis',
  'Pneumothorax',
  'Pleural Effusion',
  'Pleural Other',
  'Fracture',
  'Support Devices',
];

export const CHEXPERT_COLUMNS = ['Path', 'Sex', 'Age', 'Frontal/Lateral', 'AP/PA', ...PUBLISHED_OBSERVATIONS];

interface Entry {
  /** Path below the dataset folder. */
  path: string;
  sex: string;
  age: string;
  side: 'Frontal' | 'Lateral';
  apPa: string;
  labels: Record<string, string>;
  written: boolean;
}

const TRAIN: Entry[] = [
  {
    path: 'train/patient00001/study1/view1_frontal.jpg',
    sex: 'Female',
    age: '68',
    side: 'Frontal',
    apPa: 'AP',
    labels: { 'No Finding': '1.0', Pneumothorax: '0.0', 'Support Devices': '1.0' },
    written: true,
  },
  {
    path: 'train/patient00001/study1/view2_lateral.jpg',
    sex: 'Female',
    age: '68',
    side: 'Lateral',
    apPa: '',
    labels: { 'No Finding': '1.0', Pneumothorax: '0.0', 'Support Devices': '1.0' },
    written: true,
  },
  {
    path: 'train/patient00001/study2/view1_frontal.jpg',
    sex: 'Female',
    age: '69',
    side: 'Frontal',
    apPa: 'AP',
    labels: { Cardiomegaly: '-1.0', 'Lung Opacity': '1.0', Edema: '-1.0', 'Pleural Effusion': '1.0', 'Support Devices': '1.0' },
    written: true,
  },
  {
    path: 'train/patient00002/study1/view1_frontal.jpg',
    sex: 'Male',
    age: '45',
    side: 'Frontal',
    apPa: 'PA',
    labels: { 'No Finding': '1.0' },
    written: false,
  },
  {
    path: 'train/patient00003/study1/view1_frontal.jpg',
    sex: 'Unknown',
    age: '80',
    side: 'Frontal',
    apPa: '',
    labels: { Fracture: '1.0', 'Lung Lesion': '-1.0', Pneumonia: '0.0' },
    written: true,
  },
];

const ALL_ZERO = Object.fromEntries(CHEXPERT_COLUMNS.slice(5).map((c) => [c, '0.0']));

const VALID: Entry[] = [
  {
    path: 'valid/patient64541/study1/view1_frontal.jpg',
    sex: 'Male',
    age: '73',
    side: 'Frontal',
    apPa: 'PA',
    labels: { ...ALL_ZERO, Cardiomegaly: '1.0', 'Lung Opacity': '1.0' },
    written: true,
  },
  {
    path: 'valid/patient64542/study1/view1_frontal.jpg',
    sex: 'Female',
    age: '70',
    side: 'Frontal',
    apPa: 'AP',
    labels: { ...ALL_ZERO, 'No Finding': '1.0' },
    written: true,
  },
  {
    path: 'valid/patient64542/study1/view2_lateral.jpg',
    sex: 'Female',
    age: '70',
    side: 'Lateral',
    apPa: '',
    labels: { ...ALL_ZERO, 'No Finding': '1.0' },
    written: true,
  },
];

export interface ChexpertFixtureOptions {
  /** The dataset folder's name (default the published CheXpert-v1.0-small). */
  folder?: string;
  /** Write valid.csv (default true). */
  valid?: boolean;
}

export interface ChexpertFixture {
  /** The folder above the dataset folder, which Path is relative to. */
  parent: string;
  /** The dataset folder (train.csv, valid.csv, train/, valid/). */
  dataset: string;
}

function table(entries: Entry[]): string {
  return formatCsv([
    CHEXPERT_COLUMNS,
    ...entries.map((e) => [
      `CheXpert-v1.0-small/${e.path}`,
      e.sex,
      e.age,
      e.side,
      e.apPa,
      ...CHEXPERT_COLUMNS.slice(5).map((c) => e.labels[c] ?? ''),
    ]),
  ]);
}

export async function writeChexpertFixture(dir: string, options: ChexpertFixtureOptions = {}): Promise<ChexpertFixture> {
  const { folder = 'CheXpert-v1.0-small', valid = true } = options;
  const parent = join(dir, 'chexpert-download');
  const dataset = join(parent, folder);
  await mkdir(dataset, { recursive: true });
  let grey = 30;
  for (const entry of [...TRAIN, ...(valid ? VALID : [])]) {
    grey += 25;
    if (entry.written) await writeTinyImage(join(dataset, ...entry.path.split('/')), grey, 'jpeg');
  }
  await writeFile(join(dataset, 'train.csv'), table(TRAIN));
  if (valid) await writeFile(join(dataset, 'valid.csv'), table(VALID));
  return { parent, dataset };
}
