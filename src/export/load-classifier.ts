/**
 * loadClassifier: a classifier.onnx read back with what its metadata says (labels, input
 * recipe, decision thresholds, version, config hash) and an onnxruntime session to run it. A
 * model whose radlearn metadata is missing or malformed is refused with ERR_CLASSIFIER_METADATA
 * naming the key and field, so a model is never run on guessed preprocessing.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { createOrtSession } from '../device/session-factory.js';
import { MissingFileError, ShapeError } from '../errors.js';
import { parseModel } from '../onnx/model-io.js';
import {
  CONFIG_HASH_METADATA_KEY,
  LABELS_METADATA_KEY,
  THRESHOLDS_METADATA_KEY,
  VERSION_METADATA_KEY,
  type ClassifierThresholds,
} from './classifier.js';
import { ClassifierMetadataError, PREPROCESSING_METADATA_KEY, parsePreprocessing, type ClassifierPreprocessing } from './preprocessing.js';

export interface ClassifierMetadata {
  labels: string[];
  preprocessing: ClassifierPreprocessing;
  /** Absent when the run had no validation split to choose them on. */
  thresholds?: ClassifierThresholds;
  version?: string;
  configHash?: string;
}

export interface LoadedClassifier extends ClassifierMetadata {
  path: string;
  /** float32 [n, channels, H, W] (preprocessForClassifier's output, concatenated) → probabilities [n, labels] row-major. */
  predict(images: Float32Array): Promise<Float32Array>;
  release(): Promise<void>;
}

/** The radlearn metadata of a classifier model's bytes; `where` names it in errors. */
export function readClassifierMetadata(bytes: Uint8Array, where: string): ClassifierMetadata {
  const props = new Map((parseModel(bytes, where).metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
  const json = (key: string, required: boolean): unknown => {
    const text = props.get(key);
    if (text === undefined) {
      if (!required) return undefined;
      throw new ClassifierMetadataError(`${where}: no metadata ${key}; it was not exported by radlearn with its preprocessing`, {
        path: where,
        key,
      });
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new ClassifierMetadataError(`${where}: metadata ${key} is not valid JSON`, { path: where, key });
    }
  };
  const labels = json(LABELS_METADATA_KEY, true);
  if (!Array.isArray(labels) || labels.length === 0 || !labels.every((l) => typeof l === 'string'))
    throw new ClassifierMetadataError(`${where}: metadata ${LABELS_METADATA_KEY}: expected a non-empty JSON array of label names`, {
      path: where,
    });
  const preprocessing = parsePreprocessing(json(PREPROCESSING_METADATA_KEY, true), where);
  const thresholds = parseThresholds(json(THRESHOLDS_METADATA_KEY, false), labels as string[], where);
  const version = props.get(VERSION_METADATA_KEY);
  const configHash = props.get(CONFIG_HASH_METADATA_KEY);
  return {
    labels: labels as string[],
    preprocessing,
    ...(thresholds ? { thresholds } : {}),
    ...(version !== undefined ? { version } : {}),
    ...(configHash !== undefined ? { configHash } : {}),
  };
}

function parseThresholds(value: unknown, labels: string[], where: string): ClassifierThresholds | undefined {
  if (value === undefined) return undefined;
  const bad = (field: string, expected: string): never => {
    throw new ClassifierMetadataError(`${where}: metadata ${THRESHOLDS_METADATA_KEY} field ${field}: expected ${expected}`, {
      path: where,
      field,
    });
  };
  if (typeof value !== 'object' || value === null) return bad('(root)', 'a JSON object');
  const t = value as Record<string, unknown>;
  if (t.metric !== 'f1' && t.metric !== 'mcc' && t.metric !== 'youden') bad('metric', 'f1, mcc or youden');
  if (t.chosenOn !== 'validation') bad('chosenOn', "'validation'");
  const perLabel = t.perLabel;
  if (typeof perLabel !== 'object' || perLabel === null || Array.isArray(perLabel)) return bad('perLabel', 'an object by label name');
  const entries = perLabel as Record<string, unknown>;
  for (const label of labels) {
    const v = entries[label];
    if (v !== null && (typeof v !== 'number' || !Number.isFinite(v))) bad(`perLabel.${label}`, 'a finite number or null');
  }
  return { metric: t.metric as ClassifierThresholds['metric'], chosenOn: 'validation', perLabel: entries as Record<string, number | null> };
}

export async function loadClassifier(path: string): Promise<LoadedClassifier> {
  const full = resolve(path);
  const bytes = await readFile(full).catch(() => {
    throw new MissingFileError(full, 'classifier model');
  });
  return openClassifier(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), full);
}

/** A classifier model's bytes (a file's, or a model composed in memory) opened for prediction; `where` names it. */
export async function openClassifier(model: Uint8Array, where: string): Promise<LoadedClassifier> {
  const metadata = readClassifierMetadata(model, where);
  const session = await createOrtSession(model, { label: where });
  const { inputName, channels, height, width } = metadata.preprocessing;
  const per = channels * height * width;
  return {
    path: where,
    ...metadata,
    async predict(images: Float32Array): Promise<Float32Array> {
      if (images.length === 0 || images.length % per !== 0)
        throw new ShapeError(`${where}: predict takes float32 [n, ${channels}, ${height}, ${width}]; got ${images.length} values`, {
          values: images.length,
        });
      const n = images.length / per;
      const out = await session.run({ [inputName]: new ort.Tensor('float32', images, [n, channels, height, width]) });
      return out.probabilities!.data as Float32Array;
    },
    release: () => session.release(),
  };
}
