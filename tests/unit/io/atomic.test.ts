import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTempName, tempNameFor, writeFileAtomic, writeFileAtomicSync, writeJsonAtomic } from '../../../src/io/atomic.js';

const fresh = (): string => mkdtempSync(join(tmpdir(), 'radlearn-atomic-'));

describe('the atomic file writer', () => {
  it('replaces a file whole (async and sync forms) and leaves no temporary file', async () => {
    const dir = fresh();
    const path = join(dir, 'a.json');
    await writeJsonAtomic(path, { x: 1 });
    expect(readFileSync(path, 'utf8')).toBe('{\n  "x": 1\n}\n');
    writeFileAtomicSync(path, Uint8Array.from([1, 2, 3]));
    expect([...readFileSync(path)]).toEqual([1, 2, 3]);
    await writeFileAtomic(path, 'text');
    expect(readFileSync(path, 'utf8')).toBe('text');
    expect(readdirSync(dir)).toEqual(['a.json']);
  });

  it('creates a missing folder unless told not to, and then fails without leaving anything behind', async () => {
    const dir = fresh();
    await writeFileAtomic(join(dir, 'new', 'b.txt'), 'b');
    expect(readFileSync(join(dir, 'new', 'b.txt'), 'utf8')).toBe('b');
    await expect(writeFileAtomic(join(dir, 'missing', 'c.txt'), 'c', { createFolder: false })).rejects.toMatchObject({ code: 'ENOENT' });
    expect(() => writeFileAtomicSync(join(dir, 'missing', 'c.txt'), 'c', { createFolder: false })).toThrow(/ENOENT/);
    expect(existsSync(join(dir, 'missing'))).toBe(false);
  });

  it('names temporary files so a later run can tell whose they are', () => {
    const name = tempNameFor('/x/metrics.jsonl', 4242);
    expect(name).toMatch(/^\.metrics\.jsonl\.4242\.[0-9a-f]{8}\.tmp$/);
    expect(parseTempName(name)).toEqual({ target: 'metrics.jsonl', pid: 4242 });
    expect(parseTempName('notes.tmp')).toBeUndefined();
  });
});
