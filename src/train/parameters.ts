/**
 * All trainable parameters of a run live in ONE flat Float32Array; each named tensor is a view
 * into it. Gradients live in a second buffer with the same layout, so an optimizer (or a
 * checkpoint, or an ONNX session reading parameter views in issue 8) sees one contiguous block,
 * whoever computed the gradients.
 */
import { InvalidArgumentError, ShapeError, allocateFloat32 } from '../errors.js';
import { Rng } from '../random/index.js';

export interface ParameterSpec {
  name: string;
  shape: number[];
  /** 'normal' uses std; 'uniform' draws from [-bound, bound]; 'constant' fills value. */
  init:
    | { kind: 'normal'; std: number }
    | { kind: 'uniform'; bound: number }
    | { kind: 'constant'; value: number }
    /** Given values (e.g. an encoder's pretrained weights), copied in. */
    | { kind: 'values'; values: Float32Array };
  /** Weight decay applies (default: true for matrices, false for vectors and scalars). */
  decay?: boolean;
  /** Parameter group (e.g. 'teacher', 'student'); each group gets its own optimizer. Default 'main'. */
  group?: string;
}

export interface ParameterEntry {
  name: string;
  shape: number[];
  offset: number;
  length: number;
  decay: boolean;
  group: string;
}

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export class FlatParameters {
  readonly data: Float32Array;
  readonly grad: Float32Array;
  readonly entries: readonly ParameterEntry[];
  private readonly byName: Map<string, ParameterEntry>;

  constructor(specs: readonly ParameterSpec[], seed: number) {
    const entries: ParameterEntry[] = [];
    let offset = 0;
    const groupsSeen: string[] = [];
    // groups are laid out contiguously (in order of first appearance) so each optimizer owns one range
    for (const s of specs) if (!groupsSeen.includes(s.group ?? 'main')) groupsSeen.push(s.group ?? 'main');
    for (const group of groupsSeen) {
      for (const s of specs.filter((x) => (x.group ?? 'main') === group)) {
        if (s.shape.some((d) => !Number.isInteger(d) || d < 1))
          throw new ShapeError(`parameter ${s.name} has invalid shape ${JSON.stringify(s.shape)}`);
        if (entries.some((e) => e.name === s.name)) throw new InvalidArgumentError(`parameter ${s.name} is declared twice`);
        const length = sizeOf(s.shape);
        entries.push({ name: s.name, shape: [...s.shape], offset, length, decay: s.decay ?? s.shape.length >= 2, group });
        offset += length;
      }
    }
    this.entries = entries;
    this.byName = new Map(entries.map((e) => [e.name, e]));
    this.data = allocateFloat32(offset, 'the parameters');
    this.grad = allocateFloat32(offset, 'the parameter gradients');
    for (const s of specs) {
      const view = this.view(s.name);
      if (s.init.kind === 'values') {
        if (s.init.values.length !== view.length)
          throw new ShapeError(`parameter ${s.name}: ${s.init.values.length} initial values for shape ${JSON.stringify(s.shape)}`);
        view.set(s.init.values);
        continue;
      }
      const init = s.init;
      const rng = new Rng(seed, 'param-init', s.name);
      for (let i = 0; i < view.length; i++) {
        view[i] =
          init.kind === 'constant' ? init.value : init.kind === 'normal' ? rng.normal(0, init.std) : rng.uniform(-init.bound, init.bound);
      }
    }
  }

  get length(): number {
    return this.data.length;
  }

  entry(name: string): ParameterEntry {
    const e = this.byName.get(name);
    if (!e) throw new InvalidArgumentError(`no parameter named ${name} (have: ${[...this.byName.keys()].join(', ')})`);
    return e;
  }

  view(name: string, buffer: Float32Array = this.data): Float32Array {
    const e = this.entry(name);
    return buffer.subarray(e.offset, e.offset + e.length);
  }

  gradView(name: string): Float32Array {
    return this.view(name, this.grad);
  }

  /** The contiguous [start, end) range a group occupies. */
  groupRange(group: string): [number, number] {
    const list = this.entries.filter((e) => e.group === group);
    if (list.length === 0) throw new InvalidArgumentError(`no parameter group named ${group}`);
    const first = list[0]!;
    const last = list[list.length - 1]!;
    return [first.offset, last.offset + last.length];
  }

  groups(): string[] {
    return [...new Set(this.entries.map((e) => e.group))];
  }

  /** 1 where weight decay applies, over a group's range. */
  decayMask(group: string): Uint8Array {
    const [start, end] = this.groupRange(group);
    const mask = new Uint8Array(end - start);
    for (const e of this.entries) if (e.group === group && e.decay) mask.fill(1, e.offset - start, e.offset - start + e.length);
    return mask;
  }

  zeroGrad(group?: string): void {
    if (group === undefined) this.grad.fill(0);
    else {
      const [s, e] = this.groupRange(group);
      this.grad.fill(0, s, e);
    }
  }
}
