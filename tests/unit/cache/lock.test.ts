/**
 * The cache folder's build lock: a dead process's lock (on this host) or one never written is
 * taken over; a lock held from another host sharing the folder is waited for, then refused.
 */
import { mkdtempSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withCacheLock } from '../../../src/data/cache/lock.js';

/** A pid that is not running here. */
const DEAD_PID = 2 ** 22 + 12345;

describe('cache build lock', () => {
  it('takes over the lock of a dead process on this host, in the old pid-only form too', async () => {
    for (const owner of [`${hostname()} ${DEAD_PID}`, String(DEAD_PID)]) {
      const dir = mkdtempSync(join(tmpdir(), 'radlearn-lock-'));
      writeFileSync(join(dir, '.lock'), owner);
      await expect(withCacheLock(dir, async () => 'built', 1000)).resolves.toBe('built');
      expect(existsSync(join(dir, '.lock'))).toBe(false);
    }
  });

  it('waits for a lock held from another host, then names it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'radlearn-lock-'));
    writeFileSync(join(dir, '.lock'), `another-node.cluster ${DEAD_PID}`);
    await expect(withCacheLock(dir, async () => 'built', 400)).rejects.toMatchObject({
      code: 'ERR_CACHE_LOCKED',
      message: expect.stringMatching(new RegExp(`process ${DEAD_PID} on another-node.cluster`)),
    });
  });

  it('an empty lock is a writer between creating and naming it: waited for while fresh, taken over when old', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'radlearn-lock-'));
    const lock = join(dir, '.lock');
    writeFileSync(lock, '');
    await expect(withCacheLock(dir, async () => 'built', 400)).rejects.toMatchObject({ code: 'ERR_CACHE_LOCKED' });
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    await expect(withCacheLock(dir, async () => 'built', 1000)).resolves.toBe('built');
  });
});
