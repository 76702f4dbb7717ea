import { InvalidArgumentError, ShapeError } from '../errors.js';
import { addon } from '../native/addon.js';
import { BackendUnavailableError, fromNativeError } from '../native/errors.js';
import type { NativeContrastiveOptions, NativeContrastiveOutput } from '../native/types.js';
import {
  assertAttached,
  checkFiniteResult,
  checkFiniteValues,
  chooseBackend,
  finiteNumber,
  float32Number,
  fromNative,
  optionsObject,
  positiveSize,
  toNative,
  type FloatTensor,
  type KernelCallOptions,
} from './operands.js';
import { DeviceTensor } from './tensor.js';

/**
 * Contrastive losses over B image and B report embeddings, forward and backward in one fused
 * call that never materialises the B x B logit matrix (memory O(B * D)).
 *
 * With u, v the rows (L2-normalised unless `normalize: false`), a = logitScale and
 * s_ij = a u_i . v_j:
 * - 'infonce' (CLIP, symmetric): L = 1/2 [1/B sum_i (LSE_j s_ij - sum_j y_ij s_ij) + 1/B sum_j (LSE_i s_ij - sum_i y_ij s_ij)],
 *   y = identity, or with `groups` y_ij = 1/|group(i)| for every j in i's group.
 *   `relaxThreshold` theta replaces every positive logit (numerator and LSE) by a min(u_i . v_j, theta),
 *   with no gradient through the cap.
 * - 'siglip': L = -1/B sum_ij log sigmoid(z_ij (s_ij + bias)), z = +1 on positives (diagonal or same group), -1 else.
 */
export interface ContrastiveOptions extends KernelCallOptions {
  /** B: rows of image and text. */
  batch: number;
  /** D: embedding width. */
  dim: number;
  /** Loss family (default 'infonce'). */
  kind?: 'infonce' | 'siglip';
  /** The multiplier a = exp(l) applied to cosine similarities; must be > 0. */
  logitScale: number;
  /** SigLIP bias b (default 0). SigLIP only. */
  bias?: number;
  /** L2-normalise rows inside the loss, with the gradient flowing through it (default true). */
  normalize?: boolean;
  /** Length-B group ids: pairs (i, j) with groups[i] === groups[j] are positives. */
  groups?: Int32Array;
  /** Positive-pair relaxation threshold theta (InfoNCE only). */
  relaxThreshold?: number;
}

/** Gradients come back float32, as Float32Arrays for host inputs and [B, D] DeviceTensors for device inputs. */
export interface ContrastiveResult<T extends FloatTensor = FloatTensor> {
  loss: number;
  gradImage: T;
  gradText: T;
  /** dL/da, where a = logitScale (chain to l through a = exp(l) yourself: dL/dl = a dL/da). */
  gradLogitScale: number;
  /** dL/dbias (SigLIP only). */
  gradBias?: number;
}

const HALF_DTYPES = ['float32', 'bfloat16', 'float16'] as const;

function checkEmbeddings(value: unknown, name: string, batch: number, dim: number): void {
  let length: number;
  if (value instanceof Float32Array) {
    assertAttached(value, name);
    length = value.length;
  } else if (value instanceof DeviceTensor) {
    if (!(HALF_DTYPES as readonly string[]).includes(value.dtype)) {
      throw new InvalidArgumentError(`${name} must be a DeviceTensor of float32, bfloat16 or float16, got ${value.dtype}`);
    }
    length = value.size;
  } else throw new InvalidArgumentError(`${name} must be a Float32Array or a DeviceTensor`);
  if (length !== batch * dim) {
    throw new ShapeError(`${name} has ${length} elements, but [batch, dim] = [${batch}, ${dim}] needs ${batch * dim}`, {
      name,
      length,
      expected: [batch, dim],
    });
  }
}

