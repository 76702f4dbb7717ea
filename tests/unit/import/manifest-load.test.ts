import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../../src/data/manifest/csv.js';
import { loadManifest } from '../../../src/data/manifest/load.js';

async function manifestFile(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'radlearn-manifest-import-'));
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('loadManifest on tables as datasets publish them', () => {
  it('drops header cells left empty by a trailing comma when their column is empty in every row', async () => {
    const path = await manifestFile('m.csv', 'image,patient_id,Edema,\na.png,p1,1,\nb.png,p2,0,\n');
    const m = await loadManifest(path);
    expect(m.columns).toEqual(['image', 'patient_id', 'Edema']);
    expect(m.labelColumns.map((l) => l.name)).toEqual(['Edema']);
    expect(Object.keys(m.rows[0]?.fields ?? {})).toEqual(['image', 'patient_id', 'Edema']);
    // an empty name in the middle, empty below, goes too
    const middle = await loadManifest(await manifestFile('m.csv', 'image,,patient_id\na.png,,p1\n'));
    expect(middle.columns).toEqual(['image', 'patient_id']);
  });

  it('names the row of a value under an empty header', async () => {
    const path = await manifestFile('m.csv', 'image,patient_id,\na.png,p1,\nb.png,p2,stray\n');
    await expect(loadManifest(path)).rejects.toMatchObject({
      code: 'ERR_MANIFEST',
      message: expect.stringMatching(/m\.csv row 2: column 3 has the value "stray" but no name in the header/),
      details: expect.objectContaining({ row: 2, column: 3 }),
    });
  });

  it('still refuses a repeated column name', async () => {
    const path = await manifestFile('m.csv', 'image,patient_id,Edema,Edema\na.png,p1,1,0\n');
    await expect(loadManifest(path)).rejects.toMatchObject({
      code: 'ERR_MANIFEST',
      message: expect.stringMatching(/column "Edema" appears twice/),
    });
  });

  it('never takes meta.* or group columns for labels, even when they are numbers', async () => {
    const text = [
      'image_path,patient_id,group,covid,meta.age,meta.temperature,meta.survival',
      'a.png,p1,1,1,65,38.6,Y',
      'b.png,p2,2,0,52,37.1,N',
    ].join('\n');
    const m = await loadManifest(await manifestFile('m.csv', text));
    expect(m.labelColumns).toEqual([{ name: 'covid', kind: 'binary', values: [0, 1] }]);
    expect(m.rows[0]?.fields['meta.temperature']).toBe('38.6');
    expect(m.rows[1]?.fields.group).toBe('2');
    // named explicitly, a meta column may still be a label
    const named = await loadManifest(await manifestFile('m.csv', text), {
      labelColumns: ['meta.age'],
      labelKinds: { 'meta.age': 'ordinal' },
    });
    expect(named.labelColumns.map((l) => l.name)).toEqual(['meta.age']);
  });

  it("reads an empty column as a label with no values only in an importer's layout", async () => {
    const imported = await loadManifest(
      await manifestFile('m.csv', 'image_path,patient_id,covid,Edema,meta.note\na.png,p1,1,,x\nb.png,p2,0,,y\n'),
    );
    expect(imported.labelColumns).toEqual([
      { name: 'covid', kind: 'binary', values: [0, 1] },
      { name: 'Edema', kind: 'binary', values: [] },
    ]);
    const plain = await loadManifest(await manifestFile('m.csv', 'image_path,patient_id,covid,notes\na.png,p1,1,\nb.png,p2,0,\n'));
    expect(plain.labelColumns.map((l) => l.name)).toEqual(['covid']);
  });

  it('parses a TSV through the delimiter parameter', () => {
    expect(parseCsv('a\tb\n"x\ty"\t2\n', 't.tsv', '\t')).toEqual([
      ['a', 'b'],
      ['x\ty', '2'],
    ]);
    expect(() => parseCsv('a', 't', '"')).toThrow(expect.objectContaining({ code: 'ERR_CSV' }));
  });
});
