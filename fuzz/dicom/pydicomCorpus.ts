/**
 * pydicom's corpus of real DICOM files (data/test_files), read from the installed package at
 * run time, never copied into this repository. Found at RADLEARN_FUZZ_PYDICOM_DIR, at the
 * Debian package's path, or by asking /usr/bin/python3 where pydicom lives. Files are listed
 * in path order so that a case index means the same input on every run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';

export interface CorpusFile {
  name: string;
  bytes: Uint8Array;
}

const DEBIAN_PATH = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const MAX_FILE_BYTES = 4 << 20;

export function pydicomCorpusDir(): string | undefined {
  const fromEnv = process.env.RADLEARN_FUZZ_PYDICOM_DIR;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  if (existsSync(DEBIAN_PATH)) return DEBIAN_PATH;
  try {
    const dir = execFileSync('/usr/bin/python3', ['-c', 'import pydicom, os; print(os.path.dirname(pydicom.__file__))'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 20_000,
    }).trim();
    const files = join(dir, 'data', 'test_files');
    return existsSync(files) ? files : undefined;
  } catch {
    return undefined;
  }
}

/** Every file in the corpus that holds DICOM (gzipped ones unpacked); [] when pydicom is absent. */
export function loadPydicomCorpus(): CorpusFile[] {
  const dir = pydicomCorpusDir();
  if (!dir) return [];
  const out: CorpusFile[] = [];
  for (const path of listFiles(dir)) {
    let bytes: Uint8Array = new Uint8Array(readFileSync(path));
    if (path.endsWith('.gz')) {
      try {
        bytes = new Uint8Array(gunzipSync(bytes, { maxOutputLength: MAX_FILE_BYTES }));
      } catch {
        continue;
      }
    }
    if (looksLikeDicom(bytes)) out.push({ name: relative(dir, path), bytes });
  }
  return out;
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const stats = statSync(path);
    if (stats.isDirectory()) out.push(...listFiles(path));
    else if (stats.size > 0 && stats.size <= MAX_FILE_BYTES) out.push(path);
  }
  return out;
}

/** A Part 10 prefix, or a bare dataset opening with a group 0002–0028 tag in either byte order. */
function looksLikeDicom(bytes: Uint8Array): boolean {
  if (bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d) return true;
  if (bytes.length < 8) return false;
  const le = bytes[0]! | (bytes[1]! << 8);
  const be = (bytes[0]! << 8) | bytes[1]!;
  return [le, be].some((group) => group >= 0x0002 && group <= 0x0028 && group % 2 === 0);
}
