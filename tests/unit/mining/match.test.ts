/**
 * Image–sentence matching on the phantom, where each image's findings are known: a small
 * contrastive run (frozen built-in encoders, MLP heads, one sampled sentence per image per step)
 * ranks the sentences of held-out reports, and the top sentence describes a finding the image has
 * more often than a random ranking's, with a bootstrap CI on the paired difference above zero.
 * A sentence "describes a present finding" when the labeler finds one of the phantom's observations
 * (pneumonia read as consolidation) stated or hedged in it and the image truth has that finding.
 */
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerMatch } from '../../../src/cli/commands/match.js';
import { labelSentence } from '../../../src/data/labeler/label.js';
import { generatePhantom } from '../../../src/data/phantom/generate.js';
import { PHANTOM_OBSERVATIONS } from '../../../src/data/phantom/report.js';
import { candidateSentences } from '../../../src/data/sampling/sentences.js';
import { loadManifest, train, type ManifestRow } from '../../../src/index.js';
import { loadContrastiveRun, type ContrastiveRun } from '../../../src/mining/contrastive-run.js';
import { cosineScores, matchSentences } from '../../../src/mining/match-sentences.js';
import { recallAtOne, type RankedReport } from '../../../src/mining/sentence-recall.js';
import type { TrainConfigInput } from '../../../src/train/config.js';
import { captureCli } from '../../helpers/cli.js';

let root = '';
let runDir = '';
let run: ContrastiveRun;
let heldOut: ManifestRow[];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'radlearn-match-'));
  const { manifestPath } = await generatePhantom({ out: join(root, 'phantom'), n: 1000, size: 128, seed: 4 });
  const config: TrainConfigInput = {
    name: 'match',
    mode: 'contrastive',
    runsDir: join(root, 'runs'),
    seed: 6,
    steps: 1200,
    batchSize: 32,
    checkpoint: { every: 1200, keep: 1 },
    data: { manifest: manifestPath, sentences: { min: 1, max: 1 } },
    image: { size: 128 },
    text: { vocabSize: 400, maxLength: 32 },
    head: { kind: 'mlp', hidden: 64, projectionDim: 32 },
    loss: { groups: 'labels' },
    optim: { lr: 5e-3, warmupSteps: 10 },
    export: false,
  };
  await train(config, { skipEvaluation: true }).result;
  runDir = join(root, 'runs', 'match');
  run = await loadContrastiveRun(runDir);
  heldOut = (await loadManifest(manifestPath, { duplicates: 'off' })).rows.filter((r) => r.split !== 'train');
});

afterAll(async () => {
  await run?.dispose();
});

const AS_PHANTOM: Record<string, string> = { Pneumonia: 'Consolidation', 'Lung Opacity': 'Consolidation' };

function describesPresentFinding(sentence: string, row: ManifestRow): boolean {
  const present = new Set<string>(PHANTOM_OBSERVATIONS.filter((o) => row.labels[o] === 1));
  return Object.entries(labelSentence(sentence)).some(([o, v]) => (v === 1 || v === -1) && present.has(AS_PHANTOM[o] ?? o));
}

