/**
 * A generated miniature of a public collection's metadata table, in the layout of the COVID-19
 * image data collection's metadata.csv: the same columns in the same order, a trailing comma in
 * the header (and so an empty last field in every row), Y/N/blank clinical columns, numeric
 * columns with decimals, quoted dates and multi-line clinical notes, images under `images/`
 * named by `folder` + `filename`. Every value is invented; the images are tiny generated files.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { formatCsv } from '../../../src/data/manifest/csv.js';

export const COVID_COLUMNS = [
  'patientid',
  'offset',
  'sex',
  'age',
  'finding',
  'RT_PCR_positive',
  'survival',
  'intubated',
  'went_icu',
  'needed_supplemental_O2',
  'extubated',
  'temperature',
  'pO2_saturation',
  'leukocyte_count',
  'neutrophil_count',
  'lymphocyte_count',
  'view',
  'modality',
  'date',
  'location',
  'folder',
  'filename',
  'doi',
  'url',
  'license',
  'clinical_notes',
  'other_notes',
] as const;

export type CovidRecord = Record<(typeof COVID_COLUMNS)[number], string>;

/** What the fixture knows about each row, for expectations computed apart from the importer. */
export interface CovidRow {
  record: CovidRecord;
  /** Whether the image file is written (false: the row points at a file that does not exist). */
  imageWritten: boolean;
}

const base = (over: Partial<CovidRecord>): CovidRecord => {
  const r = Object.fromEntries(COVID_COLUMNS.map((c) => [c, ''])) as CovidRecord;
  r.folder = 'images';
  r.modality = 'X-ray';
  r.license = 'CC BY-NC-SA 4.0';
  return { ...r, ...over };
};

