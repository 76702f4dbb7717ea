/**
 * The one atomic file writer: the data goes to a temporary file in the target's folder, is
 * flushed to disk (fsync), and is then renamed over the target. Readers see the old file or the
 * new one, never half of one, and after a crash the renamed file holds its whole content.
 * Every layer imports it; it imports nothing from radlearn.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** `.<name>.<pid>.<8 hex>.tmp`: the pid lets a later run tell a crashed writer's leftovers from a live one's. */
const TEMP_NAME = /^\.(.+)\.(\d+)\.[0-9a-f]{8}\.tmp$/;

export interface AtomicWriteOptions {
  /** Create the target's folder when it is missing (default true); false: a missing folder is an error. */
  createFolder?: boolean;
}

export function tempNameFor(path: string, pid = process.pid): string {
  return `.${basename(path)}.${pid}.${randomBytes(4).toString('hex')}.tmp`;
}

/** The target name and writer pid of a temporary file this module would create, else undefined. */
export function parseTempName(name: string): { target: string; pid: number } | undefined {
  const match = TEMP_NAME.exec(name);
  return match ? { target: match[1]!, pid: Number(match[2]) } : undefined;
}

export async function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  if (options.createFolder !== false) await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), tempNameFor(path));
  try {
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (error) {
    // a failed write (disk full, rename refused) must not leave its temporary file behind
    await rm(tmp, { force: true }).catch(() => undefined);
    throw error;
  }
}

/** writeFileAtomic for callers that cannot await (the same temporary name, fsync and rename). */
export function writeFileAtomicSync(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  if (options.createFolder !== false) mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), tempNameFor(path));
  try {
    const fd = openSync(tmp, 'w');
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      for (let written = 0; written < bytes.byteLength;) written += writeSync(fd, bytes, written, bytes.byteLength - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}

/** JSON with two-space indentation and a final newline, written atomically. */
export async function writeJsonAtomic(path: string, value: unknown, options: AtomicWriteOptions = {}): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, options);
}
