/**
 * radlearn's training graph against PyTorch autograd, parameter by parameter, on encoders exported
 * by scripts/export-encoder.py: torchvision ResNet-18 and DenseNet-121 (inference-form BatchNorm with
 * random running statistics, 32x32 inputs), a torchvision VisionTransformer with a non-zero head, and
 * a BertModel-shaped text encoder with padded rows and token type ids. Per model: one fixed input,
 * L = sum(output * P) for a random P, every parameter's gradient.
 *
 * The reference is autograd in float64 from the same float32 weights, so what is compared is
 * radlearn's float32 error, not the difference of two float32 roundings. Tolerances per tensor:
 * relative, ||g - ref|| / ||ref|| <= 1e-5, where ||ref|| > 1e-8 ||ref over all parameters||;
 * absolute, ||g - ref|| <= 1e-8 ||ref over all parameters||, for tensors whose true gradient is zero
 * (BERT's key biases: softmax ignores a constant added to every score of a row). PyTorch's own
 * float32 relative error on the same tensors is reported beside radlearn's.
 *
 * Needs /usr/bin/python3 with torch, torchvision and onnx (Debian's python3-torch,
 * python3-torchvision, python3-onnx): skipped without them, required under CI=true.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  TORCH_REQUIRED,
  radlearnGradients,
  referenceDir,
  runReference,
  torchMissing,
  type GradientRow,
  type GradientSpec,
} from '../../helpers/torch.js';

const RELATIVE = 1e-5;
const ZERO_LIKE = 1e-8;
const ABSOLUTE = 1e-8;

const missing = torchMissing();
if (missing) console.warn(`skipping the PyTorch gradient comparisons: ${missing}`);

interface Case {
  model: string;
  /** Parameters PyTorch has (all of them must be in radlearn's layout). */
  parameters: number;
  /** Parameters whose true gradient is zero. */
  zero: RegExp | null;
  batch: number;
}

const CASES: Case[] = [
  { model: 'resnet18', parameters: 60, zero: null, batch: 2 },
  { model: 'densenet121', parameters: 362, zero: null, batch: 2 },
  { model: 'vit', parameters: 32, zero: null, batch: 2 },
  { model: 'bert', parameters: 39, zero: /attention\.self\.key\.bias$/, batch: 3 },
];

const report: string[] = [];

describe.skipIf(missing !== undefined && !TORCH_REQUIRED)('parameter gradients: radlearn (float32) vs PyTorch autograd (float64)', () => {
  it('has PyTorch, torchvision and onnx', () => expect(missing ?? '').toBe(''));

  afterAll(() => console.log(report.join('\n')));

  it.each(CASES)(
    '$model: every parameter gradient agrees',
    async ({ model, parameters, zero, batch }) => {
      const { dir, remove } = referenceDir(model);
      try {
        const spec = runReference<GradientSpec>('gradients', model, dir, ['--batch', String(batch), '--size', '32']);
        const { comparison, outputRelError } = await radlearnGradients(dir, spec);
        const { rows, globalNorm } = comparison;
        // radlearn trains exactly PyTorch's parameters, under the same names
        expect(comparison.missing).toEqual([]);
        expect(comparison.extra).toEqual([]);
        expect(rows.length).toBe(parameters);
        expect(outputRelError).toBeLessThan(1e-5);

        const zeroLike = (r: GradientRow) => r.refNorm <= ZERO_LIKE * globalNorm;
        // every gradient is non-zero except those that must be (a zero-initialised head would zero them all)
        expect(rows.filter(zeroLike).map((r) => r.name)).toEqual(zero ? rows.filter((r) => zero.test(r.name)).map((r) => r.name) : []);
        if (zero) expect(rows.filter(zeroLike).length).toBeGreaterThan(0);
        const relative = rows.filter((r) => !zeroLike(r));
        const absolute = rows.filter(zeroLike);
        const worst = relative.reduce((a, b) => (b.relError > a.relError ? b : a));
        const worstAbs = absolute.reduce((m, r) => Math.max(m, r.absError), 0);
        const torch32 = relative.reduce((m, r) => Math.max(m, r.torch32RelError), 0);
        report.push(
          `${model}: ${rows.length} parameter tensors; output rel. error ${outputRelError.toExponential(2)}; ` +
            `max rel. gradient error ${worst.relError.toExponential(2)} (${worst.name}; PyTorch float32 at most ${torch32.toExponential(2)})` +
            (absolute.length > 0
              ? `; ${absolute.length} zero gradients, max ||g|| ${worstAbs.toExponential(2)} = ${(worstAbs / globalNorm).toExponential(2)} of the total norm`
              : ''),
        );
        for (const r of relative) expect(r.relError, r.name).toBeLessThanOrEqual(RELATIVE);
        for (const r of absolute) expect(r.absError, r.name).toBeLessThanOrEqual(ABSOLUTE * globalNorm);
      } finally {
        remove();
      }
    },
    300_000,
  );
});
