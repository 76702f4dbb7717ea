/**
 * A model exported from PyTorch in training mode (torch.onnx.TrainingMode.TRAINING) carries
 * BatchNormalization with training_mode = 1 (batch statistics, extra running-stat outputs) and
 * Dropout with a training_mode input: it is neither the encoder users trained nor one whose
 * running statistics radlearn can keep. Such a model is refused, naming the nodes and the
 * export call that gives the form radlearn trains (eval mode, BatchNorm kept unfolded).
 */
import { RadlearnError } from '../errors.js';
import type { ModelProto } from './proto.js';

export class ModelFormError extends RadlearnError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('ERR_MODEL_TRAINING_MODE', message, details);
  }
}

export const EVAL_EXPORT_CALL =
  'python3 scripts/export-encoder.py ... (every module in eval mode, torch.onnx.export(..., opset_version=17, ' +
  'training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False, export_params=True); TrainingMode.EVAL would fold ' +
  'BatchNorm into the convolutions and rename their parameters, and it also writes the sidecar)';

/** The nodes that make a model a training-mode export (empty for an inference-form model). */
export function trainingModeNodes(model: ModelProto): string[] {
  const found: string[] = [];
  for (const node of model.graph?.node ?? []) {
    const label = `${node.opType} ${node.name || (node.output ?? [])[0] || '(unnamed)'}`;
    if (node.opType === 'BatchNormalization') {
      const training = (node.attribute ?? []).find((a) => a.name === 'training_mode');
      if (Number(training?.i ?? 0) === 1 || (node.output ?? []).filter(Boolean).length > 1) found.push(label);
    } else if (node.opType === 'Dropout' && (node.input ?? [])[2]) found.push(label);
  }
  return found;
}

/** Throws ModelFormError when the model was exported in training mode; `where` names it. */
export function checkInferenceForm(model: ModelProto, where: string): void {
  const nodes = trainingModeNodes(model);
  if (nodes.length === 0) return;
  throw new ModelFormError(
    `${where} was exported in training mode (${nodes.length} node(s) in training form: ${nodes.slice(0, 3).join(', ')}${nodes.length > 3 ? ', ...' : ''}): ` +
      `its BatchNorm layers would use batch statistics and lose their running statistics. Export it again in eval mode: ${EVAL_EXPORT_CALL}`,
    { path: where, nodes: nodes.slice(0, 20) },
  );
}
