import type { Value } from '../../graph-builder.js';
import type { NodeProto } from '../../proto.js';
import type { StaticDim } from '../analysis.js';
import type { GradEmitter } from '../emitter.js';

/** What a gradient rule sees of one forward node. */
export interface VjpArgs {
  node: NodeProto;
  e: GradEmitter;
  /** Forward inputs (null where an optional input is absent). */
  x: (Value | null)[];
  /** Forward outputs (null where an optional output is absent). */
  y: (Value | null)[];
  /** d loss / d output i, or null where no gradient reaches that output. */
  dy: (Value | null)[];
  /** Whether input i needs a gradient (depends on a trainable parameter or a requested input). */
  needs: boolean[];
  /** Static shape of output i when known. */
  yShape(i: number): StaticDim[] | undefined;
  /** The model opset for the default domain. */
  opset: number;
  /** Throws UnsupportedOperatorError naming this node and the model, with the reason. */
  fail(reason: string): never;
}

/** A vector-Jacobian product: gradient per forward input (null/undefined where none). */
export type Vjp = (a: VjpArgs) => (Value | null | undefined)[];

/** The gradient reaching output 0 (rules run only when some output has one). */
export function dy0(a: VjpArgs): Value {
  const g = a.dy[0];
  if (!g) return a.fail('gradient expected at output 0');
  return g;
}

export function input(a: VjpArgs, i: number): Value {
  const v = a.x[i];
  if (!v) return a.fail(`input ${i} is missing`);
  return v;
}

export function output(a: VjpArgs, i: number): Value {
  const v = a.y[i];
  if (!v) return a.fail(`output ${i} is missing`);
  return v;
}
