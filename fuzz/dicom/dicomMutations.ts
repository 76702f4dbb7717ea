/**
 * Structure-aware DICOM mutations. Each operator reads the seed's element layout and breaks
 * one thing a reader trusts: a length field, a VR, a pixel-module attribute, a sequence's
 * nesting or termination, the encapsulated fragments and their offset table, the transfer
 * syntax, a LUT, or the compressed frame itself. Operators stack (1–3 per case).
 */
import { deflateRawSync } from 'node:zlib';
import { type Rng } from '../../src/random/index.js';
import { blindMutation, concat } from '../shared/mutate.js';
import { inflateBody, walkDicom, type DicomLayout } from './dicomLayout.js';
import type { Mutant, Operator } from './dicomOperator.js';
import {
  elementCopy,
  headerBytes,
  lengthField,
  sequence,
  stripHeader,
  structuralSplice,
  transferSyntax,
  truncateAtBoundary,
  wrongVr,
} from './dicomStructureMutations.js';
import { attribute, floatPixelData, hugeConsistentFrame, hugeImage, lut, reinterpretNative, reshapeNative } from './dicomPixelMutations.js';
import { fragments } from './dicomFragmentMutations.js';

export function mutateDicom(seed: Uint8Array, rng: Rng, donor: Uint8Array): Mutant {
  const layout = walkDicom(seed);
  if (layout.deflated && rng.chance(0.6)) return mutateInsideDeflate(seed, layout, rng, donor);
  return mutateSteps(seed, rng, donor, false);
}

function mutateSteps(seed: Uint8Array, rng: Rng, donor: Uint8Array, bodyInflated: boolean): Mutant {
  const steps = rng.weighted([1, 2, 3], [0.7, 0.2, 0.1]);
  let bytes = seed;
  const labels: string[] = [];
  for (let step = 0; step < steps; step++) {
    const layout = walkDicom(bytes, { bodyInflated });
    const [name, operator] = rng.weighted(
      OPERATORS.map(([n, , op]) => [n, op] as const),
      OPERATORS.map(([, w]) => w),
    );
    const mutant = operator(bytes, layout, rng, donor) ?? { ...blindMutation(bytes, rng, donor) };
    bytes = mutant.bytes;
    labels.push(mutant.label || name);
  }
  return { bytes, label: labels.join(' + ') };
}

/** Mutates the dataset inside a deflated body, then deflates it again, so the parser sees the damage. */
function mutateInsideDeflate(seed: Uint8Array, layout: DicomLayout, rng: Rng, donor: Uint8Array): Mutant {
  const body = inflateBody(seed, layout.bodyStart);
  if (!body) return mutateSteps(seed, rng, donor, false);
  const plain = concat(seed.subarray(0, layout.bodyStart), body);
  const mutant = mutateSteps(plain, rng, donor, true);
  const bodyStart = Math.min(walkDicom(mutant.bytes, { bodyInflated: true }).bodyStart, mutant.bytes.length);
  const deflated = deflateRawSync(mutant.bytes.subarray(bodyStart));
  return { bytes: concat(mutant.bytes.subarray(0, bodyStart), deflated), label: `inflated body: ${mutant.label}` };
}

/** Every operator with its weight: how often a step picks it. */
const OPERATORS: Array<[string, number, Operator]> = [
  ['truncate', 5, truncateAtBoundary],
  ['header bytes', 6, headerBytes],
  ['length field', 8, lengthField],
  ['attribute', 16, attribute],
  ['huge image', 3, hugeImage],
  ['huge consistent frame', 3, hugeConsistentFrame],
  ['reshape native', 3, reshapeNative],
  ['reinterpret native', 5, reinterpretNative],
  ['float pixel data', 1, floatPixelData],
  ['wrong VR', 6, wrongVr],
  ['sequence', 6, sequence],
  ['fragments', 20, fragments],
  ['transfer syntax', 4, transferSyntax],
  ['LUT', 4, lut],
  ['element copy', 4, elementCopy],
  ['strip header', 3, stripHeader],
  ['splice', 4, structuralSplice],
  ['blind', 8, (bytes, _layout, rng, donor) => blindMutation(bytes, rng, donor)],
];
