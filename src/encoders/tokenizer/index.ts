export { TextTokenizer, type BatchEncodeOptions, type BatchEncoding } from './text-tokenizer.js';
export {
  buildWordPieceTokenizer,
  saveTokenizerJson,
  BERT_SPECIAL_TOKENS,
  type BuildWordPieceOptions,
  type SpecialTokenNames,
  type TokenizerJson,
} from './tokenizer-json.js';
export { trainWordPieceVocab, DEFAULT_SPECIAL_TOKENS, type WordPieceTrainOptions } from './wordpiece-trainer.js';
export { bertNormalize, bertPreTokenize } from './bert-text.js';
