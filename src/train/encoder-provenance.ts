/**
 * Where a run's encoders' weights come from, so a report never presents random features as a
 * pretrained model's: built-in encoders start from a seed; an ONNX file's sidecar names its
 * weights (random or a checkpoint); an ONNX file without one is taken as given (unknown).
 * Encoders the run trains end to end (clip-finetune, supervised-finetune) are trained either way.
 */
import { readEncoderSidecar } from '../encoders/sidecar.js';
import type { TrainConfig } from './config.js';

export type Provenance = 'random' | 'pretrained' | 'unknown';

export function weightsProvenance(model: string): Provenance {
  if (model.startsWith('builtin:')) return 'random';
  const weights = readEncoderSidecar(model)?.source?.weights;
  if (typeof weights !== 'string') return 'unknown';
  return /^random/i.test(weights) ? 'random' : 'pretrained';
}

/** Which encoders the mode trains end to end. */
function trainedEndToEnd(config: TrainConfig): { image: boolean; text: boolean } {
  if (config.mode === 'clip-finetune') return { image: true, text: config.finetune?.trainText ?? true };
  if (config.mode === 'supervised-finetune') return { image: true, text: false };
  return { image: false, text: false };
}

/** A report note when an encoder whose features the results rest on was neither pretrained nor trained here; undefined otherwise. */
export function untrainedEncoderNote(config: TrainConfig, usesText: boolean): string | undefined {
  const trained = trainedEndToEnd(config);
  const untrained = [
    !trained.image && weightsProvenance(config.image.model) === 'random' ? `image encoder ${config.image.model}` : undefined,
    usesText && !trained.text && weightsProvenance(config.text.model) === 'random' ? `text encoder ${config.text.model}` : undefined,
  ].filter((x): x is string => x !== undefined);
  if (untrained.length === 0) return undefined;
  return (
    `Untrained encoders: the ${untrained.join(' and the ')} ${untrained.length > 1 ? 'are' : 'is'} randomly initialised and ${untrained.length > 1 ? 'were' : 'was'} not trained end to end in this run; ` +
    'the results measure what the trained heads make of random features, not a pretrained model. Use a pretrained encoder (image.model / text.model with its sidecar) or an end-to-end mode.'
  );
}
