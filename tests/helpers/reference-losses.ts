/** Float64 references for the losses (formulas in native/include/radlearn/losses.h). */

const softplus = (z: number) => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
const sigmoid = (z: number) => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

export interface RefLoss {
  loss: number;
  valid: number;
  grad: Float64Array;
}

export type Policy = 'ignore' | 'ones' | 'zeros';

export function bceRef(
  logits: ArrayLike<number>,
  targets: ArrayLike<number>,
  rows: number,
  classes: number,
  { mask, posWeight, policy = 'ignore' }: { mask?: ArrayLike<number>; posWeight?: ArrayLike<number>; policy?: Policy } = {},
): RefLoss {
  const grad = new Float64Array(rows * classes);
  let sum = 0;
  let valid = 0;
  const ys: Array<number | undefined> = [];
  for (let i = 0; i < rows * classes; i++) {
    let y: number | undefined = targets[i]!;
    if (mask && mask[i] === 0) y = undefined;
    else if (y < 0) y = policy === 'ones' ? 1 : policy === 'zeros' ? 0 : undefined;
    ys.push(y);
    if (y !== undefined) valid++;
  }
  for (let i = 0; i < rows * classes; i++) {
    const y = ys[i];
    if (y === undefined) continue;
    const z = logits[i]!;
    const lw = posWeight ? 1 + (posWeight[i % classes]! - 1) * y : 1;
    sum += (1 - y) * z + lw * softplus(-z);
    grad[i] = (1 - y - lw * sigmoid(-z)) / valid;
  }
  return { loss: valid ? sum / valid : 0, valid, grad };
}

export function softmaxCeRef(
  logits: ArrayLike<number>,
  rows: number,
  classes: number,
  {
    labels,
    targets,
    smoothing = 0,
    temperature = 1,
  }: { labels?: ArrayLike<number>; targets?: ArrayLike<number>; smoothing?: number; temperature?: number },
): RefLoss {
  const grad = new Float64Array(rows * classes);
  const tau = temperature;
  const masses: number[] = [];
  for (let r = 0; r < rows; r++) {
    let mass = 0;
    if (labels) mass = labels[r]! >= 0 ? 1 : 0;
    else for (let c = 0; c < classes; c++) mass += targets![r * classes + c]!;
    masses.push(mass);
  }
  const valid = masses.filter((m) => m !== 0).length;
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    const mass = masses[r]!;
    if (mass === 0) continue;
    const z = Array.from({ length: classes }, (_, c) => logits[r * classes + c]! / tau);
    const zmax = Math.max(...z);
    const lse = zmax + Math.log(z.reduce((s, v) => s + Math.exp(v - zmax), 0));
    for (let c = 0; c < classes; c++) {
      let q = labels ? (labels[r] === c ? 1 : 0) : targets![r * classes + c]!;
      q = (1 - smoothing) * q + (smoothing * mass) / classes;
      const logp = z[c]! - lse;
      sum += -tau * tau * q * logp;
      grad[r * classes + c] = (tau * (Math.exp(logp) * mass - q)) / valid;
    }
  }
  return { loss: valid ? sum / valid : 0, valid, grad };
}

export function ordinalRef(logits: ArrayLike<number>, levels: ArrayLike<number>, rows: number, count: number): RefLoss {
  const k = count - 1;
  const grad = new Float64Array(rows * k);
  let valid = 0;
  for (let r = 0; r < rows; r++) if (levels[r]! >= 0) valid++;
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    const level = levels[r]!;
    if (level < 0) continue;
    for (let j = 0; j < k; j++) {
      const y = level > j ? 1 : 0;
      const z = logits[r * k + j]!;
      sum += (1 - y) * z + softplus(-z);
      grad[r * k + j] = (sigmoid(z) - y) / valid;
    }
  }
  return { loss: valid ? sum / valid : 0, valid, grad };
}
