/**
 * Kernel argument fuzzing through the public API: every kernel op (kernel-ops.ts) is called
 * with valid arguments and then up to three hostile changes: wrong types and sizes, hostile
 * numbers (NaN, 1e39, 1e-46, 2^53, BigInt), typed arrays that are detached, resizable,
 * SharedArrayBuffer-backed, wrongly typed or of the wrong length, outputs that alias or
 * overlap inputs, and buffers detached while an async op runs (then collected).
 *
 * Besides crashes, hangs and untyped errors, a case fails when the op returns silent garbage:
 * a non-finite value in any float array or number it read or returned (unless the caller
 * opted out with checkFinite: false), or, for an aliased output, a result that differs from
 * the same call on separate buffers.
 */
import { Rng } from '../../src/random/index.js';
import type { FuzzCase, FuzzSurface } from '../surface.js';
import { OPS, type Args } from '../kernels/kernel-ops.js';

type Path = Array<string | number>;

interface KernelCase extends FuzzCase {
  op: string;
  async: boolean;
  args: Args;
  aliased: boolean;
  /** A deep copy of the arguments with every array separate, to recompute an aliased call. */
  unaliased?: Args;
  detachAfterCall?: Path;
  /** Option keys this case added that the op may not read: not inputs, so not scanned. */
  injected: Set<string>;
}

const isTyped = (v: unknown): v is ArrayBufferView & { length: number } => ArrayBuffer.isView(v) && !(v instanceof DataView);
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !isTyped(v) && Object.getPrototypeOf(v) === Object.prototype;

/** Every value reachable through plain arrays and objects, with its path. */
function leaves(value: unknown, path: Path = [], out: Array<{ path: Path; value: unknown }> = []): Array<{ path: Path; value: unknown }> {
  if (Array.isArray(value)) value.forEach((v, i) => leaves(v, [...path, i], out));
  else if (isPlainObject(value)) for (const [k, v] of Object.entries(value)) leaves(v, [...path, k], out);
  if (path.length > 0) out.push({ path, value });
  return out;
}

function setAt(root: unknown, path: Path, value: unknown): void {
  let node = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (value === DELETE) delete node[last];
  else node[last] = value;
}

/** The value at `path`, or undefined when a later mutation replaced a container on the way. */
function getAt(root: unknown, path: Path): unknown {
  let node: unknown = root;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

const DELETE = Symbol('delete');

function isDetached(view: ArrayBufferView): boolean {
  if (view.byteLength !== 0 || view.buffer instanceof SharedArrayBuffer) return false;
  try {
    new Uint8Array(view.buffer);
    return false;
  } catch {
    return true;
  }
}

function clone(value: unknown): unknown {
  if (isTyped(value) && isDetached(value)) return value;
  if (isTyped(value)) return (value as unknown as { slice(): unknown }).slice();
  if (Array.isArray(value)) return value.map(clone);
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clone(v)]));
  return value;
}

function detach(view: ArrayBufferView): void {
  const buffer = view.buffer;
  if (buffer instanceof ArrayBuffer && buffer.byteLength > 0) structuredClone(buffer, { transfer: [buffer] });
}

/** ES2024's resizable ArrayBuffer constructor (Node 20 has it; the ES2022 typings do not). */
const ResizableArrayBuffer = ArrayBuffer as unknown as new (bytes: number, options: { maxByteLength: number }) => ArrayBuffer;

type TypedCtor = new (
  n: number | ArrayBuffer | SharedArrayBuffer,
  offset?: number,
  length?: number,
) => ArrayBufferView & { length: number; set(a: ArrayLike<number>): void };

function copyInto(view: ArrayBufferView & { length: number }, make: (bytes: number) => ArrayBuffer | SharedArrayBuffer): unknown {
  const Ctor = view.constructor as TypedCtor;
  const buffer = make(view.byteLength);
  const copy = new Ctor(buffer, 0, view.length);
  copy.set(view as unknown as ArrayLike<number>);
  return copy;
}

