import type { AttributeProto, NodeProto, TensorProto } from '../proto.js';

/** Typed readers for a node's attributes (protobufjs may hand int64 values over as Long objects). */
type LongLike = number | { toNumber(): number };

function num(v: LongLike | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

function find(node: NodeProto, name: string): AttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}

export function hasAttr(node: NodeProto, name: string): boolean {
  return find(node, name) !== undefined;
}

export function intAttr(node: NodeProto, name: string, fallback: number): number {
  const a = find(node, name);
  return a ? num(a.i as LongLike) : fallback;
}

export function floatAttr(node: NodeProto, name: string, fallback: number): number {
  const a = find(node, name);
  return a ? (a.f ?? fallback) : fallback;
}

export function intsAttr(node: NodeProto, name: string): number[] | undefined {
  const a = find(node, name);
  return a ? (a.ints ?? []).map((v) => num(v as LongLike)) : undefined;
}

export function stringAttr(node: NodeProto, name: string, fallback: string): string {
  const a = find(node, name);
  return a?.s ? new TextDecoder().decode(a.s) : fallback;
}

export function tensorAttr(node: NodeProto, name: string): TensorProto | undefined {
  return find(node, name)?.t ?? undefined;
}
