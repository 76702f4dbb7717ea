/** Seeded synthetic images for DICOM tests: smooth anatomy-like structure plus noise, never constant. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SyntheticOptions {
  rows: number;
  columns: number;
  frames?: number;
  samples?: 1 | 3;
  bitsAllocated: 8 | 16;
  bitsStored?: number;
  signed?: boolean;
  seed?: number;
  /** 0 = smooth only; 1 = uniform random over the full range. */
  noise?: number;
}

/** Stored values covering most of the BitsStored range, as the writer's typed array. */
export function syntheticPixels(o: SyntheticOptions): Uint8Array | Int8Array | Uint16Array | Int16Array {
  const bits = o.bitsStored ?? o.bitsAllocated;
  const frames = o.frames ?? 1;
  const samples = o.samples ?? 1;
  const n = o.rows * o.columns * frames * samples;
  const rand = mulberry32(o.seed ?? 1);
  const min = o.signed ? -(2 ** (bits - 1)) : 0;
  const max = o.signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  const out = o.bitsAllocated === 8 ? (o.signed ? new Int8Array(n) : new Uint8Array(n)) : o.signed ? new Int16Array(n) : new Uint16Array(n);
  const noise = o.noise ?? 0.05;
  let i = 0;
  for (let f = 0; f < frames; f++) {
    for (let r = 0; r < o.rows; r++) {
      for (let c = 0; c < o.columns; c++) {
        for (let s = 0; s < samples; s++) {
          const smooth = 0.5 + 0.35 * Math.sin((r + 3 * f) / (o.rows / 5 + 1)) * Math.cos((c + 7 * s) / (o.columns / 4 + 1));
          const v = (1 - noise) * smooth + noise * rand();
          out[i++] = Math.max(min, Math.min(max, Math.round(min + v * (max - min))));
        }
      }
    }
  }
  return out;
}