function hostileTyped(r: Rng, view: ArrayBufferView & { length: number }): unknown {
  if (isDetached(view)) return hostileNumber(r);
  const Ctor = view.constructor as TypedCtor;
  const n = view.length;
  const withValue = (x: number): unknown => {
    const copy = (view as unknown as { slice(): Float32Array }).slice();
    if (n > 0) copy[r.int(n)] = x;
    return copy;
  };
  const choices: Array<() => unknown> = [
    () => null,
    () => undefined,
    () => 42,
    () => 'data',
    () => Array.from(view as unknown as ArrayLike<number>),
    () => Buffer.from(view.buffer, view.byteOffset, view.byteLength),
    () => new Float64Array(n),
    () => new Int32Array(n),
    () => new Uint8Array(n),
    () => new Uint16Array(n),
    () => new Ctor(Math.max(0, n - 1)),
    () => new Ctor(n + 1),
    () => new Ctor(0),
    () => copyInto(view, (bytes) => new SharedArrayBuffer(bytes)),
    () => copyInto(view, (bytes) => new ResizableArrayBuffer(bytes, { maxByteLength: bytes * 2 + 8 })),
    () => {
      const copy = copyInto(view, (bytes) => new ArrayBuffer(bytes)) as ArrayBufferView;
      detach(copy);
      return copy;
    },
    () => {
      // A valid view at an odd offset into a larger buffer.
      const bytesPer = (view as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
      const big = new Ctor(new ArrayBuffer((n + 3) * bytesPer), 3 * bytesPer, n);
      big.set(view as unknown as ArrayLike<number>);
      return big;
    },
    () => withValue(NaN),
    () => withValue(Infinity),
    () => withValue(-Infinity),
    () => withValue(1e30),
    () => withValue(3e38),
    () => ({ handle: {} }),
    () => ({ dims: [n], dtype: 'float32', size: n }),
  ];
  return r.pick(choices)();
}

function hostileNumber(r: Rng): unknown {
  return r.pick<unknown>([
    NaN,
    Infinity,
    -Infinity,
    -1,
    0,
    -0,
    0.5,
    1.5,
    1e39,
    -1e39,
    1e-46,
    1e-300,
    2 ** 31,
    2 ** 32,
    2 ** 53,
    1e300,
    1e9,
    65536,
    10n,
    '7',
    null,
    undefined,
    true,
    {},
    [],
    -(2 ** 31),
  ]);
}

function hostileValue(r: Rng, value: unknown): unknown {
  if (isTyped(value)) return hostileTyped(r, value as ArrayBufferView & { length: number });
  if (typeof value === 'number') return hostileNumber(r);
  if (typeof value === 'string') return r.pick<unknown>(['', 'gpu', 'CUDA', 'cuda', 'cpu', 'center ', 7, null, undefined]);
  if (typeof value === 'boolean') return r.pick<unknown>(['true', 1, 0, null, undefined]);
  if (Array.isArray(value) || isPlainObject(value))
    return r.pick<unknown>([null, undefined, [], {}, 42, 'x', Object.create(null), [value, value]]);
  return r.pick<unknown>([null, 0, {}, [], NaN, 'x', new Float32Array(3)]);
}

/** Points an output at an input: the same array, or an overlapping view of its buffer. */
function alias(r: Rng, args: Args): boolean {
  const floatLeaves = leaves(args).filter((l) => l.value instanceof Float32Array && (l.value as Float32Array).length > 0);
  if (floatLeaves.length < 2) return false;
  const target = r.pick(floatLeaves);
  const source = r.pick(floatLeaves.filter((l) => l !== target));
  const src = source.value as Float32Array;
  const length = (target.value as Float32Array).length;
  if (r.chance(0.5) || src.length < 2) {
    setAt(args, target.path, src.length === length ? src : new Float32Array(src.buffer, src.byteOffset, Math.min(length, src.length)));
  } else {
    // Same buffer, shifted by one element, so the ranges overlap without being equal.
    const big = new Float32Array(Math.max(src.length, length) + 1);
    big.set(src);
    const shifted = new Float32Array(big.buffer, 4, length);
    setAt(args, source.path, new Float32Array(big.buffer, 0, src.length));
    setAt(args, target.path, shifted);
  }
  return true;
}

function mutate(r: Rng, args: Args, c: KernelCase): void {
  const options = args[args.length - 1];
  const kind = r.int(10);
  if (kind <= 4) {
    const all = leaves(args);
    const leaf = r.pick(all);
    setAt(args, leaf.path, hostileValue(r, leaf.value));
  } else if (kind === 5 && isPlainObject(options)) {
    const keys = Object.keys(options);
    if (keys.length > 0) setAt(options, [r.pick(keys)], DELETE);
  } else if (kind === 6 && isPlainObject(options)) {
    const extra = r.pick<Record<string, unknown>>([
      { backend: 'cuda' },
      { backend: 'gpu' },
      { backend: 'cpu' },
      { checkFinite: false },
      { out: new Float32Array(3) },
    ]);
    for (const key of Object.keys(extra)) c.injected.add(key);
    Object.assign(options, extra);
  } else if (kind === 7) {
    c.aliased = alias(r, args) || c.aliased;
  } else if (kind === 8) {
    const typed = leaves(args).filter((l) => isTyped(l.value));
    if (typed.length > 0) detach(r.pick(typed).value as ArrayBufferView);
  } else {
    const typed = leaves(args).filter((l) => isTyped(l.value));
    if (typed.length > 0) c.detachAfterCall = r.pick(typed).path;
  }
}

/** Non-finite float values in what the op read or returned (the first one found). */
function nonFinite(value: unknown, path = 'value', seen = new Set<unknown>()): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `${path} = ${value}`;
  if (value === null || typeof value !== 'object' || seen.has(value)) return undefined;
  seen.add(value);
  if (value instanceof Float32Array || value instanceof Float64Array) {
    if (isDetached(value)) return undefined;
    for (let i = 0; i < value.length; i++) {
      if (!Number.isFinite(value[i]!))
        return `${path}[${i}] = ${value[i]} (${value.constructor.name} of length ${value.length}, ${value.byteLength} bytes)`;
    }
    return undefined;
  }
  if (isTyped(value)) return undefined;
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  for (const [k, v] of entries) {
    const found = nonFinite(v, `${path}.${k}`, seen);
    if (found) return found;
  }
  return undefined;
}

