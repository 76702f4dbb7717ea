/**
 * Integrity of a checkpoint's tensors file. At save time the state JSON records the SHA-256 and
 * size of the whole safetensors file (so any changed byte, header and metadata included, is
 * caught) and the dtype, shape and SHA-256 of every tensor (so a damaged file names the tensor).
 * Verification decodes the same bytes it hashed: what is checked is what gets loaded.
 */
import { createHash } from 'node:crypto';
import type { CheckpointRejection } from './errors.js';
import { decodeSafetensors, encodeSafetensors, type SafetensorsData, type SafetensorsFile, type SafetensorsTensor } from './safetensors.js';

export interface TensorDigest {
  dtype: string;
  shape: number[];
  sha256: string;
}

export interface TensorsIntegrity {
  /** Size and SHA-256 of the whole safetensors file. */
  bytes: number;
  sha256: string;
  tensors: Record<string, TensorDigest>;
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function dataBytes(data: SafetensorsData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** The safetensors bytes to write and the integrity record the state JSON keeps for them. */
export function encodeWithIntegrity(
  tensors: Record<string, SafetensorsTensor>,
  metadata: Record<string, string>,
): { bytes: Uint8Array; integrity: TensorsIntegrity } {
  const bytes = encodeSafetensors(tensors, metadata);
  const digests: Record<string, TensorDigest> = {};
  for (const [name, t] of Object.entries(tensors))
    digests[name] = { dtype: t.dtype, shape: [...t.shape], sha256: sha256Hex(dataBytes(t.data)) };
  return { bytes, integrity: { bytes: bytes.length, sha256: sha256Hex(bytes), tensors: digests } };
}

const isHex64 = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The integrity record of a state JSON, or why it is not one. */
export function parseIntegrity(value: unknown): TensorsIntegrity | string {
  if (!isRecord(value)) return 'has no "integrity" record';
  if (!Number.isSafeInteger(value.bytes) || !isHex64(value.sha256)) return '"integrity" lacks the file size or SHA-256';
  if (!isRecord(value.tensors)) return '"integrity.tensors" is not an object';
  for (const [name, t] of Object.entries(value.tensors)) {
    if (
      !isRecord(t) ||
      typeof t.dtype !== 'string' ||
      !Array.isArray(t.shape) ||
      !t.shape.every(Number.isSafeInteger) ||
      !isHex64(t.sha256)
    )
      return `"integrity.tensors.${name}" is malformed`;
  }
  return value as unknown as TensorsIntegrity;
}

export type VerifiedTensors = { ok: true; file: SafetensorsFile } | { ok: false; rejection: CheckpointRejection };

/** Checks `bytes` (the file at `path`) against its integrity record; on damage, names the part. */
export function verifyTensors(bytes: Uint8Array, integrity: TensorsIntegrity, path: string): VerifiedTensors {
  const reject = (reason: string, extra: Partial<CheckpointRejection> = {}): VerifiedTensors => ({
    ok: false,
    rejection: { path, reason, ...extra },
  });
  if (bytes.length !== integrity.bytes) {
    return reject(
      `has ${bytes.length} bytes, the checkpoint recorded ${integrity.bytes} (${bytes.length < integrity.bytes ? 'truncated' : 'extended'})`,
      { part: 'size', expected: String(integrity.bytes), found: String(bytes.length) },
    );
  }
  const fileDigest = sha256Hex(bytes);
  let file: SafetensorsFile;
  try {
    file = decodeSafetensors(bytes, path);
  } catch (error) {
    const message = (error as Error).message;
    const detail = message.startsWith(`${path}: `) ? message.slice(path.length + 2) : message;
    return reject(`header is damaged: ${detail}`, { part: 'header', expected: integrity.sha256, found: fileDigest });
  }
  const recorded = Object.keys(integrity.tensors);
  for (const name of file.tensors.keys())
    if (!Object.hasOwn(integrity.tensors, name)) return reject(`holds tensor ${name}, which the checkpoint did not record`, { part: name });
  for (const name of recorded) {
    const t = file.tensors.get(name);
    const want = integrity.tensors[name]!;
    if (!t) return reject(`tensor ${name} is missing`, { part: name });
    if (t.dtype !== want.dtype || JSON.stringify(t.shape) !== JSON.stringify(want.shape)) {
      return reject(`tensor ${name} is ${t.dtype} ${JSON.stringify(t.shape)}, recorded ${want.dtype} ${JSON.stringify(want.shape)}`, {
        part: name,
        expected: `${want.dtype} ${JSON.stringify(want.shape)}`,
        found: `${t.dtype} ${JSON.stringify(t.shape)}`,
      });
    }
    const found = sha256Hex(dataBytes(t.data));
    if (found !== want.sha256)
      return reject(`tensor ${name}: data SHA-256 is ${found}, recorded ${want.sha256}`, { part: name, expected: want.sha256, found });
  }
  if (fileDigest !== integrity.sha256)
    return reject(`header or metadata changed: file SHA-256 is ${fileDigest}, recorded ${integrity.sha256}`, {
      part: 'header',
      expected: integrity.sha256,
      found: fileDigest,
    });
  return { ok: true, file };
}
