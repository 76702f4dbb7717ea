/**
 * One DINO step's losses and the upstream gradients for the student graph's three outputs.
 * Rows are view-major: student [Vs, B] = the 2 global views (masked for iBOT) then the local
 * views; teacher [2, B] = the unmasked global views.
 */
import { globalMean, SINGLE_PROCESS, type DataParallel } from '../../distributed/data-parallel.js';
import { DEFAULT_SINKHORN_ITERATIONS } from '../../kernels/distill.js';
import type { TeacherTargets, TrainOps } from '../ops.js';
import type { DinoConfig } from './config.js';
import type { DinoForward } from './model.js';
import { sinkhornCenterOverRanks, updateCenterOverRanks, type TeacherRows } from './rank-statistics.js';

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

/** The number of the B rows [B, P] that have at least one masked patch (iBOT averages over them). */
function imagesWithMasks(masks: Uint8Array, rows: number, patches: number): number {
  let n = 0;
  for (let r = 0; r < rows; r++) if (masks.subarray(r * patches, (r + 1) * patches).some((m) => m !== 0)) n++;
  return n;
}

/**
 * Computes the weighted loss with the trainer's ops; updates the centers in place (centering
 * mode). In a data-parallel job `shape.batch` is this rank's rows: the losses and parts are the
 * global batch's (teacher statistics reduced over the ranks, see rank-statistics.ts; KoLeo
 * within each rank's rows, as DINOv2) and the gradients this rank's share of them.
 */
export function dinoStepLosses(
  ops: TrainOps,
  student: DinoForward,
  teacher: DinoForward,
  masks: Uint8Array,
  centers: DinoCenters,
  shape: DinoLossShape,
  cfg: DinoConfig,
  teacherTemperature: number,
  parallel: DataParallel = SINGLE_PROCESS,
): DinoLossOutput {
  const { batch: B, studentViews: Vs, patches: P, prototypes: K, embedDim: D } = shape;
  const w = cfg.loss;
  const spread = parallel.size > 1;
  const common = { studentTemperature: w.studentTemperature, teacherTemperature, centerMomentum: w.centerMomentum };
  // one process: the kernel normalises over its batch and updates the center itself; across
  // ranks the statistics over every rank's rows are taken here and the kernel only applies them
  const targets = (center: Float32Array, rows: TeacherRows): TeacherTargets => {
    if (!spread) return { ...common, normalization: w.normalization, ...(w.normalization === 'center' ? { center } : {}) };
    if (w.normalization === 'sinkhorn')
      return {
        ...common,
        normalization: 'center',
        center: sinkhornCenterOverRanks(parallel, rows, teacherTemperature, DEFAULT_SINKHORN_ITERATIONS),
        keepCenter: true,
      };
    return { ...common, normalization: 'center', center, keepCenter: true };
  };
  const centerAfter = (center: Float32Array, rows: TeacherRows): void => {
    if (spread && w.normalization === 'center') updateCenterOverRanks(parallel, center, rows, w.centerMomentum);
  };
  const grads = { embedding: new Float32Array(Vs * B * D), dino: new Float32Array(Vs * B * K), ibot: new Float32Array(Vs * B * P * K) };
  const parts = { dino: 0, ibot: 0, koleo: 0 };

  if (w.dino > 0) {
    const rows: TeacherRows = { logits: teacher.dino, prototypes: K };
    const r = ops.dinoLoss(
      student.dino,
      teacher.dino,
      { studentViews: Vs, teacherViews: 2, batch: B, prototypes: K },
      targets(centers.dino, rows),
    );
    centerAfter(centers.dino, rows);
    parts.dino = globalMean(parallel, r.loss, B, r.grad).mean;
    for (let i = 0; i < r.grad.length; i++) grads.dino[i] = w.dino * r.grad[i]!;
  }
  if (w.ibot > 0) {
    const images = 2 * B;
    const rows: TeacherRows = { logits: teacher.ibot, prototypes: K, select: masks };
    const r = ops.ibotLoss(
      student.ibot.subarray(0, images * P * K),
      teacher.ibot,
      masks,
      { batch: images, patches: P, prototypes: K },
      targets(centers.ibot, rows),
    );
    centerAfter(centers.ibot, rows);
    parts.ibot = globalMean(parallel, r.loss, spread ? imagesWithMasks(masks, images, P) : 1, r.grad).mean;
    for (let i = 0; i < r.grad.length; i++) grads.ibot[i] = w.ibot * r.grad[i]!;
  }
  if (w.koleo > 0 && B >= 2) {
    // per global view, as DINOv2 (the nearest neighbour is searched within one view's batch, on each rank)
    for (let v = 0; v < 2; v++) {
      const x = student.embedding.subarray(v * B * D, (v + 1) * B * D);
      const r = ops.koleoLoss(x, B, D);
      parts.koleo += globalMean(parallel, r.loss, B, r.grad).mean / 2;
      for (let i = 0; i < r.grad.length; i++) grads.embedding[v * B * D + i] = (w.koleo / 2) * r.grad[i]!;
    }
  }
  return { loss: w.dino * parts.dino + w.ibot * parts.ibot + w.koleo * parts.koleo, parts, grads };
}
