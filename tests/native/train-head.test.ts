import { describe, expect, it } from 'vitest';
import { AdamW, bceWithLogitsSync, cosineSchedule, createHead, emaUpdateSync, softmaxCrossEntropySync } from '../../src/index.js';
import { randomFloats, rng } from '../helpers/random.js';

// The pieces together, as the trainer uses them: an MLP head over one flat buffer, a loss
// that returns its gradient, and AdamW stepping that buffer. A synthetic problem with a
// known answer (labels from a fixed random linear map) must be learned.
describe('training a head end to end (CPU)', () => {
  it('MLP head + masked BCE + AdamW (decay mask, clipping, cosine schedule) learns a multi-label problem', () => {
    const [n, inF, hidden, classes] = [256, 16, 32, 4];
    const x = randomFloats(n * inF, 1, 2);
    const truth = randomFloats(classes * inF, 2);
    const targets = new Float32Array(n * classes);
    const mask = new Uint8Array(n * classes);
    const next = rng(3);
    for (let r = 0; r < n; r++)
      for (let c = 0; c < classes; c++) {
        let s = 0;
        for (let i = 0; i < inF; i++) s += x[r * inF + i]! * truth[c * inF + i]!;
        targets[r * classes + c] = s > 0 ? 1 : 0;
        mask[r * classes + c] = next() < 0.9 ? 1 : 0; // 10% missing labels
      }
    const head = createHead({ kind: 'mlp', inFeatures: inF, hidden, outFeatures: classes, seed: 4 });
    const { params } = head;
    const opt = new AdamW(params.length, { weightDecay: 0.01, maxGradNorm: 1, decayMask: params.decayMask('main'), backend: 'cpu' });
    const ema = params.data.slice();
    const steps = 150;
    const lr = cosineSchedule({ base: 1e-2, warmupSteps: 10, totalSteps: steps, final: 1e-4 });
    const losses: number[] = [];
    for (let step = 0; step < steps; step++) {
      const logits = head.forward(x, n);
      const { loss, grad } = bceWithLogitsSync(logits, targets, { rows: n, classes, mask, backend: 'cpu' });
      losses.push(loss);
      params.zeroGrad();
      head.backward(grad);
      const r = opt.stepSync(params.data, params.grad, { lr: lr(step) });
      expect(Number.isFinite(r.gradNorm)).toBe(true);
      emaUpdateSync(ema, params.data, 0.9, { backend: 'cpu' });
    }
    expect(losses[0]).toBeGreaterThan(0.5);
    expect(losses[steps - 1]).toBeLessThan(0.15);
    // Accuracy of the trained head on the observed labels.
    const logits = head.forward(x, n);
    let correct = 0;
    let seen = 0;
    for (let i = 0; i < n * classes; i++) {
      if (!mask[i]) continue;
      seen++;
      if ((logits[i]! > 0 ? 1 : 0) === targets[i]) correct++;
    }
    expect(correct / seen).toBeGreaterThan(0.95);
    expect(opt.stepCount).toBe(steps);
  });

  it('softmax head with soft targets (distillation mix) reduces the loss', () => {
    const [n, inF, classes] = [128, 8, 3];
    const x = randomFloats(n * inF, 5);
    const targets = new Float32Array(n * classes);
    for (let r = 0; r < n; r++) {
      const c = x[r * inF]! > 0.3 ? 0 : x[r * inF]! < -0.3 ? 2 : 1;
      for (let k = 0; k < classes; k++) targets[r * classes + k] = 0.8 * (k === c ? 1 : 0) + 0.2 / classes; // (1-λ)·label + λ·uniform teacher
    }
    const head = createHead({ kind: 'mlp', inFeatures: inF, hidden: 16, outFeatures: classes, seed: 6 });
    const { params } = head;
    const opt = new AdamW(params.length, { decayMask: params.decayMask('main') });
    const first = softmaxCrossEntropySync(head.forward(x, n, { keep: false }), { rows: n, classes, targets, temperature: 2, backend: 'cpu' }).loss;
    let last = first;
    for (let step = 0; step < 100; step++) {
      const out = softmaxCrossEntropySync(head.forward(x, n), { rows: n, classes, targets, temperature: 2, backend: 'cpu' });
      last = out.loss;
      params.zeroGrad();
      head.backward(out.grad);
      opt.stepSync(params.data, params.grad, { lr: 1e-2 });
    }
    expect(last).toBeLessThan(0.8 * first);
  });
});
