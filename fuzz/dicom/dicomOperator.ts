/** What every DICOM mutation operator is, and the small helpers they share. */
import { type Rng } from '../../src/random/index.js';
import type { DicomLayout, ElementHeader } from './dicomLayout.js';

export interface Mutant {
  bytes: Uint8Array;
  label: string;
}

/** Breaks one thing in `bytes`, or returns undefined when the file has nothing of the kind. */
export type Operator = (bytes: Uint8Array, layout: DicomLayout, rng: Rng, donor: Uint8Array) => Mutant | undefined;

export const UNDEFINED_LENGTH = 0xffffffff;

export function pickElement(layout: DicomLayout, rng: Rng, test: (e: ElementHeader) => boolean = () => true): ElementHeader | undefined {
  const hits = layout.elements.filter(test);
  return hits.length ? rng.pick(hits) : undefined;
}

export function tagName(tag: number): string {
  return `(${(tag >>> 16).toString(16).padStart(4, '0')},${(tag & 0xffff).toString(16).padStart(4, '0')})`;
}
