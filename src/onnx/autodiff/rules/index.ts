import { convRules } from './conv.js';
import { elementwiseRules } from './elementwise.js';
import { linalgRules } from './linalg.js';
import { normRules } from './norm.js';
import { reduceRules } from './reduce.js';
import { shapeRules } from './shape.js';
import type { Vjp } from './types.js';

export type { Vjp, VjpArgs } from './types.js';

/** Every operator with a gradient rule, by ONNX op type (default domain). */
export const gradientRules: Readonly<Record<string, Vjp>> = {
  ...elementwiseRules,
  ...linalgRules,
  ...convRules,
  ...normRules,
  ...shapeRules,
  ...reduceRules,
};

/** Operators whose outputs carry no gradient (indices, shapes, masks, rounding). */
export const nonDifferentiableOps: ReadonlySet<string> = new Set([
  'Shape',
  'Size',
  'NonZero',
  'ArgMax',
  'ArgMin',
  'Equal',
  'Greater',
  'Less',
  'GreaterOrEqual',
  'LessOrEqual',
  'Not',
  'And',
  'Or',
  'Xor',
  'IsNaN',
  'IsInf',
  'Floor',
  'Ceil',
  'Round',
  'Sign',
  'Range',
  'ConstantOfShape',
  'Constant',
  'OneHot',
  'TopK',
  'RandomNormal',
  'RandomUniform',
  'RandomNormalLike',
  'RandomUniformLike',
  'Bernoulli',
  'EyeLike',
]);
