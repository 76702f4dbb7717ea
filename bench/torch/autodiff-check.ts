/**
 * radlearn's autodiff against PyTorch autograd on full-size encoders: torchvision ResNet-18 and
 * DenseNet-121 at 224 pixels (inference-form BatchNorm with random running statistics), ViT-B/16
 * with its head drawn non-zero (torchvision starts it at zero, which zeroes every other gradient)
 * and a BERT-base shaped encoder on 128 tokens with padded rows. The same machinery as
 * tests/unit/torch/gradients.test.ts (which runs the small versions in CI): each model exported by
 * scripts/export-encoder.py, gradients of L = sum(output * P) per parameter, the reference in
 * float64 autograd, relative errors where the reference is not ~0 and absolute ones where it is.
 * At 224 pixels some tensors are ill-conditioned in float32 (the first convolutions of ResNet and
 * DenseNet: sums over many positions that nearly cancel), where PyTorch's own float32 gradient is
 * off by up to ~3e-3; a tensor passes when its error is within 1e-5 or within 4x PyTorch's float32
 * error on the same tensor.
 *
 *   npx tsx bench/torch/autodiff-check.ts [--models resnet18,densenet121,vit_b_16,bert_base] [--batch 2] [--threads N]
 *
 * Needs /usr/bin/python3 with torch, torchvision and onnx. Prints a markdown table; exits 1 when a
 * tensor is outside the tolerances of the CI test.
 */
import { availableParallelism } from 'node:os';
import { radlearnGradients, referenceDir, runReference, torchMissing, type GradientSpec } from '../../tests/helpers/torch.js';

const flag = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const models = flag('--models', 'resnet18,densenet121,vit_b_16,bert_base').split(',').filter(Boolean);
const batch = flag('--batch', '2');
const threads = Number(flag('--threads', String(availableParallelism())));
const RELATIVE = 1e-5;
const VS_TORCH32 = 4;
const ZERO_LIKE = 1e-8;
const ABSOLUTE = 1e-8;

const missing = torchMissing();
if (missing) {
  console.error(missing);
  process.exit(2);
}
const lines = [
  `### radlearn autodiff vs PyTorch autograd (float64), ${new Date().toISOString().slice(0, 10)}`,
  '',
  '| model | parameter tensors | output rel. error | max rel. error (tensor) | PyTorch float32 max rel. error | max error / max(1e-5, PyTorch float32 error) | zero gradients (max abs. / total norm) | training graph nodes (forward) | radlearn step ms |',
  '|---|---|---|---|---|---|---|---|---|',
];
let ok = true;
for (const model of models) {
  const { dir, remove } = referenceDir(`check-${model}`);
  try {
    const extra = ['--batch', batch, '--size', '224', '--seq', '128', '--threads', String(threads)];
    const spec = runReference<GradientSpec>('gradients', model, dir, extra, { OMP_NUM_THREADS: String(threads) });
    const r = await radlearnGradients(dir, spec, threads);
    const { rows, globalNorm } = r.comparison;
    const zero = rows.filter((x) => x.refNorm <= ZERO_LIKE * globalNorm);
    const relative = rows.filter((x) => x.refNorm > ZERO_LIKE * globalNorm);
    const worst = relative.reduce((a, b) => (b.relError > a.relError ? b : a));
    const torch32 = Math.max(...relative.map((x) => x.torch32RelError));
    const worstAbs = Math.max(0, ...zero.map((x) => x.absError));
    const bound = (x: (typeof rows)[number]) => Math.max(RELATIVE, x.torch32RelError);
    const ratio = Math.max(...relative.map((x) => x.relError / bound(x)));
    ok &&=
      r.comparison.missing.length === 0 &&
      r.comparison.extra.length === 0 &&
      relative.every((x) => x.relError <= RELATIVE || x.relError <= VS_TORCH32 * x.torch32RelError) &&
      zero.every((x) => x.absError <= ABSOLUTE * globalNorm);
    lines.push(
      `| ${model} | ${rows.length}${r.comparison.missing.length ? ` (not in the graph: ${r.comparison.missing.join(', ')})` : ''} | ` +
        `${r.outputRelError.toExponential(2)} | ${worst.relError.toExponential(2)} (${worst.name}) | ${torch32.toExponential(2)} | ${ratio.toFixed(2)} | ` +
        `${zero.length ? `${zero.length} (${(worstAbs / globalNorm).toExponential(2)})` : '0'} | ${r.trainingNodes} (${r.forwardNodes}) | ${r.stepMs.toFixed(0)} |`,
    );
  } finally {
    remove();
  }
}
lines.push(
  '',
  `Every tensor within ${RELATIVE} relative or ${VS_TORCH32}x PyTorch's float32 error (${ABSOLUTE} of the total norm where the gradient is zero): ${ok ? 'yes' : 'NO'}`,
);
console.log(lines.join('\n'));
process.exit(ok ? 0 : 1);
