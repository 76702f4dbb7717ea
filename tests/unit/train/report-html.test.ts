// report.html of a training run: the tables and figures of report.md, and per label the test
// cases the exported classifier got most confidently wrong, as the pixels the model saw. Chromium
// (Debian's `chromium`) renders it: required in CI, skipped locally without it.
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { loadClassifier, loadManifest, parseCsv, preprocessForClassifier, type TrainResult } from '../../../src/index.js';
import { smallSupervisedRun } from '../../helpers/small-run.js';

let root = '';
let manifest = '';
let run: TrainResult;

beforeAll(async () => {
  ({ root, manifest, run } = await smallSupervisedRun({
    prefix: 'radlearn-report-html-',
    studies: 80,
    phantomSeed: 11,
    seed: 3,
    steps: 8,
    imageSize: 40,
  }));
}, 120_000);

interface Figure {
  caption: string;
  png: Buffer;
}

/** The gallery's thumbnails in page order, per label heading. */
function gallery(html: string): Map<string, { fp: Figure[]; fn: Figure[] }> {
  const out = new Map<string, { fp: Figure[]; fn: Figure[] }>();
  const section = html.slice(html.indexOf('<h2>Most confident errors</h2>'));
  for (const block of section.split('<h3>').slice(1)) {
    const label = block.slice(0, block.indexOf('</h3>'));
    const [fpPart, fnPart] = block.split('<h4>False negatives');
    const figures = (part: string): Figure[] =>
      [...part.matchAll(/<img alt="[^"]*" src="data:image\/png;base64,([^"]+)"><figcaption>([^<]*)<br>/g)].map((m) => ({
        png: Buffer.from(m[1]!, 'base64'),
        caption: m[2]!,
      }));
    out.set(label, { fp: figures(fpPart!), fn: figures(fnPart!) });
  }
  return out;
}

describe('report.html', () => {
  it('shows the most confident false positives and negatives of classifier.onnx per label, as the model saw them', async () => {
    expect(run.reportHtmlPath).toBe(join(dirname(run.reportPath!), 'report.html'));
    const html = readFileSync(run.reportHtmlPath!, 'utf8');
    expect(html).toContain('<h2>Most confident errors</h2>');
    expect(html).toMatch(/<img class="figure" src="data:image\/svg\+xml;base64,/);
    const model = await loadClassifier(run.classifierPath!);
    await model.release();
    const [header, ...rows] = parseCsv(readFileSync(run.predictionsPath!, 'utf8'), 'predictions.csv');
    const col = (name: string): number => header!.indexOf(name);
    const byRow = new Map((await loadManifest(manifest)).rows.map((r) => [r.row, r]));
    const shown = gallery(html);
    expect([...shown.keys()]).toEqual(model.labels);
    let thumbnails = 0;
    for (const label of model.labels) {
      const t = model.thresholds?.perLabel[label] ?? null;
      const cases = rows.map((r) => ({ row: Number(r[0]), p: Number(r[col(`prob.${label}`)]), truth: r[col(`truth.${label}`)] }));
      const fp = cases.filter((c) => c.truth === '0' && (t === null || c.p >= t)).sort((a, b) => b.p - a.p || a.row - b.row);
      const fn = cases.filter((c) => c.truth === '1' && (t === null || c.p < t)).sort((a, b) => a.p - b.p || a.row - b.row);
      const got = shown.get(label)!;
      expect(got.fp.map((f) => Number(/^row (\d+)/.exec(f.caption)![1]))).toEqual(fp.slice(0, 4).map((c) => c.row));
      expect(got.fn.map((f) => Number(/^row (\d+)/.exec(f.caption)![1]))).toEqual(fn.slice(0, 4).map((c) => c.row));
      for (const f of [...got.fp, ...got.fn]) {
        const entry = byRow.get(Number(/^row (\d+)/.exec(f.caption)![1]))!;
        expect(f.caption).toContain(`study ${entry.studyId}`);
        // the thumbnail is the classifier's input with the normalisation undone, rounded to 8 bits
        const input = await preprocessForClassifier(entry.imagePaths[0]!, model.preprocessing);
        const { mean, std } = model.preprocessing;
        const expected = Uint8Array.from(input, (x) => Math.round(Math.min(1, Math.max(0, x * std[0]! + mean[0]!)) * 255));
        expect(await sharp(f.png).metadata()).toMatchObject({ format: 'png', width: 40, height: 40, channels: 1 });
        const { data } = await sharp(f.png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
        expect(new Uint8Array(data)).toEqual(expected);
        thumbnails++;
      }
    }
    expect(thumbnails).toBeGreaterThan(0);
    // report.json names the same cases, without their pixels
    const json = JSON.parse(readFileSync(run.reportJsonPath!, 'utf8'));
    expect(json.errorCases.labels.map((l: { label: string }) => l.label)).toEqual(model.labels);
    expect(JSON.stringify(json.errorCases)).not.toContain('png');
  });

  const chromium = ['chromium', 'chromium-browser', 'google-chrome'].find(
    (c) => spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0,
  );
  const required = process.env.CI === 'true';
  it.skipIf(!chromium && !required)('renders in headless Chromium with every figure and thumbnail decoded', async () => {
    expect(chromium, 'CI needs Debian chromium for the report.html screenshot').toBeDefined();
    const html = readFileSync(run.reportHtmlPath!, 'utf8');
    // a copy that records, once loaded, how many of its images the browser decoded
    const probe = join(root, 'probe.html');
    writeFileSync(
      probe,
      html.replace(
        '</body>',
        '<script>addEventListener("load", () => { document.body.dataset.decoded = [...document.images].filter((i) => i.complete && i.naturalWidth > 0).length; });</script></body>',
      ),
    );
    const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--virtual-time-budget=10000'];
    const dom = execFileSync(chromium!, [...flags, '--dump-dom', `file://${probe}`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const images = html.match(/<img /g)!.length;
    expect(dom).toContain(`data-decoded="${images}"`);
    const shot = join(root, 'report.png');
    execFileSync(chromium!, [...flags, `--screenshot=${shot}`, '--window-size=1200,2400', `file://${run.reportHtmlPath}`], {
      stdio: 'ignore',
    });
    const { data, info } = await sharp(shot).greyscale().raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([1200, 2400]);
    // not a blank page: text, table rules and figures darken a good share of it
    const dark = data.filter((v) => v < 200).length / data.length;
    console.log(`report.html in ${chromium}: ${images} images decoded, ${(dark * 100).toFixed(1)}% of the screenshot's pixels non-white`);
    expect(dark).toBeGreaterThan(0.01);
  });
});