/** The rows, in file order. Row numbers in messages are 1-based positions in this list. */
export function covidRows(): CovidRow[] {
  const rows: Array<[Partial<CovidRecord>, boolean]> = [
    [
      {
        patientid: '2',
        offset: '0',
        sex: 'M',
        age: '65',
        finding: 'Pneumonia/Viral/COVID-19',
        RT_PCR_positive: 'Y',
        survival: 'Y',
        intubated: 'N',
        went_icu: 'N',
        temperature: '38.6',
        pO2_saturation: '92.5',
        view: 'PA',
        date: 'January 22, 2020',
        location: 'Cho Ray Hospital, Ho Chi Minh City, Vietnam',
        filename: 'auntminnie-a-2020_01_28_23_51_6665_2020_01_28_Vietnam_coronavirus.jpeg',
        doi: '10.1056/nejmc2001272',
        url: 'https://www.nejm.org/doi/full/10.1056/NEJMc2001272',
        clinical_notes: 'Bilateral patchy consolidation in the lower lobes.\nNo pleural effusion. No pneumothorax.',
        other_notes: 'Day 0 of admission',
      },
      true,
    ],
    [
      {
        patientid: '2',
        offset: '3',
        sex: 'M',
        age: '65',
        finding: 'Pneumonia/Viral/COVID-19',
        RT_PCR_positive: 'Y',
        survival: 'Y',
        intubated: 'Y',
        went_icu: 'Y',
        needed_supplemental_O2: 'Y',
        extubated: 'N',
        temperature: '39.1',
        view: 'AP Supine',
        date: 'January 25, 2020',
        filename: 'auntminnie-b-2020_01_28_23_51_6665_2020_01_28_Vietnam_coronavirus.jpeg',
        clinical_notes: 'Worsening bilateral opacities. Endotracheal tube in place. Possible small left effusion.',
      },
      true,
    ],
    [
      {
        patientid: '4',
        offset: '',
        sex: 'F',
        age: '52',
        finding: 'Pneumonia/Bacterial/Streptococcus',
        RT_PCR_positive: '',
        survival: 'N',
        leukocyte_count: '14.2',
        neutrophil_count: '11.9',
        lymphocyte_count: '0.8',
        view: 'PA',
        filename: 'streptococcus-pneumoniae-pneumonia-1.jpg',
        clinical_notes: 'Right lower lobe consolidation, "lobar pattern". Heart size normal.',
      },
      true,
    ],
    [
      {
        patientid: '4',
        offset: '',
        sex: 'F',
        age: '52',
        finding: 'Pneumonia/Bacterial/Streptococcus',
        survival: 'N',
        view: 'L',
        filename: 'streptococcus-pneumoniae-pneumonia-1-lateral.jpg',
        clinical_notes: 'Lateral view.',
      },
      true,
    ],
    [
      {
        patientid: '7',
        offset: '5',
        sex: 'M',
        age: '71',
        finding: 'Pneumonia/Viral/COVID-19',
        RT_PCR_positive: 'Y',
        survival: 'N',
        went_icu: 'Y',
        view: 'AP',
        filename: 'covid-19-pneumonia-7-ap.png',
        clinical_notes: 'Diffuse ground-glass opacities. Cardiomegaly. Pulmonary edema cannot be excluded.',
      },
      true,
    ],
    [
      {
        patientid: '7',
        offset: '6',
        sex: 'M',
        age: '71',
        finding: 'Pneumonia/Viral/COVID-19',
        RT_PCR_positive: 'Y',
        view: 'Axial',
        modality: 'CT',
        filename: 'covid-19-pneumonia-7-ct.png',
        clinical_notes: 'CT: ground glass.',
      },
      true,
    ],
    [
      {
        patientid: '9',
        offset: '0',
        sex: 'F',
        age: '38',
        finding: 'No Finding',
        RT_PCR_positive: 'N',
        survival: 'Y',
        temperature: '36.8',
        view: 'PA',
        filename: 'normal-9.png',
        clinical_notes: 'The lungs are clear. No effusion or pneumothorax.',
      },
      true,
    ],
    [
      {
        patientid: '11',
        offset: '2',
        sex: 'M',
        age: '44',
        finding: 'Pneumonia/Fungal/Pneumocystis',
        RT_PCR_positive: 'N',
        survival: 'Y',
        view: 'AP semi erect',
        filename: 'pneumocystis-11.jpg',
        clinical_notes: 'Bilateral interstitial opacities. Left rib fracture.',
      },
      true,
    ],
    // no image: the filename cell is blank
    [{ patientid: '12', sex: 'F', age: '60', finding: 'Pneumonia/Viral/COVID-19', RT_PCR_positive: 'Y', view: 'PA', filename: '' }, false],
    // an image the collection lists but the folder lacks
    [
      {
        patientid: '13',
        sex: 'M',
        age: '58',
        finding: 'Pneumonia/Viral/COVID-19',
        RT_PCR_positive: 'Y',
        survival: 'Y',
        view: 'PA',
        filename: 'missing-13.jpg',
        clinical_notes: 'Patchy opacity.',
      },
      false,
    ],
    [
      {
        patientid: '14',
        offset: '1',
        sex: 'F',
        age: '33',
        finding: 'No Finding',
        RT_PCR_positive: 'N',
        survival: 'Y',
        view: 'PA',
        filename: 'normal-14.jpeg',
        clinical_notes: 'Normal chest radiograph. No consolidation.',
      },
      true,
    ],
    [
      {
        patientid: '15',
        offset: '4',
        sex: 'M',
        age: '80',
        finding: 'Pneumonia/Viral/COVID-19',
        RT_PCR_positive: '',
        survival: '',
        view: 'AP',
        filename: 'covid-15.jpg',
        clinical_notes: 'Right pneumothorax. Chest tube in place.',
      },
      true,
    ],
  ];
  return rows.map(([over, imageWritten]) => ({ record: base(over), imageWritten }));
}

async function writeImage(path: string, seed: number): Promise<void> {
  const size = 8;
  const pixels = Buffer.alloc(size * size);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 37 + seed * 11) % 256;
  const image = sharp(pixels, { raw: { width: size, height: size, channels: 1 } });
  await (/\.png$/i.test(path) ? image.png() : image.jpeg()).toFile(path);
}

/** Writes metadata.csv (header with a trailing comma) and the images into `dir`. */
export async function writeCovidCollection(dir: string, rows: CovidRow[] = covidRows()): Promise<string> {
  await mkdir(join(dir, 'images'), { recursive: true });
  let seed = 0;
  for (const row of rows) {
    if (row.imageWritten) await writeImage(join(dir, row.record.folder, row.record.filename), seed++);
  }
  const table = formatCsv([[...COVID_COLUMNS, ''], ...rows.map((r) => [...COVID_COLUMNS.map((c) => r.record[c]), ''])]);
  const path = join(dir, 'metadata.csv');
  await writeFile(path, table);
  return path;
}
