import { beforeAll, describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerTopics } from '../../../src/cli/commands/topics.js';
import { generateReport } from '../../../src/data/phantom/report.js';
import { sampleStudies, type PhantomStudy } from '../../../src/data/phantom/truth.js';
import { formatCsv, loadManifest, parseCsv } from '../../../src/index.js';
import { fitTopics, readTopicModel, TopicModel, type TopicFit } from '../../../src/mining/topics.js';
import { captureCli } from '../../helpers/cli.js';

let studies: PhantomStudy[];
let texts: string[];
let fit: TopicFit;
const K = 8;

beforeAll(async () => {
  studies = sampleStudies(21, 1200);
  texts = studies.map((s) => generateReport(s, 21).text);
  texts[17] = 'the and of';
  fit = await fitTopics(texts, { k: K, seed: 4, workers: 0 });
});

describe('fitTopics', () => {
  it('holds out about a tenth of the texts and gives every text its proportions and dominant topic', () => {
    const { documents, heldOut, documentTopics, dominant } = fit;
    expect(documents.fitted + documents.heldOut).toBe(texts.length);
    expect(heldOut.length).toBe(documents.heldOut);
    expect(documents.heldOut / texts.length).toBeGreaterThan(0.06);
    expect(documents.heldOut / texts.length).toBeLessThan(0.14);
    expect(documents.empty).toBe(1);
    expect(dominant[17]).toBe(-1);
    for (let d = 0; d < texts.length; d++) {
      const row = documentTopics.subarray(d * K, (d + 1) * K);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      if (d !== 17) expect(dominant[d]).toBe(row.indexOf(Math.max(...row)));
    }
    expect(fit.perplexity.heldOut).toBeGreaterThan(1);
    expect(fit.perplexity.train).toBeGreaterThan(1);
    // defaults: online updates, 3 passes
    expect(fit.model.settings).toMatchObject({ method: 'online', iterations: 3, alpha: 1 / K, eta: 1 / K, holdout: 0.1 });
  });

  it('finds the phantom’s findings as topics: the topic most enriched in reports with a finding names it among its top words', () => {
    const words = fit.model.topWords(10).map((list) => list.map((w) => w.word));
    const rows = studies.map((_, d) => d).filter((d) => d !== 17);
    const share = (subset: number[], topic: number): number =>
      subset.reduce((s, d) => s + fit.documentTopics[d * K + topic]!, 0) / subset.length;
    for (const [word, has] of [
      ['pneumothorax', (s: PhantomStudy) => s.findings.pneumothorax !== null],
      ['catheter', (s: PhantomStudy) => s.findings.devices.includes('central_line')],
      ['nodule', (s: PhantomStudy) => s.findings.lesion?.kind === 'nodule'],
    ] as const) {
      const withIt = rows.filter((d) => has(studies[d]!));
      const without = rows.filter((d) => !has(studies[d]!));
      const enrichment = words.map((_, t) => share(withIt, t) / share(without, t));
      const topic = enrichment.indexOf(Math.max(...enrichment));
      expect(enrichment[topic], word).toBeGreaterThan(3);
      expect(words[topic], word).toContain(word);
    }
  });

  it('infers the same proportions for the same texts again, also from the model written as JSON', async () => {
    const again = await fit.model.transform(texts, { workers: 0 });
    expect(Array.from(again)).toEqual(Array.from(fit.documentTopics));
    const dir = mkdtempSync(join(tmpdir(), 'radlearn-topics-'));
    writeFileSync(join(dir, 'topics.json'), JSON.stringify(fit.model.toJSON(fit)));
    const loaded = await readTopicModel(join(dir, 'topics.json'));
    expect(loaded.vocabulary).toEqual(fit.model.vocabulary);
    const fromJson = await loaded.transform(texts.slice(0, 50), { workers: 0 });
    expect(Array.from(fromJson)).toEqual(Array.from(fit.documentTopics.subarray(0, 50 * K)));
    expect(await loaded.perplexity(texts.slice(0, 200))).toBeCloseTo(await fit.model.perplexity(texts.slice(0, 200)), 10);
    expect(() => TopicModel.fromJSON({ format: 'other' }, 'x.json')).toThrow(/x.json: not a radlearn topic model/);
  });

  it('gives the same topics for the same seed', async () => {
    const a = await fitTopics(texts.slice(0, 300), { k: 4, seed: 9, workers: 0 });
    const b = await fitTopics(texts.slice(0, 300), { k: 4, seed: 9, workers: 0 });
    expect(JSON.stringify(a.model.toJSON(a))).toBe(JSON.stringify(b.model.toJSON(b)));
  });

  it('refuses a corpus with no word left, and bad options', async () => {
    await expect(fitTopics(['the of', 'and'], { k: 2 })).rejects.toThrow(/no word is left/);
    await expect(fitTopics(texts, { k: 3, holdout: 1 })).rejects.toThrow(/holdout must be a fraction/);
    await expect(fitTopics(texts, { k: 3, topWords: 0 })).rejects.toThrow(/topWords/);
  });
});

