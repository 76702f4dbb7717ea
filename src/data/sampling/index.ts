export { sampleSentences, candidateSentences, DEFAULT_SAMPLE_SECTIONS, type SampleSentencesOptions } from './sentences.js';
