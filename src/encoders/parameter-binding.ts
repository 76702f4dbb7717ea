import { loadModel, parseModel } from '../onnx/model-io.js';
import { type ParameterLayout, listParameters, parameterFeeds, parametersAsInputs } from '../onnx/parameters.js';
import type { ModelProto } from '../onnx/proto.js';
import type { ModelSource } from './model-source.js';
import type { SessionInfo, SessionRunner } from './session-runner.js';

/**
 * Parameters fed from one flat Float32Array instead of the model's initializers: what a trainer
 * uses to run an encoder whose weights an optimizer updates in place.
 */
export interface EncoderParameters {
  /** The flat buffer (an ordinary ArrayBuffer; onnxruntime rejects SharedArrayBuffer views). */
  values: Float32Array;
  /** Where each parameter lives in `values` (default: listParameters(model)). */
  layout?: ParameterLayout;
}

export interface ParameterBinding {
  layout: ParameterLayout;
  values: Float32Array;
  names: ReadonlySet<string>;
}

function asModelProto(source: ModelSource): ModelProto {
  if (typeof source === 'string') return loadModel(source);
  if (source instanceof Uint8Array) return parseModel(source);
  return source;
}

/** The model rewritten with parameters as graph inputs, and the binding to feed them. */
export function bindParameters(source: ModelSource, p: EncoderParameters): { model: ModelProto; binding: ParameterBinding } {
  const proto = asModelProto(source);
  const layout = p.layout ?? listParameters(proto);
  parameterFeeds(layout, p.values); // validates size and buffer kind before any session exists
  return {
    model: parametersAsInputs(proto, layout),
    binding: { layout, values: p.values, names: new Set(layout.parameters.map((x) => x.name)) },
  };
}

/**
 * Hands the parameter views to the runner. In process the session reads the caller's buffer
 * directly (in-place updates are seen by the next run, no copy); a worker gets a copy, so call
 * this again after each update.
 */
export function pushParameters(runner: SessionRunner, binding: ParameterBinding): Promise<void> {
  return runner.setStaticFeeds(parameterFeeds(binding.layout, binding.values));
}

/** Session info as input detection should see it: the parameter inputs left out. */
export function withoutParameterInputs(info: SessionInfo, binding: ParameterBinding | undefined): SessionInfo {
  if (!binding) return info;
  return { ...info, inputs: info.inputs.filter((m) => !binding.names.has(m.name)) };
}
