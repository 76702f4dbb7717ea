/**
 * What to cache: an explicit list of paths, a folder (searched recursively for
 * DICOM/PNG/JPEG), a single image file, or a manifest file: .txt (one path per line), .jsonl (an
 * image path field), .csv (an image path column); the image field or column is found under the
 * names a training manifest uses (`image_path`, `image`, `path`, ...; any case), and a cell may hold
 * several paths. Relative paths in a manifest are resolved against the manifest's folder.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { RadlearnError } from '../../errors.js';
import { parseCsv } from '../manifest/csv.js';

const IMAGE_EXTENSIONS = new Set(['.dcm', '.dicom', '.dic', '.png', '.jpg', '.jpeg', '']);

export async function resolveInputs(input: string | string[]): Promise<string[]> {
  if (Array.isArray(input)) return input.map((p) => resolve(p));
  let info;
  try {
    info = await stat(input);
  } catch {
    throw new RadlearnError('ERR_MISSING_FILE', `cache input not found at ${input}`, { path: input });
  }
  if (info.isDirectory()) return (await walk(resolve(input))).sort();
  const ext = extname(input).toLowerCase();
  const raw = await readFile(input);
  // A single image rather than a manifest: an image extension, or binary content.
  if ((ext !== '' && IMAGE_EXTENSIONS.has(ext)) || raw.subarray(0, 4096).includes(0)) return [resolve(input)];
  const base = dirname(resolve(input));
  const text = raw.toString('utf8');
  const rel = (p: string) => (isAbsolute(p) ? p : join(base, p));
  if (ext === '.jsonl') {
    return text
      .split('\n')
      .filter((l) => l.trim())
      .flatMap((line, i) => {
        let row: Record<string, unknown>;
        try {
          row = JSON.parse(line) as Record<string, unknown>;
        } catch {
          throw new RadlearnError('ERR_MANIFEST', `${input}:${i + 1}: not valid JSON`, { path: input, line: i + 1 });
        }
        const key = imageColumn(Object.keys(row));
        const value = key === undefined ? undefined : row[key];
        const cell =
          Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : typeof value === 'string' ? imagePaths(value) : [];
        if (cell.length === 0) {
          throw new RadlearnError('ERR_MANIFEST', `${input}:${i + 1}: needs an image path field (${IMAGE_COLUMNS.join(', ')})`, {
            path: input,
          });
        }
        return cell.map(rel);
      });
  }
  if (ext === '.csv') {
    // RFC 4180 (a training manifest's report cells span lines)
    const [header = [], ...records] = parseCsv(text, input);
    const name = imageColumn(header);
    const column = name === undefined ? -1 : header.indexOf(name);
    if (column < 0) {
      throw new RadlearnError(
        'ERR_MANIFEST',
        `${input}: CSV header needs an image path column (${IMAGE_COLUMNS.join(', ')}), has ${header.join(', ')}`,
      );
    }
    return records.flatMap((r) => imagePaths(r[column] ?? '').map(rel));
  }
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map(rel);
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(full)));
    else if (entry.isFile() && IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase())) out.push(full);
  }
  return out;
}

/** Image path columns, as a training manifest names them (data/manifest/load.ts). */
const IMAGE_COLUMNS = ['image_path', 'image_paths', 'image', 'images', 'path', 'dicom_path', 'file', 'filename'];

/** The image column among `names`, by the candidates' order (case-insensitive). */
function imageColumn(names: readonly string[]): string | undefined {
  for (const candidate of IMAGE_COLUMNS) {
    const found = names.find((n) => n.trim().toLowerCase() === candidate);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** One cell's paths: several views of a study are separated by ';' or '|', or given as a JSON array. */
function imagePaths(cell: string): string[] {
  const text = cell.trim();
  if (text.startsWith('[')) {
    try {
      const parsed = JSON.parse(text) as unknown;
      if (Array.isArray(parsed)) return parsed.filter((p): p is string => typeof p === 'string' && p.trim() !== '');
    } catch {
      /* a plain path that starts with '[' */
    }
  }
  return text
    .split(/[;|]/)
    .map((p) => p.trim())
    .filter(Boolean);
}