describe('radlearn topics', () => {
  async function runTopics(args: string[]): Promise<{ stdout: string; stderr: string }> {
    const program = new Command('radlearn');
    registerTopics(program);
    return captureCli(program, args);
  }

  it('prints the topics, writes topics.json and a manifest with the dominant topic as a class and as one-hot binary labels', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'radlearn-topics-cli-'));
    const rows = [['image_path', 'patient_id', 'study_id', 'findings', 'impression']];
    studies.slice(0, 600).forEach((s, d) => {
      const text = d === 5 ? '' : texts[d]!;
      const [findings, impression] = text.split(/IMPRESSION:/);
      rows.push([
        `images/${s.studyId}.png`,
        s.patient.patientId,
        s.studyId,
        (findings ?? '').replace(/^[\s\S]*FINDINGS:/, ''),
        impression ?? '',
      ]);
    });
    const input = join(dir, 'reports.csv');
    writeFileSync(input, formatCsv(rows));
    const out = join(dir, 'topics.json');
    const assign = join(dir, 'manifest-topics.csv');
    const { stdout } = await runTopics([
      'topics',
      input,
      '--column',
      'findings,impression',
      '--k',
      '5',
      '--out',
      out,
      '--assign',
      assign,
      '--one-hot',
      '--keep-text',
      '--workers',
      '0',
    ]);
    expect(stdout).toMatch(/^5 topics over \d+ words from 600 reports \(\d+ fitted, \d+ held out\)/);
    expect(stdout.match(/^topic +\d \( *\d+\.\d%\): (\S+ ){9}\S+$/gm)).toHaveLength(5);
    expect(stdout).toContain('2 report(s) have no word in the vocabulary');
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(json.format).toBe('radlearn-topics-v1');
    expect(json.settings).toMatchObject({ k: 5, method: 'online', iterations: 3, seed: 0 });
    expect(json.topics).toHaveLength(5);
    expect(json.topics[0].words).toHaveLength(10);
    expect(json.components).toHaveLength(5);
    expect(json.components[0]).toHaveLength(json.vocabulary.length);
    expect(json.perplexity.heldOut).toBeGreaterThan(1);
    expect(json.source).toEqual({ file: input, columns: ['findings', 'impression'], reports: 600 });
    const table = parseCsv(readFileSync(assign, 'utf8'), assign);
    expect(table[0]).toEqual([
      'image_path',
      'patient_id',
      'study_id',
      'findings',
      'impression',
      'topic',
      'topic_0',
      'topic_1',
      'topic_2',
      'topic_3',
      'topic_4',
    ]);
    for (const d of [5, 17]) expect(table[d + 1]!.slice(5)).toEqual(['', '', '', '', '', '']);
    for (const row of table.slice(1)) {
      if (row[5] === '') continue;
      const topic = Number(row[5]);
      expect(row.slice(6)).toEqual(Array.from({ length: 5 }, (_, t) => (t === topic ? '1' : '0')));
    }
    // a manifest reads the one-hot columns as binary labels and the topic as a class
    const manifest = await loadManifest(assign, { duplicates: 'off' });
    const kinds = Object.fromEntries(manifest.labelColumns.map((c) => [c.name, c.kind]));
    expect(kinds).toEqual({
      topic: 'multiclass',
      topic_0: 'binary',
      topic_1: 'binary',
      topic_2: 'binary',
      topic_3: 'binary',
      topic_4: 'binary',
    });
    expect(manifest.rows[5]!.labels.topic).toBeNull();
  });

  it('names the missing column, and refuses a topic column the input already has', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'radlearn-topics-cli-'));
    const input = join(dir, 'reports.csv');
    writeFileSync(input, formatCsv([['id', 'report', 'topic'], ...texts.slice(0, 40).map((t, i) => [String(i), t, 'x'])]));
    await expect(runTopics(['topics', input, '--column', 'findings', '--out', join(dir, 't.json')])).rejects.toThrow(
      /column "findings" not found; columns are id, report, topic/,
    );
    await expect(
      runTopics(['topics', input, '--k', '2', '--out', join(dir, 't.json'), '--assign', join(dir, 'a.csv'), '--workers', '0']),
    ).rejects.toThrow(/already has a column "topic"; choose another --prefix/);
    await expect(runTopics(['topics', input, '--k', '1', '--out', join(dir, 't.json')])).rejects.toThrow(/--k must be an integer >= 2/);
  });
});
