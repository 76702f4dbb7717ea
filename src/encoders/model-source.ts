import { existsSync } from 'node:fs';
import { MissingFileError } from '../errors.js';
import { serializeModel } from '../onnx/model-io.js';
import type { ModelProto } from '../onnx/proto.js';

/** A model as a path on disk, a ModelProto built in memory, or serialized bytes. */
export type ModelSource = string | ModelProto | Uint8Array;

/** What a session is created from: a path (onnxruntime reads it, with any external data) or bytes. */
export type ResolvedModel = { path: string; label: string } | { bytes: Uint8Array; label: string };

/** Offline only: a path must exist locally; nothing is ever fetched. */
export function resolveModel(source: ModelSource, what = 'ONNX model'): ResolvedModel {
  if (typeof source === 'string') {
    if (!existsSync(source)) throw new MissingFileError(source, what);
    return { path: source, label: source };
  }
  if (source instanceof Uint8Array) return { bytes: source, label: `${what} (${source.byteLength} bytes)` };
  const bytes = serializeModel(source);
  return { bytes, label: `${what} ${source.graph?.name ?? ''} (in memory)`.replace('  ', ' ') };
}
