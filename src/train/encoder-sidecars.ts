/**
 * A run's config completed from its encoders' sidecars (src/encoders/sidecar.ts), before the run
 * records config.json: image input/output names, pooling and per-channel normalisation; text
 * input/output names, pooling, tokenizer and maximum length. What the sidecar says is then part
 * of the run's record and hash. A setting the user gave that contradicts the sidecar is an error
 * naming both, never silently overridden.
 */
import { dirname, resolve } from 'node:path';
import { readEncoderSidecar, type EncoderSidecar } from '../encoders/sidecar.js';
import { TrainConfigError, type TrainConfig } from './config.js';

function sidecarOf(model: string, kind: 'image' | 'text', key: string): EncoderSidecar | undefined {
  if (model.startsWith('builtin:')) return undefined;
  const sidecar = readEncoderSidecar(model);
  if (sidecar && sidecar.kind !== kind)
    throw new TrainConfigError(`config key ${key}: ${sidecar.path} describes a ${sidecar.kind} encoder, not a ${kind} encoder`, { key });
  return sidecar;
}

/** `given` unless unset (undefined, or the schema default `fallback`); a different explicit value is an error. */
function agree<T>(key: string, given: T | undefined, fromSidecar: T, path: string, fallback?: T): T {
  if (given === undefined || given === fallback || given === fromSidecar) return fromSidecar;
  throw new TrainConfigError(
    `config key ${key} is ${JSON.stringify(given)} but ${path} says ${JSON.stringify(fromSidecar)}; remove the key or fix the sidecar`,
    { key },
  );
}

export function withEncoderSidecars(config: TrainConfig): TrainConfig {
  let { image, text } = config;
  const imageSidecar = sidecarOf(image.model, 'image', 'image.model');
  if (imageSidecar?.kind === 'image') {
    const p = imageSidecar.path;
    image = {
      ...image,
      input: agree('image.input', image.input, imageSidecar.input, p),
      output: agree('image.output', image.output, imageSidecar.output, p),
      pooling: agree('image.pooling', image.pooling, imageSidecar.pooling, p, 'none'),
      encoderInput: { sidecar: p, channels: imageSidecar.channels, mean: imageSidecar.mean, std: imageSidecar.std },
    };
  }
  const textSidecar =
    config.mode === 'supervised' || config.mode === 'supervised-finetune' ? undefined : sidecarOf(text.model, 'text', 'text.model');
  if (textSidecar?.kind === 'text') {
    const p = textSidecar.path;
    const { inputIds, attentionMask, tokenTypeIds } = textSidecar.inputs;
    text = {
      ...text,
      tokenizer: text.tokenizer === 'build' ? resolve(dirname(p), textSidecar.tokenizer) : text.tokenizer,
      // the model's position table bounds the length; a shorter configured length is kept
      maxLength: Math.min(text.maxLength, textSidecar.maxLength),
      pooling: agree('text.pooling', text.pooling, textSidecar.pooling, p, 'none'),
      output: agree('text.output', text.output, textSidecar.output, p),
      inputIds: agree('text.inputIds', text.inputIds, inputIds, p),
      ...(attentionMask ? { attentionMask: agree('text.attentionMask', text.attentionMask, attentionMask, p) } : {}),
      ...(tokenTypeIds ? { tokenTypeIds: agree('text.tokenTypeIds', text.tokenTypeIds, tokenTypeIds, p) } : {}),
    };
  }
  return image === config.image && text === config.text ? config : { ...config, image, text };
}
