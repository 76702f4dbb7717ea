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

it('reads a training manifest: quoted multi-line report cells, its image column names, several paths per cell', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'radlearn-manifest-'));
  await writeFile(
    join(dir, 'manifest.csv'),
    'image_path,report,patient_id\r\n' +
      'images/a.dcm,"FINDINGS: clear.\n\nIMPRESSION: ""normal"", no effusion.",P1\r\n' +
      'images/b.dcm;images/b-lat.dcm,"one line",P2\r\n',
  );
  expect(await resolveInputs(join(dir, 'manifest.csv'))).toEqual([
    join(dir, 'images', 'a.dcm'),
    join(dir, 'images', 'b.dcm'),
    join(dir, 'images', 'b-lat.dcm'),
  ]);
  await writeFile(join(dir, 'manifest.jsonl'), '{"Image_Path":["x.png","y.png"],"report":"r"}\n{"image":"z.png"}\n');
  expect(await resolveInputs(join(dir, 'manifest.jsonl'))).toEqual([join(dir, 'x.png'), join(dir, 'y.png'), join(dir, 'z.png')]);
  await writeFile(join(dir, 'bad.csv'), 'report,patient\n"x",1\n');
  await expect(resolveInputs(join(dir, 'bad.csv'))).rejects.toMatchObject({
    code: 'ERR_MANIFEST',
    message: expect.stringContaining('image_path'),
  });
});
