/**
 * What to cache: an explicit list of paths, a folder (searched recursively for
 * DICOM/PNG/JPEG), a single image file, or a manifest file: .txt (one path per line), .jsonl (field
 * `path` or `image`), .csv (column `path`, `image` or `Path`). Relative paths in a
 * manifest are resolved against the manifest's folder.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { RadlearnError } from '../../errors.js';

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
      .map((line, i) => {
        let row: Record<string, unknown>;
        try {
          row = JSON.parse(line) as Record<string, unknown>;
        } catch {
          throw new RadlearnError('ERR_MANIFEST', `${input}:${i + 1}: not valid JSON`, { path: input, line: i + 1 });
        }
        const p = row.path ?? row.image;
        if (typeof p !== 'string') {
          throw new RadlearnError('ERR_MANIFEST', `${input}:${i + 1}: needs a string field "path" or "image"`, { path: input });
        }
        return rel(p);
      });
  }
  if (ext === '.csv') {
    const lines = text.split(/\r?\n/).filter((l) => l.trim());
    const header = splitCsv(lines[0] ?? '');
    const column = header.findIndex((h) => ['path', 'image', 'Path', 'image_path'].includes(h.trim()));
    if (column < 0) {
      throw new RadlearnError('ERR_MANIFEST', `${input}: CSV header needs a "path" or "image" column, has ${header.join(', ')}`);
    }
    return lines.slice(1).map((l) => rel(splitCsv(l)[column]!.trim()));
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

function splitCsv(line: string): string[] {
  const cells: string[] = [];
  let cell = '',
    quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else cell += ch;
  }
  cells.push(cell);
  return cells;
}
