/**
 * DICOM input: mutants of real files (pydicom's corpus) and of files radlearn writes in every
 * transfer syntax, fed through what a user runs on a file: readDicom and every frame's
 * toImage, `dicom png` rendering, `cache build` preprocessing and `dicom info`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/random/index.js';
import type { FuzzCase, FuzzSurface } from '../surface.js';
import { loadDicomSeeds } from '../dicom/dicomSeeds.js';
import { mutateDicom } from '../dicom/dicomMutations.js';
import { pipelineOptions } from '../shared/pipelineOptions.js';
import { runPipeline, type PipelineOptions } from '../shared/imagePipeline.js';
import type { CorpusFile } from '../dicom/pydicomCorpus.js';

interface DicomCase extends FuzzCase {
  bytes: Uint8Array;
  options: PipelineOptions;
}

let seeds: CorpusFile[] = [];
let weights: number[] = [];
let scratch = '';

/** Real and generated files get half the cases each; the near-identical DICOMDIR test images count less. */
function seedWeights(real: CorpusFile[], generated: CorpusFile[]): number[] {
  const realWeight = (f: CorpusFile) => (f.name.startsWith('dicomdirtests') ? 0.2 : 1);
  const realTotal = real.reduce((n, f) => n + realWeight(f), 0);
  const share = real.length ? 0.5 : 0;
  return [...real.map((f) => (share * realWeight(f)) / realTotal), ...generated.map(() => (1 - share) / generated.length)];
}

export const surface: FuzzSurface<DicomCase> = {
  name: 'dicom',
  async setup() {
    const { real, generated } = await loadDicomSeeds();
    seeds = [...real, ...generated];
    weights = seedWeights(real, generated);
    scratch = mkdtempSync(join(tmpdir(), 'radlearn-fuzz-dicom-'));
    process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
  },
  makeCase(seed, index) {
    const rng = new Rng('fuzz-dicom', seed, index);
    const base = rng.weighted(seeds, weights);
    const donor = rng.pick(seeds);
    const options = pipelineOptions(rng);
    // A few unmutated seeds keep the clean path (and the invariants on real files) in every run.
    if (rng.chance(0.02)) return { label: `seed ${base.name}`, bytes: base.bytes, options };
    const mutant = mutateDicom(base.bytes, rng, donor.bytes);
    return { label: `${mutant.label} of ${base.name}`, bytes: mutant.bytes, options };
  },
  run(testCase) {
    return runPipeline('dicom', testCase.bytes, join(scratch, 'case.dcm'), testCase.options);
  },
};
