import { OnnxModelError } from './errors.js';
import { type DType, type TensorProto, dtypeToOnnx, onnx, onnxToDtype } from './proto.js';

/** Typed arrays radlearn stores in initializers and constants. */
export type TensorData = Float32Array | Float64Array | BigInt64Array | Int32Array | Int8Array | Uint8Array;

/** The onnxruntime-common tensor shape: what encoders return and kernels consume, without copies. */
export interface TensorLike<T extends TensorData = TensorData> {
  type: DType;
  data: T;
  dims: readonly number[];
}

export function dtypeOf(data: TensorData): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Int8Array) return 'int8';
  return 'uint8';
}

export function sizeOf(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** A TensorProto holding a copy of `data` as little-endian raw bytes (the compact form ONNX Runtime reads fastest). */
export function makeTensorProto(name: string, data: TensorData, dims: readonly number[], dtype: DType = dtypeOf(data)): TensorProto {
  const bytes = new Uint8Array(data.byteLength);
  bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return onnx.TensorProto.create({ name, dims: [...dims], dataType: dtypeToOnnx(dtype), rawData: bytes });
}

function longToNumber(v: number | { toNumber(): number }): number {
  return typeof v === 'number' ? v : v.toNumber();
}

export function tensorDims(t: TensorProto): number[] {
  return (t.dims ?? []).map((d) => longToNumber(d as number | { toNumber(): number }));
}

/**
 * The values of an initializer as float32 (copy). Reads raw_data or the typed repeated fields,
 * as exporters use either. External data (models > 2 GB) is refused with the tensor's name.
 */
export function readFloat32(t: TensorProto, where = 'model'): Float32Array {
  const name = t.name ?? '(unnamed)';
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new OnnxModelError(
      `initializer ${name} in ${where} stores its data externally; radlearn reads only models with embedded weights (re-export without external data, or below 2 GB)`,
      { name },
    );
  }
  const n = sizeOf(tensorDims(t));
  const dtype = onnxToDtype(t.dataType ?? 0);
  const raw = t.rawData;
  const out = new Float32Array(n);
  if (raw && raw.length > 0) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    if (dtype === 'float32' && raw.length === 4 * n) {
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
      return out;
    }
    if (dtype === 'float64' && raw.length === 8 * n) {
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
      return out;
    }
    throw new OnnxModelError(
      `initializer ${name} in ${where}: raw data of ${raw.length} bytes does not hold ${n} values of ${dtype ?? `type ${t.dataType}`}`,
      { name, dtype, bytes: raw.length, elements: n },
    );
  }
  const typed = dtype === 'float64' ? t.doubleData : t.floatData;
  if (dtype !== 'float32' && dtype !== 'float64') {
    throw new OnnxModelError(`initializer ${name} in ${where} has element type ${dtype ?? t.dataType}, expected float32 or float64`, {
      name,
      dtype,
    });
  }
  if (!typed || typed.length !== n) {
    throw new OnnxModelError(
      `initializer ${name} in ${where} holds ${typed?.length ?? 0} values, its dims ${JSON.stringify(tensorDims(t))} need ${n}`,
      { name },
    );
  }
  for (let i = 0; i < n; i++) out[i] = typed[i]!;
  return out;
}

/** The values of an integer initializer or Constant (shapes, axes, indices) as numbers. */
export function readIntegers(t: TensorProto): number[] {
  const dtype = onnxToDtype(t.dataType ?? 0);
  const n = sizeOf(tensorDims(t));
  const raw = t.rawData;
  if (raw && raw.length > 0) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(dtype === 'int64' ? Number(view.getBigInt64(8 * i, true)) : view.getInt32(4 * i, true));
    return out;
  }
  const src = dtype === 'int64' ? t.int64Data : t.int32Data;
  return (src ?? []).map((v) => longToNumber(v as number | { toNumber(): number }));
}
