/** Atomic file writes: write a temporary file in the same folder, then rename over the target. */
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';

/** `.<name>.<pid>.<8 hex>.tmp`: the pid lets a later run tell a crashed writer's leftovers from a live one's. */
const TEMP_NAME = /^\.(.+)\.(\d+)\.[0-9a-f]{8}\.tmp$/;

export function tempNameFor(path: string, pid = process.pid): string {
  return `.${basename(path)}.${pid}.${randomBytes(4).toString('hex')}.tmp`;
}

/** The target name and writer pid of a temporary file this module would create, else undefined. */
export function parseTempName(name: string): { target: string; pid: number } | undefined {
  const match = TEMP_NAME.exec(name);
  return match ? { target: match[1]!, pid: Number(match[2]) } : undefined;
}

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
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

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Appends whole lines in one write, so a reader never sees half a record from this process. */
export async function appendLines(path: string, records: readonly unknown[]): Promise<void> {
  if (records.length === 0) return;
  await appendFile(path, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
}
