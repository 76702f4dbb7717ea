/**
 * Multi-crop views for one DINO step from the augmentation kernels: 2 global views (with iBOT
 * block masks) + N local views per image, reordered view-major. The student's global views have
 * their masked patches set to 0 (mid-grey after normalisation) in pixel space, because the
 * encoder graph has no mask-token input; the teacher sees them unmasked.
 */
import { augmentSync } from '../../kernels/augment.js';
import type { AugmentSpec } from '../../kernels/augment-spec.js';
import type { DinoConfig } from './config.js';

export interface DinoViews {
  /** [Vs * B, 1, S, S] view-major, global (masked) views first. */
  student: Float32Array;
  /** [2 * B, 1, S, S] view-major unmasked global views. */
  teacher: Float32Array;
  /** [2 * B, P] view-major, 1 = hidden from the student. */
  masks: Uint8Array;
  studentViews: number;
}

export function dinoAugmentSpec(cfg: DinoConfig, size: number, normalize: { mean: number; std: number }): AugmentSpec {
  const c = cfg.crops;
  return {
    crops: [
      { count: 2, size, scale: c.globalScale, ratio: c.aspectRatio, mask: { patchSize: cfg.vit.patchSize, ratio: c.maskRatio, p: c.maskProbability } },
      ...(c.localCount > 0 ? [{ count: c.localCount, size, scale: c.localScale, ratio: c.aspectRatio, mask: false as const }] : []),
    ],
    flip: { horizontal: c.flip },
    intensity: { brightness: 0.4, contrast: 0.4, p: c.intensity },
    blur: { sigma: [0.1, Math.max(0.2, size / 64)], p: c.blur },
    normalize,
  };
}

function viewMajor(src: Float32Array, batch: number, count: number, per: number, dst: Float32Array, offset: number): void {
  for (let b = 0; b < batch; b++) {
    for (let v = 0; v < count; v++) dst.set(src.subarray((b * count + v) * per, (b * count + v + 1) * per), offset + (v * batch + b) * per);
  }
}

/** `pixels` [N, S*S] in [0, 1]; rows are indices into it; keys fix each image's draws. */
export function makeDinoViews(pixels: Float32Array, rows: Int32Array, size: number, spec: AugmentSpec, cfg: DinoConfig, seed: number, step: number): DinoViews {
  const per = size * size;
  const B = rows.length;
  const images = Array.from(rows, (r) => ({ data: pixels.subarray(r * per, (r + 1) * per), height: size, width: size, key: r }));
  const out = augmentSync({ images }, spec, { seed, step, checkFinite: false });
  const L = cfg.crops.localCount;
  const Vs = 2 + L;
  const global = out.groups[0]!;
  const teacher = new Float32Array(2 * B * per);
  viewMajor(global.views as Float32Array, B, 2, per, teacher, 0);
  const student = new Float32Array(Vs * B * per);
  student.set(teacher, 0);
  if (L > 0) viewMajor(out.groups[1]!.views as Float32Array, B, L, per, student, 2 * B * per);
  const grid = size / cfg.vit.patchSize;
  const P = grid * grid;
  const masks = new Uint8Array(2 * B * P);
  const src = global.masks as Uint8Array;
  const ps = cfg.vit.patchSize;
  for (let b = 0; b < B; b++) {
    for (let v = 0; v < 2; v++) {
      const row = v * B + b;
      masks.set(src.subarray((b * 2 + v) * P, (b * 2 + v + 1) * P), row * P);
      for (let p = 0; p < P; p++) {
        if (!masks[row * P + p]) continue;
        const y0 = Math.floor(p / grid) * ps;
        const x0 = (p % grid) * ps;
        for (let y = y0; y < y0 + ps; y++) student.fill(0, row * per + y * size + x0, row * per + y * size + x0 + ps);
      }
    }
  }
  return { student, teacher, masks, studentViews: Vs };
}
