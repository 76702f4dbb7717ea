/**
 * One DINO step's losses and the upstream gradients for the student graph's three outputs.
 * Rows are view-major: student [Vs, B] = the 2 global views (masked for iBOT) then the local
 * views; teacher [2, B] = the unmasked global views.
 */
import type { TeacherTargets, TrainOps } from '../ops.js';
import type { DinoConfig } from './config.js';
import type { DinoForward } from './model.js';

export interface DinoCenters {
  dino: Float32Array;
  ibot: Float32Array;
}

export interface DinoLossOutput {
  loss: number;
  parts: { dino: number; ibot: number; koleo: number };
  grads: { embedding: Float32Array; dino: Float32Array; ibot: Float32Array };
}

export interface DinoLossShape {
  batch: number;
  studentViews: number;
  patches: number;
  prototypes: number;
  embedDim: number;
}

/** Computes the weighted loss with the trainer's ops; updates the centers in place (centering mode). */
export function dinoStepLosses(
  ops: TrainOps,
  student: DinoForward,
  teacher: DinoForward,
  masks: Uint8Array,
  centers: DinoCenters,
  shape: DinoLossShape,
  cfg: DinoConfig,
  teacherTemperature: number,
): DinoLossOutput {
  const { batch: B, studentViews: Vs, patches: P, prototypes: K, embedDim: D } = shape;
  const w = cfg.loss;
  const targets = (center: Float32Array): TeacherTargets => ({
    studentTemperature: w.studentTemperature,
    teacherTemperature,
    normalization: w.normalization,
    centerMomentum: w.centerMomentum,
    ...(w.normalization === 'center' ? { center } : {}),
  });
  const grads = { embedding: new Float32Array(Vs * B * D), dino: new Float32Array(Vs * B * K), ibot: new Float32Array(Vs * B * P * K) };
  const parts = { dino: 0, ibot: 0, koleo: 0 };

  if (w.dino > 0) {
    const r = ops.dinoLoss(
      student.dino,
      teacher.dino,
      { studentViews: Vs, teacherViews: 2, batch: B, prototypes: K },
      targets(centers.dino),
    );
    parts.dino = r.loss;
    for (let i = 0; i < r.grad.length; i++) grads.dino[i] = w.dino * r.grad[i]!;
  }
  if (w.ibot > 0) {
    const rows = 2 * B;
    const r = ops.ibotLoss(
      student.ibot.subarray(0, rows * P * K),
      teacher.ibot,
      masks,
      { batch: rows, patches: P, prototypes: K },
      targets(centers.ibot),
    );
    parts.ibot = r.loss;
    for (let i = 0; i < r.grad.length; i++) grads.ibot[i] = w.ibot * r.grad[i]!;
  }
  if (w.koleo > 0 && B >= 2) {
    // per global view, as DINOv2 (the nearest neighbour is searched within one view's batch)
    for (let v = 0; v < 2; v++) {
      const x = student.embedding.subarray(v * B * D, (v + 1) * B * D);
      const r = ops.koleoLoss(x, B, D);
      parts.koleo += r.loss / 2;
      for (let i = 0; i < r.grad.length; i++) grads.embedding[v * B * D + i] = (w.koleo / 2) * r.grad[i]!;
    }
  }
  return { loss: w.dino * parts.dino + w.ibot * parts.ibot + w.koleo * parts.koleo, parts, grads };
}
