import { existsSync, readFileSync } from 'node:fs';
import { MissingFileError } from '../errors.js';
import { writeFileAtomicSync } from '../io/atomic.js';
import { OnnxModelError } from './errors.js';
import { type ModelProto, onnx } from './proto.js';

export function serializeModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

export function parseModel(bytes: Uint8Array, where = 'bytes'): ModelProto {
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (cause) {
    throw new OnnxModelError(
      `${where} is not a valid ONNX model (protobuf decode failed: ${(cause as Error).message})`,
      { where },
      { cause },
    );
  }
  if (!model.graph) throw new OnnxModelError(`${where} decodes as protobuf but has no graph; expected an ONNX ModelProto`, { where });
  return model;
}

/** A deep copy (through the wire format), so edits never alias the caller's model. */
export function cloneModel(model: ModelProto): ModelProto {
  return parseModel(serializeModel(model), 'model copy');
}

/** Writes the model atomically: a temporary file in the same folder, then rename. */
export function saveModel(model: ModelProto, path: string): void {
  try {
    writeFileAtomicSync(path, serializeModel(model), { createFolder: false });
  } catch (cause) {
    throw new OnnxModelError(`could not write ONNX model to ${path}: ${(cause as Error).message}`, { path }, { cause });
  }
}

export function loadModel(path: string): ModelProto {
  if (!existsSync(path)) throw new MissingFileError(path, 'ONNX model');
  return parseModel(readFileSync(path), path);
}
