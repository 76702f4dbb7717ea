import { expect, it } from 'vitest';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDicom } from '../../../src/index.js';
import { resolveInputs } from '../../../src/data/cache/manifest.js';

it('resolves folders, manifests (.txt, .jsonl, .csv) and single files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'radlearn-manifest-'));
  await mkdir(join(dir, 'sub'));
  const dicom = writeDicom({ rows: 4, columns: 5, bitsAllocated: 8, pixels: Uint8Array.from({ length: 20 }, (_, i) => i * 3 + 1) });
  await writeFile(join(dir, 'sub', 'b.dcm'), dicom);
  await writeFile(join(dir, 'a.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  await writeFile(join(dir, 'IM0001'), dicom);
  await writeFile(join(dir, 'notes.md'), '# not an image');
  await writeFile(join(dir, 'list.txt'), '# comment\nsub/b.dcm\n\n/abs/x.dcm\n');
  await writeFile(join(dir, 'list.jsonl'), '{"image":"a.png","report":"x"}\n{"path":"sub/b.dcm"}\n');
  await writeFile(join(dir, 'list.csv'), 'id,path,text\n1,a.png,"a, b"\n2,"sub/b.dcm",c\n');
  const walked = await resolveInputs(dir);
  expect(walked).toEqual([join(dir, 'IM0001'), join(dir, 'a.png'), join(dir, 'sub', 'b.dcm')]);
  expect(await resolveInputs(join(dir, 'list.txt'))).toEqual([join(dir, 'sub', 'b.dcm'), '/abs/x.dcm']);
  expect(await resolveInputs(join(dir, 'list.jsonl'))).toEqual([join(dir, 'a.png'), join(dir, 'sub', 'b.dcm')]);
  expect(await resolveInputs(join(dir, 'list.csv'))).toEqual([join(dir, 'a.png'), join(dir, 'sub', 'b.dcm')]);
  expect(await resolveInputs(join(dir, 'IM0001'))).toEqual([join(dir, 'IM0001')]);
  expect(await resolveInputs(join(dir, 'sub', 'b.dcm'))).toEqual([join(dir, 'sub', 'b.dcm')]);
  await expect(resolveInputs(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ERR_MISSING_FILE' });
});
