/**
 * PNG and JPEG input: chunk-aware and marker-aware mutants of Pillow-made, radlearn-made and
 * DICOM-extracted images, fed through readImage and every use of it: toImage, `dicom png`
 * rendering and `cache build` preprocessing (which reads through readAnyImage).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sniffFormat } from '../../src/index.js';
import { Rng } from '../../src/random/index.js';
import type { FuzzCase, FuzzSurface } from '../surface.js';
import { blindMutation } from '../shared/mutate.js';
import { mutatePng } from '../image/pngMutations.js';
import { mutateJpeg } from '../image/jpegMutations.js';
import { loadImageSeeds } from '../image/imageSeeds.js';
import { pipelineOptions } from '../shared/pipelineOptions.js';
import { runPipeline, type PipelineOptions } from '../shared/imagePipeline.js';
import type { CorpusFile } from '../dicom/pydicomCorpus.js';

interface ImageCase extends FuzzCase {
  bytes: Uint8Array;
  options: PipelineOptions;
}

let seeds: CorpusFile[] = [];
let scratch = '';

function mutate(bytes: Uint8Array, rng: Rng, donor: Uint8Array): { bytes: Uint8Array; label: string } {
  if (rng.chance(0.15)) return blindMutation(bytes, rng, donor);
  return sniffFormat(bytes) === 'png' ? mutatePng(bytes, rng, donor) : mutateJpeg(bytes, rng, donor);
}

export const surface: FuzzSurface<ImageCase> = {
  name: 'image',
  async setup() {
    seeds = await loadImageSeeds();
    scratch = mkdtempSync(join(tmpdir(), 'radlearn-fuzz-image-'));
    process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
  },
  makeCase(seed, index) {
    const rng = new Rng('fuzz-image', seed, index);
    const base = rng.pick(seeds);
    const sameFormat = seeds.filter((s) => sniffFormat(s.bytes) === sniffFormat(base.bytes));
    const donor = rng.pick(sameFormat.length ? sameFormat : seeds);
    const options = pipelineOptions(rng);
    if (rng.chance(0.03)) return { label: `seed ${base.name}`, bytes: base.bytes, options };
    let bytes = base.bytes;
    const labels: string[] = [];
    const steps = rng.weighted([1, 2, 3], [0.7, 0.2, 0.1]);
    for (let step = 0; step < steps; step++) {
      const mutant = mutate(bytes, rng, donor.bytes);
      bytes = mutant.bytes;
      labels.push(mutant.label);
    }
    return { label: `${labels.join(' + ')} of ${base.name}`, bytes, options };
  },
  run(testCase) {
    const extension = sniffFormat(testCase.bytes) === 'jpeg' ? 'jpg' : 'png';
    return runPipeline('image', testCase.bytes, join(scratch, `case.${extension}`), testCase.options);
  },
};
