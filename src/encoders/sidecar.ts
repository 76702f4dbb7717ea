/**
 * The sidecar an exported encoder carries: `<name>.radlearn.json` beside `<name>.onnx`, written
 * by scripts/export-encoder.py. It says what the ONNX file alone does not: image channels and
 * the per-channel mean/std the model was trained with, its input and output names, pooling, and
 * for text the tokenizer and maximum length. radlearn reads it when image.model / text.model
 * names the model, so a PyTorch encoder trains without hand edits.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { RadlearnError } from '../errors.js';

export class EncoderSidecarError extends RadlearnError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('ERR_ENCODER_SIDECAR', message, details);
  }
}

const pooling = z.enum(['none', 'cls', 'mean']);
const common = {
  format: z.literal('radlearn-encoder'),
  version: z.literal(1),
  model: z.string().min(1),
  source: z.record(z.string(), z.unknown()).optional(),
  output: z.string().min(1),
  pooling: pooling.default('none'),
  dim: z.number().int().positive().optional(),
};

const imageSidecar = z.strictObject({
  ...common,
  kind: z.literal('image'),
  input: z.string().min(1),
  layout: z.literal('NCHW').default('NCHW'),
  channels: z.union([z.literal(1), z.literal(3)]),
  size: z.number().int().positive().nullable().default(null),
  mean: z.array(z.number()).min(1),
  std: z.array(z.number().positive()).min(1),
});

const textSidecar = z.strictObject({
  ...common,
  kind: z.literal('text'),
  inputs: z.strictObject({
    inputIds: z.string().min(1),
    attentionMask: z.string().min(1).optional(),
    tokenTypeIds: z.string().min(1).optional(),
  }),
  tokenizer: z.string().min(1),
  maxLength: z.number().int().min(4),
});

export type ImageEncoderSidecar = z.infer<typeof imageSidecar> & { path: string };
export type TextEncoderSidecar = z.infer<typeof textSidecar> & { path: string };
export type EncoderSidecar = ImageEncoderSidecar | TextEncoderSidecar;

/** `<dir>/<name>.radlearn.json` for `<dir>/<name>.onnx`. */
export function sidecarPathOf(modelPath: string): string {
  return resolve(modelPath).replace(/\.onnx$/i, '') + '.radlearn.json';
}

/** The sidecar beside an ONNX model, or undefined when there is none; a malformed one is an EncoderSidecarError naming the field. */
export function readEncoderSidecar(modelPath: string): EncoderSidecar | undefined {
  const path = sidecarPathOf(modelPath);
  if (!existsSync(path)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new EncoderSidecarError(`${path}: not valid JSON (${(error as Error).message})`, { path });
  }
  const kind = (raw as { kind?: unknown } | null)?.kind;
  const schema = kind === 'image' ? imageSidecar : kind === 'text' ? textSidecar : undefined;
  if (!schema) throw new EncoderSidecarError(`${path}: field kind: expected 'image' or 'text', got ${JSON.stringify(kind)}`, { path });
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new EncoderSidecarError(`${path}: field ${issue.path.join('.') || '(root)'}: ${issue.message}`, {
      path,
      field: issue.path.join('.'),
    });
  }
  const sidecar = { ...parsed.data, path } as EncoderSidecar;
  if (sidecar.kind === 'image') {
    for (const key of ['mean', 'std'] as const)
      if (sidecar[key].length !== sidecar.channels)
        throw new EncoderSidecarError(`${path}: field ${key}: ${sidecar[key].length} values for ${sidecar.channels} channel(s)`, {
          path,
          field: key,
        });
  } else if (!existsSync(resolve(dirname(path), sidecar.tokenizer))) {
    throw new EncoderSidecarError(`${path}: field tokenizer: ${resolve(dirname(path), sidecar.tokenizer)} does not exist`, {
      path,
      field: 'tokenizer',
    });
  }
  return sidecar;
}
