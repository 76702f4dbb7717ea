import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { afterAll, describe, expect, it } from 'vitest';
import { MissingFileError } from '../../../src/errors.js';
import { EncoderInputError } from '../../../src/encoders/errors.js';
import { TextTokenizer } from '../../../src/encoders/tokenizer/text-tokenizer.js';
import { bertNormalize, bertPreTokenize } from '../../../src/encoders/tokenizer/bert-text.js';
import { buildWordPieceTokenizer, saveTokenizerJson } from '../../../src/encoders/tokenizer/tokenizer-json.js';
import { makeReports } from './corpus.js';

const dir = mkdtempSync(join(tmpdir(), 'radlearn-tok-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const corpus = makeReports(400, 42);
const json = buildWordPieceTokenizer(corpus, { vocabSize: 300, minFrequency: 2 });

describe('buildWordPieceTokenizer', () => {
  it('puts the special tokens first and respects vocabSize', () => {
    const vocab = json.model.vocab;
    // (object key order puts digit tokens first in JS; ids are what readers use)
    expect(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map((t) => vocab[t])).toEqual([0, 1, 2, 3, 4]);
    const ids = Object.values(vocab).sort((a, b) => a - b);
    expect(ids).toEqual(ids.map((_, i) => i));
    expect(ids.length).toBeLessThanOrEqual(300);
    expect(ids.length).toBeGreaterThan(100);
    expect(json.added_tokens.map((t) => t.content)).toEqual(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
  });

  it('is deterministic', () => {
    expect(buildWordPieceTokenizer(corpus, { vocabSize: 300 })).toEqual(json);
  });

  it('is read back by @huggingface/tokenizers: frequent words are whole tokens, every corpus word is known', () => {
    const hf = new HfTokenizer(json, {});
    const enc = hf.encode('No pleural effusion. Moderate pneumothorax!');
    expect(enc.tokens[0]).toBe('[CLS]');
    expect(enc.tokens[enc.tokens.length - 1]).toBe('[SEP]');
    expect(enc.tokens).toContain('pleural');
    expect(enc.tokens).toContain('effusion');
    expect(enc.tokens).toContain('.');
    for (const text of corpus.slice(0, 60)) {
      const tokens = hf.tokenize(text);
      expect(tokens).not.toContain('[UNK]');
      // decoding the ids gives the normalised words back
      const words = bertPreTokenize(bertNormalize(text, { lowercase: true }));
      const decoded = hf.decode(hf.encode(text).ids, { skip_special_tokens: true });
      expect(bertPreTokenize(decoded)).toEqual(words);
    }
    // characters never seen in training become [UNK]
    expect(hf.tokenize('✓')).toEqual(['[UNK]']);
  });

  it('normalises like BERT: lowercase, accents stripped, punctuation split', () => {
    expect(bertPreTokenize(bertNormalize('Sjögren, CAFÉ-au-lait?', { lowercase: true }))).toEqual([
      'sjogren',
      ',',
      'cafe',
      '-',
      'au',
      '-',
      'lait',
      '?',
    ]);
    const cased = buildWordPieceTokenizer(corpus, { vocabSize: 300, lowercase: false });
    expect(cased.model.vocab.FINDINGS ?? cased.model.vocab.F).toBeDefined();
    expect(cased.normalizer.lowercase).toBe(false);
  });

  it('refuses a vocabSize below the alphabet', () => {
    expect(() => buildWordPieceTokenizer(corpus, { vocabSize: 10 })).toThrow(/vocabSize 10 is smaller/);
  });
});

describe('TextTokenizer', () => {
  const path = join(dir, 'tokenizer.json');
  saveTokenizerJson(json, path);
  const tok = TextTokenizer.fromFile(path);

  it('loads from file and finds the pad id', () => {
    expect(tok.padId).toBe(0);
    expect(tok.vocabSize).toBe(Object.keys(json.model.vocab).length);
    expect(tok.decode(tok.encode('Small left nodule.'))).toBe('small left nodule.');
  });

  it('batch-encodes with longest padding into int64 tensors', () => {
    const texts = ['No pneumothorax.', 'Large bilateral pleural effusion; right atelectasis.', ''];
    const b = tok.encodeBatch(texts, { maxLength: 64 });
    const single = texts.map((t) => tok.encode(t));
    const t = Math.max(...single.map((s) => s.length));
    expect(b.inputIds.dims).toEqual([3, t]);
    expect(b.inputIds.type).toBe('int64');
    expect(Array.from(b.lengths)).toEqual(single.map((s) => s.length));
    single.forEach((s, i) => {
      const row = Array.from(b.inputIds.data.subarray(i * t, (i + 1) * t), Number);
      expect(row).toEqual([...s, ...new Array<number>(t - s.length).fill(0)]);
      const mask = Array.from(b.attentionMask.data.subarray(i * t, (i + 1) * t), Number);
      expect(mask).toEqual([...new Array<number>(s.length).fill(1), ...new Array<number>(t - s.length).fill(0)]);
    });
    expect(b.tokenTypeIds).toBeUndefined();
    expect(tok.encodeBatch(texts, { maxLength: 40, padding: 'maxLength', returnTokenTypeIds: true }).tokenTypeIds!.dims).toEqual([3, 40]);
  });

  it('truncates keeping [CLS] ... [SEP], or refuses when truncation is off', () => {
    const long = corpus.slice(0, 5).join(' ');
    const b = tok.encodeBatch([long, 'No nodule.'], { maxLength: 9 });
    expect(b.truncated).toBe(1);
    const row = Array.from(b.inputIds.data.subarray(0, 9), Number);
    const full = tok.encode(long);
    expect(row).toEqual([...full.slice(0, 8), tok.tokenToId('[SEP]')]);
    expect(row[0]).toBe(tok.tokenToId('[CLS]'));
    expect(() => tok.encodeBatch([long], { maxLength: 9, truncation: false })).toThrow(EncoderInputError);
  });

  it('names the missing tokenizer path', () => {
    const missing = join(dir, 'absent', 'tokenizer.json');
    expect(() => TextTokenizer.fromFile(missing)).toThrow(MissingFileError);
    expect(() => TextTokenizer.fromFile(missing)).toThrow(missing);
  });
});

describe('TextTokenizer with a tokenizer.json from elsewhere', () => {
  // a hand-made BPE tokenizer in the RoBERTa style: <s> A </s>, '<pad>' at id 1, no [PAD]
  const chars = 'abcdefghijklmnopqrstuvwxyz'.split('');
  const vocab: Record<string, number> = { '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3 };
  for (const c of chars) vocab[c] = Object.keys(vocab).length;
  const merges = ['n o', 'e f', 'ef f', 'u s', 'i o', 'io n', 'us ion'];
  for (const m of merges) vocab[m.replace(' ', '')] = Object.keys(vocab).length;
  const bpe = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: ['<s>', '<pad>', '</s>', '<unk>'].map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: { type: 'Lowercase' },
    pre_tokenizer: { type: 'Whitespace' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '<s>', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '</s>', type_id: 0 } },
      ],
      pair: [],
      special_tokens: { '<s>': { id: '<s>', ids: [0], tokens: ['<s>'] }, '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] } },
    },
    decoder: null,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      vocab,
      merges,
    },
  };

  it('finds <pad>, applies the BPE merges and truncates keeping <s> ... </s>', () => {
    const tok = TextTokenizer.fromJSON(bpe);
    expect(tok.padId).toBe(1);
    expect(tok.tokenize('No effusion')).toEqual(['no', 'eff', 'usion']);
    const b = tok.encodeBatch(['No effusion', 'no'], { maxLength: 4 });
    expect(b.inputIds.dims).toEqual([2, 4]);
    const rows = [0, 1].map((i) => Array.from(b.inputIds.data.subarray(i * 4, i * 4 + 4), Number));
    expect(rows[0]).toEqual([0, vocab.no!, vocab.eff!, 2]);
    expect(rows[1]).toEqual([0, vocab.no!, 2, 1]);
    expect(b.truncated).toBe(1);
  });
});
