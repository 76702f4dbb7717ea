import { describe, expect, it } from 'vitest';
import { CHEXZERO_TEMPLATES, DEFAULT_PROMPT_TEMPLATES, chexpertPrompts, makeLabelPrompts } from '../../../src/eval/prompts.js';
import { auroc } from '../../../src/eval/auroc.js';
import { buildZeroShotClassifier, zeroShotScores } from '../../../src/eval/zeroShot.js';
import { createEvalRng, gaussian } from './helpers.js';

const DIM = 24;

/** A deterministic text "encoder" fixture: each distinct text maps to a seeded random vector. */
function fixtureEncoder() {
  const calls: string[][] = [];
  const embedOne = (text: string): Float32Array => {
    let h = 2166136261;
    for (const ch of text) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
    const rng = createEvalRng(h);
    return Float32Array.from({ length: DIM }, () => gaussian(rng) * 3);
  };
  const embedTexts = async (texts: string[]): Promise<Float32Array> => {
    calls.push(texts);
    const out = new Float32Array(texts.length * DIM);
    texts.forEach((t, i) => out.set(embedOne(t), i * DIM));
    return out;
  };
  return { calls, embedOne, embedTexts };
}

const unit = (v: ArrayLike<number>): number[] => {
  const n = Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));
  return Array.from(v, (x) => x / n);
};

describe('zero-shot scoring (CheXzero protocol)', () => {
  it('uses the normalised mean of normalised template embeddings', async () => {
    const enc = fixtureEncoder();
    const prompts = makeLabelPrompts(['pleural_effusion', 'Cardiomegaly']);
    const clf = await buildZeroShotClassifier(prompts, enc.embedTexts);
    expect(prompts[0].positive).toContain('findings suggest pleural effusion');
    expect(prompts[0].negative).toContain('no pleural effusion');
    for (const [l, p] of prompts.entries()) {
      const sum = new Array(DIM).fill(0);
      for (const t of p.positive) unit(enc.embedOne(t)).forEach((x, k) => (sum[k] += x));
      const expected = unit(sum);
      for (let k = 0; k < DIM; k++) expect(clf.positive[l * DIM + k]).toBeCloseTo(expected[k], 6);
    }
    // Each distinct prompt embedded once, in one batch.
    expect(enc.calls.length).toBe(1);
    expect(enc.calls[0].length).toBe(new Set(prompts.flatMap((p) => [...p.positive, ...p.negative])).size);
  });

  it('scores p = exp(cos(x,pos)) / (exp(cos(x,pos)) + exp(cos(x,neg))) for every image and label', async () => {
    const enc = fixtureEncoder();
    const clf = await buildZeroShotClassifier(
      makeLabelPrompts(['edema', 'atelectasis', 'fracture'], { templates: CHEXZERO_TEMPLATES }),
      enc.embedTexts,
    );
    const rng = createEvalRng(77);
    const n = 13;
    const images = Float64Array.from({ length: n * DIM }, () => gaussian(rng));
    const scores = clf.score(images);
    expect(scores.length).toBe(n * 3);
    for (let i = 0; i < n; i++) {
      const x = unit(images.subarray(i * DIM, (i + 1) * DIM));
      for (let l = 0; l < 3; l++) {
        const pos = unit(enc.embedOne(['edema', 'atelectasis', 'fracture'][l]));
        const neg = unit(enc.embedOne(`no ${['edema', 'atelectasis', 'fracture'][l]}`));
        const cp = x.reduce((s, v, k) => s + v * pos[k], 0);
        const cn = x.reduce((s, v, k) => s + v * neg[k], 0);
        expect(scores[i * 3 + l]).toBeCloseTo(Math.exp(cp) / (Math.exp(cp) + Math.exp(cn)), 6);
      }
    }
    // Cosine: scaling an image row changes nothing; a zero row gives NaN, not garbage.
    const scaled = images.slice();
    for (let k = 0; k < DIM; k++) scaled[k] *= 37.5;
    scaled.fill(0, DIM, 2 * DIM);
    const s2 = zeroShotScores(scaled, clf.positive, clf.negative, DIM);
    expect(s2[0]).toBeCloseTo(scores[0], 12);
    expect(s2[3]).toBeNaN();
  });

  it('separates images that lie near the positive prompt (AUROC well above chance)', async () => {
    const enc = fixtureEncoder();
    const clf = await buildZeroShotClassifier(makeLabelPrompts(['pneumothorax']), enc.embedTexts);
    const rng = createEvalRng(5);
    const n = 200;
    const labels: number[] = [];
    const images = new Float64Array(n * DIM);
    for (let i = 0; i < n; i++) {
      const y = rng.next() < 0.3 ? 1 : 0;
      labels.push(y);
      const src = y ? clf.positive : clf.negative;
      for (let k = 0; k < DIM; k++) images[i * DIM + k] = src[k] + 0.35 * gaussian(rng);
    }
    expect(auroc(clf.score(images), labels)).toBeGreaterThan(0.9);
  });

  it('ships CheXpert prompts as data, with No Finding written out', () => {
    const prompts = chexpertPrompts();
    expect(prompts.length).toBe(14);
    const nf = prompts.find((p) => p.label === 'No Finding')!;
    expect(nf.positive.join(' ')).not.toMatch(/no no/);
    const edema = prompts.find((p) => p.label === 'Edema')!;
    expect(edema.positive.length).toBe(DEFAULT_PROMPT_TEMPLATES.positive.length);
    expect(edema.negative).toContain('no pulmonary edema');
    expect(chexpertPrompts({ labels: ['Cardiomegaly'], templates: CHEXZERO_TEMPLATES })).toEqual([
      { label: 'Cardiomegaly', positive: ['cardiomegaly'], negative: ['no cardiomegaly'] },
    ]);
  });

  it('rejects encoders that return the wrong shape, and mismatched image dimensions', async () => {
    const bad = async (texts: string[]) => new Float32Array(texts.length * 4 + 1);
    await expect(buildZeroShotClassifier(makeLabelPrompts(['edema']), bad)).rejects.toThrow(/expected row-major/);
    const enc = fixtureEncoder();
    const clf = await buildZeroShotClassifier(makeLabelPrompts(['edema']), enc.embedTexts);
    expect(() => clf.score(new Float32Array(DIM + 3))).toThrow(/share dimension 24/);
  });
});
