/**
 * External validation for the study: a copy of the manifest in which the rows of the sites the
 * study trains on keep their split and every other site's rows are test rows only (never seen by
 * pre-training, training or threshold choice). A `meta.study_site` column names each row's role
 * ('in-site' or its own site value) so a run can report each group's AUROCs (eval.groupBy).
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { formatCsv, parseCsv } from '../../data/manifest/csv.js';
import { loadManifest } from '../../data/manifest/load.js';
import { splitByPatient } from '../../data/manifest/split.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { StudyConfigError } from './config.js';

/** The column the derived manifest adds: 'in-site' or the row's external site value. */
export const STUDY_SITE_COLUMN = 'meta.study_site';
export const IN_SITE = 'in-site';

export interface ExternalSplit {
  column: string;
  train: readonly string[];
}

export interface ExternalManifest {
  /** The derived manifest, written next to the source (relative image and report paths stay valid). */
  manifest: string;
  /** Rows per role and split, e.g. { 'in-site': { train: 900, val: 200, test: 200 }, B: { test: 700 } }. */
  counts: Record<string, Record<string, number>>;
}

const SPLIT_NAMES = ['split', 'fold', 'partition'];

export async function writeExternalManifest(
  source: string,
  external: ExternalSplit,
  split: { train: number; val: number; test: number } = { train: 0.7, val: 0.15, test: 0.15 },
  seed = 0,
): Promise<ExternalManifest> {
  if (extname(source).toLowerCase() !== '.csv')
    throw new StudyConfigError(
      `study config key data.external: ${source} is not a .csv manifest; external validation rewrites CSV manifests only (convert it, or set data.external to null)`,
      { key: 'data.external' },
    );
  const table = parseCsv(await readFile(source, 'utf8'), source);
  const header = table[0] ?? [];
  const siteIndex = header.findIndex((h) => h.trim() === external.column);
  if (siteIndex < 0)
    throw new StudyConfigError(
      `study config key data.external.column: ${source} has no column "${external.column}" (columns: ${header.join(', ')})`,
      {
        key: 'data.external.column',
      },
    );
  const body = table.slice(1);
  const values = new Set(body.map((r) => (r[siteIndex] ?? '').trim()));
  const missing = external.train.filter((v) => !values.has(v));
  if (missing.length > 0)
    throw new StudyConfigError(
      `study config key data.external.train: ${source} column ${external.column} has no rows with ${missing.join(', ')} (values: ${[...values].sort().join(', ')})`,
      { key: 'data.external.train' },
    );
  if ([...values].every((v) => external.train.includes(v)))
    throw new StudyConfigError(
      `study config key data.external.train: every row of ${source} is in-site; no other ${external.column} is left to test on`,
      {
        key: 'data.external.train',
      },
    );
  // rows without a split in the source get a patient-level one (the source manifest's own rules)
  const loaded = await loadManifest(source, { duplicates: 'off', hashCache: false });
  if (loaded.rows.length !== body.length)
    throw new StudyConfigError(`${source}: ${body.length} CSV rows but ${loaded.rows.length} manifest rows`, { key: 'data.manifest' });
  const splitManifest = loaded.rows.some((r) => r.split === undefined) ? splitByPatient(loaded, { ...split, seed }) : loaded;
  let splitIndex = header.findIndex((h) => SPLIT_NAMES.includes(h.trim().toLowerCase()));
  const outHeader = [...header];
  if (splitIndex < 0) {
    splitIndex = outHeader.length;
    outHeader.push('split');
  }
  // a manifest derived before (given as the source again) already has the role column: it is rewritten
  let roleIndex = outHeader.indexOf(STUDY_SITE_COLUMN);
  if (roleIndex < 0) {
    roleIndex = outHeader.length;
    outHeader.push(STUDY_SITE_COLUMN);
  }
  const counts: ExternalManifest['counts'] = {};
  const rows = body.map((r, i) => {
    const site = (r[siteIndex] ?? '').trim();
    const inSite = external.train.includes(site);
    const role = inSite ? IN_SITE : site;
    const out = [...r];
    while (out.length < roleIndex) out.push('');
    const rowSplit = inSite ? splitManifest.rows[i]!.split! : 'test';
    out[splitIndex] = rowSplit;
    out[roleIndex] = role;
    const c = (counts[role] ??= {});
    c[rowSplit] = (c[rowSplit] ?? 0) + 1;
    return out;
  });
  const name = basename(source).replace(/\.[^.]+$/, '');
  const manifest = join(dirname(source), `${name}.external-${external.column}-${external.train.join('+')}.csv`);
  await writeFileAtomic(manifest, formatCsv([outHeader, ...rows]), { createFolder: false });
  return { manifest, counts };
}
