/**
 * Fine-tuned runs are evaluated on their trained encoders: the parameters (live or EMA) written
 * into ordinary inference-form models, opened as encoders, and their features computed (cached
 * by the trained model's bytes, like any frozen encoder's).
 */
import { ImageEncoder } from '../../encoders/image-encoder.js';
import { serializeModel } from '../../onnx/model-io.js';
import type { TrainConfig } from '../config.js';
import { imageEncoderOptions, type ResolvedEncoders } from '../encoders.js';
import type { FrozenFeatures } from '../features.js';
import type { FlatParameters } from '../parameters.js';
import type { EncoderSlot } from './encoder-slot.js';

export interface EvaluationInputs {
  features: FrozenFeatures;
  encoders: ResolvedEncoders;
}

/** The trained image encoder from `buffer`, as the frozen-encoder modes resolve one. */
export async function trainedImageEncoder(
  config: TrainConfig,
  slot: EncoderSlot,
  params: FlatParameters,
  buffer: Float32Array,
): Promise<ResolvedEncoders> {
  const imageModel = slot.trainedModel(params, buffer);
  const imageModelBytes = new Uint8Array(serializeModel(imageModel));
  const image = await ImageEncoder.create(new Uint8Array(imageModelBytes), imageEncoderOptions(config));
  return { imageModel, imageModelBytes, image, dispose: () => image.dispose() };
}
