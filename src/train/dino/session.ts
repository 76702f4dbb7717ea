/**
 * Mode `dino`'s set-up and wrap-up around the shared loop: the training images (pixels in
 * [0, 1]), the ViT student/teacher model (a second graph for local crops smaller than
 * image.size); after training dino-summary.json and, unless interrupted, runs/<name>/encoder.onnx,
 * the teacher encoder without head for the frozen-feature modes (supervised, distill, study).
 */
import { join } from 'node:path';
import type { TrainConfig } from '../config.js';
import { checkTrainData } from '../data-check.js';
import { loadTrainDataset, TrainDataError } from '../dataset.js';
import { cachedRows } from '../finetune/image-rows.js';
import type { TrainOps } from '../ops.js';
import type { RunFolder } from '../run-folder.js';
import type { TrainEvent } from '../events.js';
import { stageEmitter, type ModeSession } from '../mode-session.js';
import { dinoSchema } from './config.js';
import { resolveLocalSize } from './local-size.js';
import { createDinoModel, type DinoModel } from './model.js';
import { plateauWindowSteps, writeDinoSummary } from './summary.js';
import { DinoTask } from './task.js';

export async function openDinoSession(
  config: TrainConfig,
  ops: TrainOps,
  folder: RunFolder,
  emit: (e: TrainEvent) => void,
): Promise<ModeSession> {
  const stage = stageEmitter(emit);
  const dino = dinoSchema.parse(config.dino ?? {});
  const size = config.image.size;
  const localSize = resolveLocalSize(dino, size);
  stage('data', `loading ${config.data.manifest}`);
  const loaded = await loadTrainDataset(config, false, (message) => stage('warning', message));
  // DINO reads only the training rows' images, so only those are checked (and dropped when unusable)
  const { dataset } = await checkTrainData(config, loaded, { runDir: folder.runDir, emit, rows: loaded.indices('train') });
  const trainRows = dataset.indices('train');
  const B = config.batchSize;
  if (trainRows.length < B)
    throw new TrainDataError(`mode dino needs at least batchSize (${B}) training rows, the train split has ${trainRows.length}`);
  stage('images', `preprocessing ${trainRows.length} training images`);
  // pixels in [0, 1], read a batch at a time: the augmentation normalises with image.mean / image.std after its intensity jitter
  const images = await cachedRows(
    { ...config, image: { ...config.image, mean: 0, std: 1 } },
    Array.from(trainRows, (r) => dataset.imagePaths[r]!),
  );

  const L = dino.crops.localCount;
  // a second graph only when local crops exist and are smaller; otherwise one session
  const ownLocalGraph = L > 0 && localSize !== size;
  const locals =
    L === 0 ? 'no local crops' : `${L} local crops at ${localSize} px${ownLocalGraph ? ' (own graph, resampled positions)' : ''}`;
  stage(
    'model',
    `ViT ${dino.vit.dim}x${dino.vit.depth} at ${size} px, ${locals}, head ${dino.head.hidden}/${dino.head.bottleneck}/${dino.head.prototypes}`,
  );
  let model: DinoModel;
  try {
    model = await createDinoModel(dino, size, config.seed, ownLocalGraph ? { localSize } : {});
  } catch (error) {
    images.close();
    throw error;
  }
  let task: DinoTask;
  try {
    task = new DinoTask({ config, dino, localSize, model, trainRows, images }, ops);
  } catch (error) {
    images.close();
    await model.dispose();
    throw error;
  }
  return {
    task,
    async finish(outcome) {
      if (dino.loss.dino > 0)
        await writeDinoSummary(folder.runDir, folder.metricsPath, dino.head.prototypes, plateauWindowSteps(config.steps), stage);
      if (!outcome.interrupted) {
        const encoderPath = join(folder.runDir, 'encoder.onnx');
        task.exportTeacher(encoderPath);
        stage('export', `teacher encoder written to ${encoderPath} (use it as image.model in the supervised/distill modes or the study)`);
      }
      return { evaluations: [] };
    },
    release: async () => {
      images.close();
      await model.dispose();
    },
  };
}
