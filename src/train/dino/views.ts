/**
 * Multi-crop views for one DINO step from the augmentation kernels: 2 global views (with iBOT
 * block masks) at image.size + N local views per image at the local size, each reordered
 * view-major. The student's global views have their masked patches set to 0 (mid-grey after
 * normalisation) in pixel space, because the encoder graph has no mask-token input; the teacher
 * sees them unmasked.
 */
import { augmentSync } from '../../kernels/augment.js';
import type { AugmentSpec } from '../../kernels/augment-spec.js';
import type { DinoConfig } from './config.js';

export interface DinoViews {
  /** [2 * B, 1, S, S] view-major global views, masked for iBOT. */
  student: Float32Array;
  /** [L * B, 1, s, s] view-major local views (s = localSize). */
  local: Float32Array;
  localSize: number;
  /** [2 * B, 1, S, S] view-major unmasked global views. */
  teacher: Float32Array;
  /** [2 * B, P] view-major, 1 = hidden from the student. */
  masks: Uint8Array;
  /** 2 + L. */
  studentViews: number;
}

/** `size` = image.size (global crops), `localSize` = resolveLocalSize(...) (local crops). */
export function dinoAugmentSpec(cfg: DinoConfig, size: number, localSize: number, normalize: { mean: number; std: number }): AugmentSpec {
  const c = cfg.crops;
  return {
    crops: [
      {
        count: 2,
        size,
        scale: c.globalScale,
        ratio: c.aspectRatio,
        mask: { patchSize: cfg.vit.patchSize, ratio: c.maskRatio, p: c.maskProbability },
      },
      ...(c.localCount > 0
        ? [{ count: c.localCount, size: localSize, scale: c.localScale, ratio: c.aspectRatio, mask: false as const }]
        : []),
    ],
    flip: { horizontal: c.flip },
    intensity: { brightness: 0.4, contrast: 0.4, p: c.intensity },
    blur: { sigma: [0.1, Math.max(0.2, size / 64)], p: c.blur },
    normalize,
  };
}

/** The student's global then local views in one [Vs * B, 1, S, S] batch (only when s = S). */
export function allStudentViews(views: DinoViews): Float32Array {
  const all = new Float32Array(views.student.length + views.local.length);
  all.set(views.student, 0);
  all.set(views.local, views.student.length);
  return all;
}

function viewMajor(src: Float32Array, batch: number, count: number, per: number, dst: Float32Array, offset: number): void {
  for (let b = 0; b < batch; b++) {
    for (let v = 0; v < count; v++) dst.set(src.subarray((b * count + v) * per, (b * count + v + 1) * per), offset + (v * batch + b) * per);
  }
}

/**
 * `pixels` [N, S*S] in [0, 1]; rows are indices into it; `keys` fix each image's draws (default:
 * the rows themselves, when `pixels` holds every image); spec from dinoAugmentSpec.
 */
export function makeDinoViews(
  pixels: Float32Array,
  rows: Int32Array,
  size: number,
  spec: AugmentSpec,
  cfg: DinoConfig,
  seed: number,
  step: number,
  keys: Int32Array = rows,
): DinoViews {
  const per = size * size;
  const B = rows.length;
  const images = Array.from(rows, (r, i) => ({ data: pixels.subarray(r * per, (r + 1) * per), height: size, width: size, key: keys[i]! }));
  const out = augmentSync({ images }, spec, { seed, step, checkFinite: false });
  const L = cfg.crops.localCount;
  const global = out.groups[0]!;
  const teacher = new Float32Array(2 * B * per);
  viewMajor(global.views as Float32Array, B, 2, per, teacher, 0);
  const student = teacher.slice();
  const localSize = L > 0 ? spec.crops[1]!.size : size;
  const local = new Float32Array(L * B * localSize * localSize);
  if (L > 0) viewMajor(out.groups[1]!.views as Float32Array, B, L, localSize * localSize, local, 0);
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
  return { student, local, localSize, teacher, masks, studentViews: 2 + L };
}
