/**
 * Image–sentence matching (Shin et al.'s key-image-to-sentence step): a report's sentences ranked
 * by cosine similarity to the image in a contrastive run's shared embedding space. The sentences
 * are those the run trained on: the configured sections (findings and impression by default), or
 * the whole report when it has none of them.
 */
import { InvalidArgumentError } from '../errors.js';
import { candidateSentences } from '../data/sampling/sentences.js';
import { loadContrastiveRun, type ContrastiveRun } from './contrastive-run.js';

export interface SentenceMatch {
  /** Position of the sentence among the report's candidate sentences. */
  index: number;
  text: string;
  /** Cosine similarity to the image. */
  score: number;
}

export interface SentenceMatches {
  image: string;
  /** Every candidate sentence, most similar first (ties in report order). */
  sentences: SentenceMatch[];
}

/** Cosine of one unit image vector with each of `n` unit sentence vectors. */
export function cosineScores(image: Float32Array, sentences: Float32Array, dim: number): Float64Array {
  const n = sentences.length / dim;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < dim; k++) s += image[k]! * sentences[i * dim + k]!;
    out[i] = s;
  }
  return out;
}

/**
 * Ranks `reportText`'s sentences by similarity to `image` (a DICOM, PNG or JPEG file) under a
 * contrastive run: an opened run, or its folder (opened and closed here).
 */
export async function matchSentences(run: ContrastiveRun | string, image: string, reportText: string): Promise<SentenceMatches> {
  if (typeof image !== 'string' || image === '')
    throw new InvalidArgumentError('matchSentences: image must be the path of a DICOM, PNG or JPEG file');
  if (typeof reportText !== 'string') throw new InvalidArgumentError('matchSentences: reportText must be a string');
  const opened = typeof run === 'string' ? await loadContrastiveRun(run) : run;
  try {
    const sentences = reportText.trim() === '' ? [] : candidateSentences(reportText, opened.config.data.sentences.sections);
    if (sentences.length === 0) return { image, sentences: [] };
    const [imageVector, sentenceVectors] = [await opened.embedImages([image]), await opened.embedTexts(sentences)];
    const scores = cosineScores(imageVector, sentenceVectors, opened.dim);
    const ranked = sentences.map((text, index) => ({ index, text, score: scores[index]! }));
    ranked.sort((a, b) => b.score - a.score || a.index - b.index);
    return { image, sentences: ranked };
  } finally {
    if (typeof run === 'string') await opened.dispose();
  }
}
