/** Atomic file writes: write a temporary file in the same folder, then rename over the target. */
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Appends whole lines in one write, so a reader never sees half a record from this process. */
export async function appendLines(path: string, records: readonly unknown[]): Promise<void> {
  if (records.length === 0) return;
  await appendFile(path, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
}
