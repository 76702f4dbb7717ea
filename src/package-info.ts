import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface PackageManifest {
  name?: string;
  version?: string;
}

let root: { dir: string; manifest: PackageManifest } | undefined;

function findRoot(): { dir: string; manifest: PackageManifest } {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const path = join(dir, 'package.json');
    if (existsSync(path)) {
      const manifest = JSON.parse(readFileSync(path, 'utf8')) as PackageManifest;
      if (manifest.name === 'radlearn') return (root = { dir, manifest });
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`radlearn: no package.json named radlearn above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** The package root (works from src/ under vitest and tsx, and from dist/src/ when compiled). */
export function packageRoot(): string {
  return findRoot().dir;
}

/** radlearn's version, from its package.json. */
export function radlearnVersion(): string {
  return findRoot().manifest.version ?? '0.0.0';
}
