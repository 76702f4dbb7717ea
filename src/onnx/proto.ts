/**
 * The one place that imports onnx-proto (a CommonJS protobufjs bundle built from ONNX 1.10).
 * Everything else in radlearn uses the aliases below, so swapping the proto package later
 * touches this file only.
 */
import onnxProto from 'onnx-proto';

export const onnx = onnxProto.onnx;

export type ModelProto = onnxProto.onnx.ModelProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;

/** IR version 8 and opset 17: what onnxruntime-node 1.30 runs and what torch.onnx.export emits by default. */
export const IR_VERSION = 8;
export const OPSET_VERSION = 17;

/** Element types radlearn builds graphs with, named as onnxruntime-common names them. */
export type DType = 'float32' | 'float64' | 'float16' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

const dtypeCodes: Record<DType, number> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
};

export function dtypeToOnnx(dtype: DType): number {
  return dtypeCodes[dtype];
}

export function onnxToDtype(code: number): DType | undefined {
  for (const [name, value] of Object.entries(dtypeCodes)) if (value === code) return name as DType;
  return undefined;
}
