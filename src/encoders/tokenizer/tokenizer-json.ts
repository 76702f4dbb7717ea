import { writeFileAtomicSync } from '../../io/atomic.js';
import { type WordPieceTrainOptions, resolveWordPieceOptions, trainWordPieceVocab } from './wordpiece-trainer.js';

/** The roles of BERT's special tokens and their strings. */
export interface SpecialTokenNames {
  pad: string;
  unk: string;
  cls: string;
  sep: string;
  mask: string;
}

export const BERT_SPECIAL_TOKENS: SpecialTokenNames = { pad: '[PAD]', unk: '[UNK]', cls: '[CLS]', sep: '[SEP]', mask: '[MASK]' };

export interface BuildWordPieceOptions extends Omit<WordPieceTrainOptions, 'specialTokens'> {
  specialTokens?: Partial<SpecialTokenNames>;
  /** More special tokens (e.g. section markers) after the five BERT ones. */
  extraSpecialTokens?: readonly string[];
}

/** A Hugging Face tokenizer.json (the subset radlearn writes; readers accept the full format). */
export interface TokenizerJson {
  version: string;
  truncation: null;
  padding: null;
  added_tokens: {
    id: number;
    content: string;
    single_word: boolean;
    lstrip: boolean;
    rstrip: boolean;
    normalized: boolean;
    special: boolean;
  }[];
  normalizer: {
    type: 'BertNormalizer';
    clean_text: boolean;
    handle_chinese_chars: boolean;
    strip_accents: boolean | null;
    lowercase: boolean;
  };
  pre_tokenizer: { type: 'BertPreTokenizer' };
  post_processor: {
    type: 'TemplateProcessing';
    single: object[];
    pair: object[];
    special_tokens: Record<string, { id: string; ids: number[]; tokens: string[] }>;
  };
  decoder: { type: 'WordPiece'; prefix: string; cleanup: boolean };
  model: {
    type: 'WordPiece';
    unk_token: string;
    continuing_subword_prefix: string;
    max_input_chars_per_word: number;
    vocab: Record<string, number>;
  };
}

/**
 * Trains a WordPiece vocabulary on report texts and returns a BERT-style tokenizer.json:
 * BertNormalizer, BertPreTokenizer, WordPiece model, `[CLS] A [SEP]` / `[CLS] A [SEP] B [SEP]` templates.
 * Any Hugging Face tokenizers implementation (Rust, Python, @huggingface/tokenizers) reads it.
 */
export function buildWordPieceTokenizer(corpus: Iterable<string>, options: BuildWordPieceOptions = {}): TokenizerJson {
  const names = { ...BERT_SPECIAL_TOKENS, ...options.specialTokens };
  const specials = [names.pad, names.unk, names.cls, names.sep, names.mask, ...(options.extraSpecialTokens ?? [])];
  const resolved = resolveWordPieceOptions({ ...options, specialTokens: specials });
  const tokens = trainWordPieceVocab(corpus, resolved);
  const vocab: Record<string, number> = {};
  tokens.forEach((t, i) => (vocab[t] = i));
  const cls = vocab[names.cls]!;
  const sep = vocab[names.sep]!;
  const seq = (id: 'A' | 'B', typeId: number) => ({ Sequence: { id, type_id: typeId } });
  const special = (id: string, typeId: number) => ({ SpecialToken: { id, type_id: typeId } });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: resolved.stripAccents === resolved.lowercase ? null : resolved.stripAccents,
      lowercase: resolved.lowercase,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special(names.cls, 0), seq('A', 0), special(names.sep, 0)],
      pair: [special(names.cls, 0), seq('A', 0), special(names.sep, 0), seq('B', 1), special(names.sep, 1)],
      special_tokens: {
        [names.cls]: { id: names.cls, ids: [cls], tokens: [names.cls] },
        [names.sep]: { id: names.sep, ids: [sep], tokens: [names.sep] },
      },
    },
    decoder: { type: 'WordPiece', prefix: resolved.continuingSubwordPrefix, cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: names.unk,
      continuing_subword_prefix: resolved.continuingSubwordPrefix,
      max_input_chars_per_word: resolved.maxInputCharsPerWord,
      vocab,
    },
  };
}

/** Writes tokenizer.json atomically (temporary file in the same folder, then rename). */
export function saveTokenizerJson(json: TokenizerJson | object, path: string): void {
  writeFileAtomicSync(path, JSON.stringify(json, null, 2), { createFolder: false });
}
