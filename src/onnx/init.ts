import { InvalidArgumentError } from '../errors.js';
import { Sfc32, streamSeed } from '../random/index.js';

/**
 * How a parameter is initialised. Fan-in for the Kaiming schemes is given explicitly because
 * the builder does not know which axes of a weight are inputs (Conv [O,I/g,kh,kw] vs MatMul [I,O]).
 */
export type InitSpec =
  | { kind: 'zeros' }
  | { kind: 'ones' }
  | { kind: 'constant'; value: number }
  | { kind: 'normal'; std: number; mean?: number }
  /** Normal with std, resampled outside [mean - 2 std, mean + 2 std] (timm/ViT style). */
  | { kind: 'truncNormal'; std: number; mean?: number }
  | { kind: 'uniform'; low: number; high: number }
  /** He et al.: normal with std = gain / sqrt(fanIn); gain sqrt(2) suits ReLU. */
  | { kind: 'kaimingNormal'; fanIn: number; gain?: number }
  /** PyTorch's default for Linear/Conv: uniform in ±gain * sqrt(3 / fanIn). */
  | { kind: 'kaimingUniform'; fanIn: number; gain?: number };

export function initializeValues(spec: InitSpec, size: number, seed: number, name: string): Float32Array {
  const out = new Float32Array(size);
  const rng = new Sfc32(streamSeed(seed, name));
  switch (spec.kind) {
    case 'zeros':
      return out;
    case 'ones':
      return out.fill(1);
    case 'constant':
      return out.fill(spec.value);
    case 'normal': {
      const mean = spec.mean ?? 0;
      for (let i = 0; i < size; i++) out[i] = mean + spec.std * rng.normal();
      return out;
    }
    case 'truncNormal': {
      const mean = spec.mean ?? 0;
      for (let i = 0; i < size; i++) {
        let z = rng.normal();
        while (z < -2 || z > 2) z = rng.normal();
        out[i] = mean + spec.std * z;
      }
      return out;
    }
    case 'uniform':
      for (let i = 0; i < size; i++) out[i] = spec.low + (spec.high - spec.low) * rng.next();
      return out;
    case 'kaimingNormal': {
      checkFanIn(spec.fanIn, name);
      const std = (spec.gain ?? Math.SQRT2) / Math.sqrt(spec.fanIn);
      for (let i = 0; i < size; i++) out[i] = std * rng.normal();
      return out;
    }
    case 'kaimingUniform': {
      checkFanIn(spec.fanIn, name);
      const bound = (spec.gain ?? 1) * Math.sqrt(3 / spec.fanIn);
      for (let i = 0; i < size; i++) out[i] = (2 * rng.next() - 1) * bound;
      return out;
    }
  }
}

function checkFanIn(fanIn: number, name: string): void {
  if (!Number.isInteger(fanIn) || fanIn <= 0) {
    throw new InvalidArgumentError(`initializer for ${name}: fanIn must be a positive integer, got ${fanIn}`, { name, fanIn });
  }
}
