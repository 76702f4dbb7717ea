import type * as ort from 'onnxruntime-node';
import { differentiate, type TrainingGraph } from '../../src/onnx/autodiff/differentiate.js';
import { trainingFeeds, trainingGraphIo } from '../../src/onnx/autodiff/training-io.js';
import { buildResNetEncoder, type ResNetEncoderConfig } from '../../src/onnx/models/resnet.js';
import { readParameters } from '../../src/onnx/parameters.js';

/**
 * A built-in ResNet's training graph with every feed it needs: the model's own parameters, a
 * smooth [batch, 1, size, size] image and a constant upstream gradient of the embedding.
 */
export function resnetTrainingRun(
  config: ResNetEncoderConfig,
  batch: number,
  size: number,
  upstream: number,
): { training: TrainingGraph; feeds: Record<string, ort.Tensor> } {
  const built = buildResNetEncoder(config);
  const training = differentiate(built.model, { outputs: ['embedding'] });
  const image = Float32Array.from({ length: batch * size * size }, (_, i) => Math.cos(i / 7));
  const feeds = trainingFeeds(
    trainingGraphIo(training),
    readParameters(built.model, training.layout),
    { image: { type: 'float32', data: image, dims: [batch, 1, size, size] } },
    { embedding: { type: 'float32', data: new Float32Array(batch * built.embedDim).fill(upstream), dims: [batch, built.embedDim] } },
  );
  return { training, feeds };
}