function sameNumbers(a: unknown, b: unknown): boolean {
  // an array the case itself detached after the call holds nothing left to compare
  if ((isTyped(a) && isDetached(a)) || (isTyped(b) && isDetached(b))) return true;
  if (typeof a === 'number' && typeof b === 'number') return Object.is(a, b) || Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(a));
  if (a instanceof Float32Array && b instanceof Float32Array) return a.length === b.length && a.every((x, i) => sameNumbers(x, b[i]));
  if (isTyped(a) && isTyped(b))
    return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameNumbers(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) return Object.keys(a).every((k) => sameNumbers(a[k], b[k]));
  return true;
}

/** The arguments without the option keys the case injected. */
function withoutInjected(c: KernelCase): Args {
  const options = c.args[c.args.length - 1];
  if (c.injected.size === 0 || !isPlainObject(options)) return c.args;
  const kept = Object.fromEntries(Object.entries(options).filter(([key]) => !c.injected.has(key)));
  return [...c.args.slice(0, -1), kept];
}

const optedOutOfChecks = (args: Args): boolean =>
  leaves(args).some((l) => l.path[l.path.length - 1] === 'checkFinite' && l.value === false);

/**
 * Ops whose contract includes non-finite values: half-precision bit patterns can encode NaN and
 * Inf, and a gradient norm is how NaN/Inf gradients are detected (adamwStep then writes nothing
 * and returns that norm).
 */
function nonFiniteAllowed(c: KernelCase, result: unknown): boolean {
  if (c.op === 'halfBitsToFloat32' || c.op === 'gradNorm') return true;
  return c.op === 'adamwStep' && typeof result === 'number' && !Number.isFinite(result);
}

export const surface: FuzzSurface<KernelCase> = {
  name: 'kernels',
  timeoutMs: 20_000,
  makeCase(seed, index) {
    const r = new Rng(seed, 'kernels', index);
    const op = OPS[index % OPS.length]!;
    const args = op.build(r);
    const c: KernelCase = { label: '', op: op.name, async: r.chance(0.6), args, aliased: false, injected: new Set() };
    const mutations = r.chance(0.1) ? 0 : 1 + r.int(3);
    for (let i = 0; i < mutations; i++) mutate(r, args, c);
    // Cloning copies each array on its own, so the copy has the same values and no aliasing.
    if (c.aliased) c.unaliased = clone(args) as Args;
    c.label = `${op.name}${c.async ? '' : 'Sync'} with ${mutations} mutation(s)${c.aliased ? ', aliased' : ''}${c.detachAfterCall ? `, detach ${c.detachAfterCall.join('.')} during the call` : ''}`;
    return c;
  },
  async run(c) {
    const op = OPS.find((o) => o.name === c.op)!;
    const pending = op.call(c.args, c.async);
    if (c.detachAfterCall) {
      const view = getAt(c.args, c.detachAfterCall);
      if (isTyped(view)) detach(view);
      (globalThis as { gc?: () => void }).gc?.();
    }
    const result = await pending;
    if (!optedOutOfChecks(c.args) && !nonFiniteAllowed(c, result)) {
      const bad = nonFinite(result, 'result') ?? nonFinite(withoutInjected(c), 'arguments');
      if (bad) throw new Error(`silent non-finite value: the op succeeded, but ${bad}`);
    }
    if (c.aliased && c.unaliased) {
      const reference = await op.call(c.unaliased, false);
      if (!sameNumbers(result, reference))
        throw new Error('silent wrong result: an aliased call returned different values from the same call on separate buffers');
    }
  },
};