describe('matchSentences', () => {
  it('ranks every candidate sentence of a report by its cosine to the image in the run’s space', async () => {
    const row = heldOut.find((r) => candidateSentences(r.reportText!).length >= 4)!;
    const result = await matchSentences(run, row.imagePaths[0]!, row.reportText!);
    const sentences = candidateSentences(row.reportText!, run.config.data.sentences.sections);
    expect(result.sentences.map((s) => s.text).sort()).toEqual([...sentences].sort());
    for (let i = 1; i < result.sentences.length; i++)
      expect(result.sentences[i]!.score).toBeLessThanOrEqual(result.sentences[i - 1]!.score);
    const expected = cosineScores(await run.embedImages([row.imagePaths[0]!]), await run.embedTexts(sentences), run.dim);
    for (const s of result.sentences) expect(s.score).toBeCloseTo(expected[s.index]!, 6);
    // embeddings are unit vectors: scores are cosines
    for (const s of result.sentences) expect(Math.abs(s.score)).toBeLessThanOrEqual(1 + 1e-6);
    // the run folder gives the same ranking (opened and closed inside)
    const again = await matchSentences(runDir, row.imagePaths[0]!, row.reportText!);
    expect(again.sentences.map((s) => s.index)).toEqual(result.sentences.map((s) => s.index));
    expect((await matchSentences(run, row.imagePaths[0]!, '   ')).sentences).toEqual([]);
  });

  it('puts a sentence describing a present finding first more often than chance on held-out phantom studies', async () => {
    const sentencesOf = heldOut.map((r) => candidateSentences(r.reportText!, run.config.data.sentences.sections));
    const distinct = [...new Set(sentencesOf.flat())];
    const at = new Map(distinct.map((s, i) => [s, i]));
    const text = await run.embedTexts(distinct);
    const images = await run.embedImages(heldOut.map((r) => r.imagePaths[0]!));
    const D = run.dim;
    const rank = (image: number, i: number): RankedReport => {
      const sentences = sentencesOf[i]!;
      const vectors = new Float32Array(sentences.length * D);
      sentences.forEach((s, j) => vectors.set(text.subarray(at.get(s)! * D, (at.get(s)! + 1) * D), j * D));
      return {
        scores: cosineScores(images.subarray(image * D, (image + 1) * D), vectors, D),
        relevant: sentences.map((s) => describesPresentFinding(s, heldOut[i]!)),
      };
    };
    const matched = recallAtOne(heldOut.map((_, i) => rank(i, i)));
    // control: each report ranked against the next study's image
    const shuffled = recallAtOne(heldOut.map((_, i) => rank((i + 1) % heldOut.length, i)));
    const f = (b: { estimate: number; lower: number; upper: number }): string =>
      `${b.estimate.toFixed(3)} [${b.lower.toFixed(3)}, ${b.upper.toFixed(3)}]`;
    console.log(
      `image–sentence recall@1 on ${matched.reports} held-out phantom reports: ${f(matched.recall)}; random baseline ${f(matched.baseline)}; ` +
        `difference ${f(matched.difference)}; with another study's image ${f(shuffled.recall)}`,
    );
    expect(matched.reports).toBeGreaterThan(150);
    expect(matched.difference.lower).toBeGreaterThan(0);
    expect(matched.recall.lower).toBeGreaterThan(matched.baseline.estimate);
    expect(matched.recall.estimate).toBeGreaterThan(shuffled.recall.estimate);
  });

  it('prints the ranking from the command line', async () => {
    const row = heldOut[0]!;
    const dir = join(root, 'cli');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'report.txt'), row.reportText!);
    const program = new Command('radlearn');
    registerMatch(program);
    const { stdout } = await captureCli(program, [
      'match',
      '--run',
      runDir,
      '--image',
      row.imagePaths[0]!,
      '--report',
      join(dir, 'report.txt'),
      '--top',
      '2',
    ]);
    expect(stdout).toContain(`ranked by cosine similarity to ${row.imagePaths[0]}`);
    expect(stdout.match(/^ +\d+\. +-?\d\.\d{3} {2}\S.*$/gm)).toHaveLength(2);
  });

  it('refuses a run of another mode and a missing run folder', async () => {
    const dir = join(root, 'supervised-run');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ name: 'x', mode: 'supervised', data: { manifest: 'm.csv' } }));
    await expect(loadContrastiveRun(dir)).rejects.toThrow(/a supervised run; image–sentence matching needs a run of mode contrastive/);
    await expect(loadContrastiveRun(join(root, 'nowhere'))).rejects.toMatchObject({ code: 'ERR_MISSING_FILE' });
  });
});
