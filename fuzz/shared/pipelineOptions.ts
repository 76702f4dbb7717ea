/** The rendering and cache settings a case uses, drawn from its own Rng so replays match. */
import { type Rng } from '../../src/random/index.js';
import type { PipelineOptions } from './imagePipeline.js';

export function pipelineOptions(rng: Rng): PipelineOptions {
  const window = rng.weighted<PipelineOptions['window']>(
    [
      'auto',
      'none',
      { center: rng.uniform(-2000, 4000), width: rng.pick([1, 2, 400, 4000, 1e9]) },
      { center: rng.uniform(-100, 300), width: rng.pick([0.5, 1, 300]), voiFunction: rng.pick(['SIGMOID', 'LINEAR_EXACT'] as const) },
    ],
    [4, 2, 2, 1],
  );
  return {
    window,
    windowIndex: rng.pick([0, 0, 1, 5]),
    depth: rng.pick([8, 16] as const),
    cache: {
      // Small targets keep a case cheap; odd ones exercise rounding in targetShape.
      size: rng.pick([1, 7, 32, 64]),
      dtype: rng.pick(['uint8', 'uint16'] as const),
      window: rng.pick(['auto', 'none'] as const),
      fit: rng.pick(['shortSide', 'squarePad', 'squareStretch'] as const),
      filter: rng.pick(['area', 'triangle', 'lanczos3'] as const),
      color: rng.pick(['grey', 'keep'] as const),
    },
  };
}
