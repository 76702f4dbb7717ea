import { type AttributeProto, type TensorProto, onnx } from './proto.js';

const T = onnx.AttributeProto.AttributeType;

/**
 * Typed attribute values. ONNX distinguishes INT from FLOAT, which a plain JS number cannot,
 * so every attribute states its kind.
 */
export type Attr =
  | { int: number }
  | { float: number }
  | { ints: readonly number[] }
  | { floats: readonly number[] }
  | { string: string }
  | { tensor: TensorProto };

export const attr = {
  int: (v: number): Attr => ({ int: v }),
  float: (v: number): Attr => ({ float: v }),
  ints: (v: readonly number[]): Attr => ({ ints: v }),
  floats: (v: readonly number[]): Attr => ({ floats: v }),
  string: (v: string): Attr => ({ string: v }),
  tensor: (v: TensorProto): Attr => ({ tensor: v }),
};

export function toAttributeProto(name: string, a: Attr): AttributeProto {
  if ('int' in a) return onnx.AttributeProto.create({ name, type: T.INT, i: a.int });
  if ('float' in a) return onnx.AttributeProto.create({ name, type: T.FLOAT, f: a.float });
  if ('ints' in a) return onnx.AttributeProto.create({ name, type: T.INTS, ints: [...a.ints] });
  if ('floats' in a) return onnx.AttributeProto.create({ name, type: T.FLOATS, floats: [...a.floats] });
  if ('string' in a) return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(a.string) });
  return onnx.AttributeProto.create({ name, type: T.TENSOR, t: a.tensor });
}
