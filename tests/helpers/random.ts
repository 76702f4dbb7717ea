/** Seeded test data: never zeros or constants, so a kernel that skips work cannot pass. */
export function rng(seed: number): () => number {
  let state = seed >>> 0 || 0x9e3779b9;
  return () => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform in [-1, 1) with no exact zeros. */
export function randomFloats(length: number, seed: number, scale = 1): Float32Array {
  const next = rng(seed);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    let v = next() * 2 - 1;
    if (v === 0) v = 0.5;
    out[i] = v * scale;
  }
  return out;
}
