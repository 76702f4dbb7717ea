/**
 * Seeded, counter-based randomness for data, sampling and training order.
 *
 * Every random draw in radlearn's data code must be reproducible from a few integers
 * (seed, epoch, sample index, ...) without carrying generator state between calls,
 * so that worker threads, resumed runs and different batch orders all see the same
 * values. `hashKeys` turns such a key tuple into a 32-bit stream id; `Rng` then walks
 * a counter through a strong 32-bit mixer (a SplitMix-style construction).
 */

const GOLDEN = 0x9e3779b9;

/** Avalanching 32-bit mixer (the "lowbias32" finalizer): every input bit flips about half the output bits. */
export function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d);
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b);
  x = (x ^ (x >>> 16)) >>> 0;
  return x;
}

/** Folds any finite number (integers beyond 2^32 and fractions included) into 32 bits. */
function numberTo32(value: number): number {
  if (Number.isInteger(value) && Math.abs(value) < 2 ** 32) return value >>> 0;
  const lo = (value % 2 ** 32) >>> 0;
  const hi = Math.floor(value / 2 ** 32) >>> 0;
  const frac = Math.floor((value - Math.floor(value)) * 2 ** 32) >>> 0;
  return (mix32(lo ^ GOLDEN) ^ mix32(hi + 0x632be5ab) ^ mix32(frac + 0x85ebca6b)) >>> 0;
}

/** FNV-1a over UTF-16 code units, then mixed: stable string → 32-bit key. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h >>> 0);
}

/** Hashes an ordered tuple of keys (numbers or strings) into one 32-bit value; order matters. */
export function hashKeys(...keys: Array<number | string>): number {
  let h = 0x2545f491;
  for (const key of keys) {
    const k = typeof key === 'string' ? hashString(key) : numberTo32(key);
    h = mix32((h ^ k) + GOLDEN + ((h << 6) >>> 0) + (h >>> 2));
  }
  return h >>> 0;
}

/** Uniform float in [0, 1) from the 32-bit hash of a key tuple: one draw, no state. */
export function hashUniform(...keys: Array<number | string>): number {
  return hashKeys(...keys) / 4294967296;
}

/**
 * A small deterministic generator: state is a 32-bit counter advanced by the golden
 * ratio and passed through `mix32`. Cheap to create (one per sample is fine).
 */
export class Rng {
  private state: number;
  private spareNormal: number | null = null;

  constructor(...keys: Array<number | string>) {
    this.state = hashKeys(...keys);
  }

  /** Next uniform 32-bit unsigned integer. */
  nextU32(): number {
    this.state = (this.state + GOLDEN) >>> 0;
    return mix32(this.state);
  }

  /** Uniform float in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [0, n); n must be a positive integer. */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Uniform integer in [lo, hi] inclusive. */
  intBetween(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Standard normal draw (Marsaglia polar method, caching the second value). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return mean + std * z;
    }
    let u = 0;
    let v = 0;
    let s = 0;
    do {
      u = this.next() * 2 - 1;
      v = this.next() * 2 - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareNormal = v * f;
    return mean + std * u * f;
  }

  /** One element chosen uniformly. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  /** One element chosen with probability proportional to its weight. */
  weighted<T>(items: readonly T[], weights: readonly number[]): T {
    let total = 0;
    for (const w of weights) total += w;
    let r = this.next() * total;
    for (let i = 0; i < items.length; i++) {
      r -= weights[i] as number;
      if (r < 0) return items[i] as T;
    }
    return items[items.length - 1] as T;
  }

  /** Fisher–Yates shuffle of a copy. */
  shuffled<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = out[i] as T;
      out[i] = out[j] as T;
      out[j] = t;
    }
    return out;
  }
}
