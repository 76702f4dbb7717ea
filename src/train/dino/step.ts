/**
 * The student's half of one DINO step: forward on its views, the losses against the teacher's
 * outputs, and the parameter gradients. With a local graph the global views (size S) and the
 * local views (size s) run through their own sessions; the losses still see all Vs = 2 + L views
 * in view-major order (global then local), and the local session adds its gradient into the
 * global one's buffer, which gives the gradient of the combined loss.
 */
import type { DataParallel } from '../../distributed/data-parallel.js';
import { ShapeError } from '../../errors.js';
import type { TrainOps } from '../ops.js';
import type { DinoConfig } from './config.js';
import { dinoStepLosses, type DinoCenters, type DinoLossOutput } from './losses.js';
import { forwardDino, forwardDinoLocal, type DinoForward, type DinoModel } from './model.js';
import { allStudentViews, type DinoViews } from './views.js';

export interface StudentStepInput {
  ops: TrainOps;
  views: DinoViews;
  /** The teacher's outputs on the 2 unmasked global views. */
  teacher: DinoForward;
  centers: DinoCenters;
  teacherTemperature: number;
  /** This rank's rows (the whole batch in one process). */
  batch: number;
  /** The job's ranks (default: this process alone); the losses are the global batch's (see losses.ts). */
  parallel?: DataParallel;
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/**
 * Writes d(loss)/d(parameters) into `grads` (overwritten) and returns the losses; the centers
 * are updated in place. A non-finite loss returns before the backward pass (the caller stops).
 */
export async function studentStep(
  m: DinoModel,
  cfg: DinoConfig,
  parameters: Float32Array,
  grads: Float32Array,
  input: StudentStepInput,
): Promise<DinoLossOutput> {
  const { views, batch: B } = input;
  const S = m.size;
  const Vs = views.studentViews;
  const L = Vs - 2;
  const G = 2 * B;
  const { embedDim: D, prototypes: K, patches: P } = m;
  const shape = { batch: B, studentViews: Vs, patches: P, prototypes: K, embedDim: D };
  const local = L > 0 ? m.local : undefined;
  const expectedLocal = local ? local.size : S;
  if (L > 0 && views.localSize !== expectedLocal) {
    throw new ShapeError(
      `DINO step: local views are ${views.localSize} px, the student graph for them takes ${expectedLocal} px (dino.crops.localSize)`,
      { localSize: views.localSize, expected: expectedLocal },
    );
  }

  const lossesOf = (out: DinoForward): DinoLossOutput =>
    dinoStepLosses(input.ops, out, input.teacher, views.masks, input.centers, shape, cfg, input.teacherTemperature, input.parallel);

  if (!local) {
    const images = L > 0 ? allStudentViews(views) : views.student;
    const out = await forwardDino(m, parameters, images, Vs * B, S);
    const losses = lossesOf(out);
    if (!Number.isFinite(losses.loss)) return losses;
    await m.session.step({
      parameters,
      gradients: grads,
      outputs: [],
      inputs: { image: { type: 'float32', data: images, dims: [Vs * B, 1, S, S] } },
      outputGrads: {
        embedding: { type: 'float32', data: losses.grads.embedding, dims: [Vs * B, D] },
        dino_logits: { type: 'float32', data: losses.grads.dino, dims: [Vs * B, K] },
        ibot_logits: { type: 'float32', data: losses.grads.ibot, dims: [Vs * B, P, K] },
      },
    });
    return losses;
  }

  const globalOut = await forwardDino(m, parameters, views.student, G, S);
  const localOut = await forwardDinoLocal(local, parameters, views.local, L * B);
  const out: DinoForward = {
    embedding: concat(globalOut.embedding, localOut.embedding),
    dino: concat(globalOut.dino, localOut.dino),
    ibot: globalOut.ibot,
  };
  const losses = lossesOf(out);
  if (!Number.isFinite(losses.loss)) return losses;
  const g = losses.grads;
  await m.session.step({
    parameters,
    gradients: grads,
    outputs: [],
    inputs: { image: { type: 'float32', data: views.student, dims: [G, 1, S, S] } },
    outputGrads: {
      embedding: { type: 'float32', data: g.embedding.subarray(0, G * D), dims: [G, D] },
      dino_logits: { type: 'float32', data: g.dino.subarray(0, G * K), dims: [G, K] },
      ibot_logits: { type: 'float32', data: g.ibot.subarray(0, G * P * K), dims: [G, P, K] },
    },
  });
  await local.session.step({
    parameters,
    gradients: grads,
    outputs: [],
    accumulate: true,
    inputs: { image: { type: 'float32', data: views.local, dims: [L * B, 1, local.size, local.size] } },
    outputGrads: {
      embedding: { type: 'float32', data: g.embedding.subarray(G * D), dims: [L * B, D] },
      dino_logits: { type: 'float32', data: g.dino.subarray(G * K), dims: [L * B, K] },
    },
  });
  return losses;
}
