/**
 * A 2-D input [N, C, H, W] cut into its s x s phases (SpaceToDepth) for a sliding window of
 * k_h x k_w taps with stride s on both axes: tap (th, tw) of every window is then a contiguous slice
 * [N, C, O_h, O_w] of one phase, where a slice with steps copies element by element (~5x slower on
 * onnxruntime's CPU kernels). The input is padded to s·(O + ceil(k / s) - 1) per axis so every tap
 * of every window lies inside; the trailing pad may be negative (rows past the last window's reach
 * are never read). Sizes are read from Shape() at run time, so symbolic sizes stay symbolic.
 */
import { attr } from '../../attributes.js';
import type { Value } from '../../graph-builder.js';
import type { GradEmitter } from '../emitter.js';

export interface PhaseGeometry {
  stride: number;
  kernel: readonly [number, number];
  /** Padding before the first row and column (the window's own). */
  before: readonly [number, number];
}

export interface Phases {
  /** The Pad pads that took X to the padded extent (negate them to cut a same-shaped tensor back). */
  pads: Value;
  /** The padded extent [s·(O_h + J_h - 1), s·(O_w + J_w - 1)]. */
  extent: Value;
  /** Tap (th, tw) of every window: [N, C, O_h, O_w]. */
  tap(th: number, tw: number): Value;
}

/** `outSize`: the windows' count per axis [O_h, O_w]; `fill`: the pad value (default 0). */
export function phasesOf(e: GradEmitter, X: Value, g: PhaseGeometry, outSize: Value, fill?: number): Phases {
  const s = g.stride;
  const blocks = g.kernel.map((k) => Math.ceil(k / s));
  const extent = e.mul(e.add(outSize, e.ints(blocks.map((b) => b - 1))), e.ints([s, s]));
  const after = e.sub(e.sub(extent, e.ints(g.before)), e.shapeRange(X, 2));
  const pads = e.op('Concat', [e.ints([0, 0, ...g.before, 0, 0]), after], { axis: attr.int(0) });
  const padded = e.op('Pad', fill === undefined ? [X, pads] : [X, pads, e.scalar(fill, X.dtype)]);
  const phases = s === 1 ? padded : e.op('SpaceToDepth', [padded], { blocksize: attr.int(s) });
  const channels = e.shapeRange(X, 1, 2);
  const tap = (th: number, tw: number): Value => {
    const offset = e.ints([Math.floor(th / s), Math.floor(tw / s)]);
    const end = e.add(outSize, offset);
    if (s === 1) return e.op('Slice', [phases, offset, end, e.ints([2, 3])]);
    // phase (th % s, tw % s) holds channels [phase·C, (phase + 1)·C) of the SpaceToDepth output
    const phase = (th % s) * s + (tw % s);
    const starts = e.op('Concat', [e.mul(channels, e.ints([phase])), offset], { axis: attr.int(0) });
    const ends = e.op('Concat', [e.mul(channels, e.ints([phase + 1])), end], { axis: attr.int(0) });
    return e.op('Slice', [phases, starts, ends, e.ints([1, 2, 3])]);
  };
  return { pads, extent, tap };
}
