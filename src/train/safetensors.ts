/**
 * The safetensors format (Hugging Face), written and read without dependencies:
 *   bytes 0..8   N, the header length, unsigned 64-bit little-endian
 *   bytes 8..8+N a UTF-8 JSON object: { name: { dtype, shape, data_offsets: [begin, end] }, ...,
 *                "__metadata__"?: { string: string } }; may be padded with spaces
 *   the rest     the tensors' raw little-endian bytes; offsets are relative to this block and the
 *                tensors tile it exactly (no holes, no overlap)
 * The writer pads the header with spaces so the data block starts 8-byte aligned.
 */
import { readFile } from 'node:fs/promises';
import { MissingFileError, RadlearnError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';

export type SafetensorsDtype = 'F64' | 'F32' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'U16' | 'U32' | 'F16' | 'BF16' | 'BOOL';
export type SafetensorsData =
  Float64Array | Float32Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array | Uint32Array;

export interface SafetensorsTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: SafetensorsData;
}

export interface SafetensorsFile {
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

export class SafetensorsError extends RadlearnError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('ERR_SAFETENSORS', message, details);
  }
}

const BYTES: Record<SafetensorsDtype, number> = {
  F64: 8,
  F32: 4,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  U16: 2,
  U32: 4,
  F16: 2,
  BF16: 2,
  BOOL: 1,
};

function dtypeOfArray(data: SafetensorsData): SafetensorsDtype {
  if (data instanceof Float64Array) return 'F64';
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof BigInt64Array) return 'I64';
  if (data instanceof Int32Array) return 'I32';
  if (data instanceof Int16Array) return 'I16';
  if (data instanceof Int8Array) return 'I8';
  if (data instanceof Uint16Array) return 'U16';
  if (data instanceof Uint32Array) return 'U32';
  return 'U8';
}

function makeArray(dtype: SafetensorsDtype, bytes: Uint8Array): SafetensorsData {
  // copy into a fresh, aligned buffer: the file's data block may sit at any offset
  // (a copying constructor, not slice(): Buffer.slice shares memory, even the whole pool)
  const buffer = new Uint8Array(bytes).buffer;
  switch (dtype) {
    case 'F64':
      return new Float64Array(buffer);
    case 'F32':
      return new Float32Array(buffer);
    case 'I64':
      return new BigInt64Array(buffer);
    case 'I32':
      return new Int32Array(buffer);
    case 'I16':
      return new Int16Array(buffer);
    case 'I8':
      return new Int8Array(buffer);
    case 'U16':
    case 'F16':
    case 'BF16':
      return new Uint16Array(buffer);
    case 'U32':
      return new Uint32Array(buffer);
    default:
      return new Uint8Array(buffer);
  }
}

/** A tensor from a typed array; the dtype follows the array (Uint16Array → U16; pass dtype for F16/BF16). */
export function tensor(data: SafetensorsData, shape: number[], dtype: SafetensorsDtype = dtypeOfArray(data)): SafetensorsTensor {
  return { dtype, shape, data };
}

export function encodeSafetensors(
  tensors: Map<string, SafetensorsTensor> | Record<string, SafetensorsTensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === '__metadata__') throw new SafetensorsError('a tensor may not be named __metadata__');
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length)
      throw new SafetensorsError(`tensor ${name}: shape ${JSON.stringify(t.shape)} needs ${count} values, data has ${t.data.length}`, {
        name,
      });
    if (BYTES[t.dtype] !== t.data.BYTES_PER_ELEMENT)
      throw new SafetensorsError(`tensor ${name}: dtype ${t.dtype} does not match a ${t.data.constructor.name}`, { name });
    const size = t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  const raw = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - ((8 + raw) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const [, t] of entries) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors bytes'): SafetensorsFile {
  if (bytes.length < 8) throw new SafetensorsError(`${source}: ${bytes.length} bytes is shorter than the 8-byte header length`, { source });
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8))
    throw new SafetensorsError(`${source}: header length ${n} runs past the end of the ${bytes.length}-byte file`, { source });
  const headerLength = Number(n);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset + 8, headerLength).toString('utf8');
  if (!text.startsWith('{')) throw new SafetensorsError(`${source}: header does not start with '{'`, { source });
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(text) as Record<string, unknown>;
  } catch (cause) {
    throw new SafetensorsError(`${source}: header is not valid JSON (${(cause as Error).message})`, { source });
  }
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  if (
    typeof metadata !== 'object' ||
    metadata === null ||
    Array.isArray(metadata) ||
    Object.values(metadata).some((v) => typeof v !== 'string')
  ) {
    throw new SafetensorsError(`${source}: __metadata__ must be an object of strings`, { source });
  }
  const spans: Array<[number, number, string]> = [];
  const tensors = new Map<string, SafetensorsTensor>();
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new SafetensorsError(`${source}: tensor ${name} is described by ${JSON.stringify(value)}, not an object`, { source, name });
    const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = info.dtype as SafetensorsDtype;
    if (typeof dtype !== 'string' || !Object.hasOwn(BYTES, dtype))
      throw new SafetensorsError(`${source}: tensor ${name} has unsupported dtype ${String(info.dtype)}`, { source, name });
    const shape = info.shape;
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0))
      throw new SafetensorsError(`${source}: tensor ${name} has invalid shape ${JSON.stringify(shape)}`, { source, name });
    const offsets = info.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || offsets.some((d) => !Number.isInteger(d)))
      throw new SafetensorsError(`${source}: tensor ${name} has invalid data_offsets`, { source, name });
    const [begin, end] = offsets as [number, number];
    const expected = (shape as number[]).reduce((a, b) => a * b, 1) * BYTES[dtype];
    if (begin < 0 || end < begin || end > dataLength || end - begin !== expected) {
      throw new SafetensorsError(
        `${source}: tensor ${name} spans bytes [${begin}, ${end}) but shape ${JSON.stringify(shape)} of ${dtype} needs ${expected} bytes within ${dataLength}`,
        { source, name },
      );
    }
    spans.push([begin, end, name]);
    tensors.set(name, { dtype, shape: shape as number[], data: makeArray(dtype, bytes.subarray(dataStart + begin, dataStart + end)) });
  }
  spans.sort((a, b) => a[0] - b[0]);
  let cursor = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== cursor)
      throw new SafetensorsError(`${source}: tensor ${name} starts at ${begin}, expected ${cursor} (holes or overlaps are not allowed)`, {
        source,
        name,
      });
    cursor = end;
  }
  if (cursor !== dataLength) throw new SafetensorsError(`${source}: tensors cover ${cursor} of ${dataLength} data bytes`, { source });
  return { tensors, metadata };
}

export async function writeSafetensors(
  path: string,
  tensors: Map<string, SafetensorsTensor> | Record<string, SafetensorsTensor>,
  metadata: Record<string, string> = {},
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new MissingFileError(path, 'safetensors file');
    throw error;
  }
  return decodeSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
}