function prepare<T extends FloatTensor>(image: T, text: T, options: ContrastiveOptions, async: boolean): NativeContrastiveOptions {
  optionsObject(options, 'contrastiveLoss');
  const batch = positiveSize(options.batch, 'batch', false);
  const dim = positiveSize(options.dim, 'dim', false);
  const kind = options.kind ?? 'infonce';
  if (kind !== 'infonce' && kind !== 'siglip') throw new InvalidArgumentError(`kind must be 'infonce' or 'siglip', got ${String(kind)}`);
  const logitScale = finiteNumber(options.logitScale, 'logitScale');
  // used in float32: it must stay positive and finite there
  const scale32 = Math.fround(logitScale);
  if (!(scale32 > 0 && scale32 < Infinity))
    throw new InvalidArgumentError(`logitScale must be > 0 (and representable in float32), got ${logitScale}`);
  if (options.bias !== undefined && kind !== 'siglip') throw new InvalidArgumentError("bias applies to kind 'siglip' only");
  const bias = options.bias === undefined ? 0 : float32Number(options.bias, 'bias');
  if (options.relaxThreshold !== undefined && kind !== 'infonce') {
    throw new InvalidArgumentError("relaxThreshold applies to kind 'infonce' only");
  }
  const relax = options.relaxThreshold === undefined ? undefined : float32Number(options.relaxThreshold, 'relaxThreshold');
  const normalize = options.normalize ?? true;
  if (typeof normalize !== 'boolean') throw new InvalidArgumentError('normalize must be a boolean');
  const groups = options.groups;
  if (groups !== undefined) {
    if (!(groups instanceof Int32Array)) throw new InvalidArgumentError('groups must be an Int32Array');
    assertAttached(groups, 'groups');
    if (groups.length !== batch) {
      throw new ShapeError(`groups has ${groups.length} elements, but batch is ${batch}`, {
        name: 'groups',
        length: groups.length,
        expected: [batch],
      });
    }
  }
  checkEmbeddings(image, 'image', batch, dim);
  checkEmbeddings(text, 'text', batch, dim);
  if (image instanceof DeviceTensor && text instanceof DeviceTensor && image.dtype !== text.dtype) {
    throw new InvalidArgumentError(`image and text must have the same dtype (got ${image.dtype} and ${text.dtype})`);
  }
  if (options.checkFinite !== false) {
    checkFiniteValues(image, 'image');
    checkFiniteValues(text, 'text');
  }
  const backend = chooseBackend([image, text], options);
  if (backend === 'cpu' && image instanceof DeviceTensor) throw new BackendUnavailableError('DeviceTensor operands need the CUDA backend');
  return { batch, dim, kind, logitScale, bias, normalize, groups, relaxThreshold: relax, backend, async };
}

function wrap<T extends FloatTensor>(raw: NativeContrastiveOutput, options: ContrastiveOptions): ContrastiveResult<T> {
  const result: ContrastiveResult<T> = {
    loss: raw.loss,
    gradImage: fromNative(raw.gradImage) as T,
    gradText: fromNative(raw.gradText) as T,
    gradLogitScale: raw.gradLogitScale,
  };
  if (raw.gradBias !== undefined) result.gradBias = raw.gradBias;
  if (options.checkFinite !== false) {
    checkFiniteResult(result.gradImage, 'gradImage', 'contrastiveLoss');
    checkFiniteResult(result.gradText, 'gradText', 'contrastiveLoss');
  }
  return result;
}

/** The contrastive loss and its gradients, blocking the calling thread. */
export function contrastiveLossSync<T extends FloatTensor>(image: T, text: T, options: ContrastiveOptions): ContrastiveResult<T> {
  const native = prepare(image, text, options, false);
  let raw: NativeContrastiveOutput;
  try {
    raw = addon().contrastive(toNative(image)!, toNative(text)!, native) as NativeContrastiveOutput;
  } catch (error) {
    throw fromNativeError(error, 'contrastiveLoss');
  }
  return wrap<T>(raw, options);
}

/** The contrastive loss and its gradients, computed off the event loop. */
export async function contrastiveLoss<T extends FloatTensor>(
  image: T,
  text: T,
  options: ContrastiveOptions,
): Promise<ContrastiveResult<T>> {
  const native = prepare(image, text, options, true);
  let raw: NativeContrastiveOutput;
  try {
    raw = (await addon().contrastive(toNative(image)!, toNative(text)!, native)) as NativeContrastiveOutput;
  } catch (error) {
    throw fromNativeError(error, 'contrastiveLoss');
  }
  return wrap<T>(raw, options);
}
