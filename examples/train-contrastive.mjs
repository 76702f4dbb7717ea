// Train image-report contrastive heads with radlearn's library API (no CLI), then read the
// results. Run from a clone after `npm install`:  node examples/train-contrastive.mjs [out-dir]
//
// It builds the synthetic phantom dataset, trains projection heads on the frozen built-in
// encoders, evaluates zero-shot and a linear probe on the test split, and prints the AUROCs.
import { join } from 'node:path';
import { generatePhantom, train } from 'radlearn';

const out = process.argv[2] ?? 'radlearn-example';

// 1. Data: a manifest (CSV/JSONL) with image paths, report text, patient ids, labels, splits.
//    Here the built-in phantom writes one; point `data.manifest` at your own instead.
const phantom = await generatePhantom({ out: join(out, 'phantom'), n: 400, size: 96, seed: 1 });

// 2. Train. The config is validated (zod); a wrong key or value throws naming the key.
const run = train({
  name: 'contrastive-example',
  mode: 'contrastive',
  runsDir: join(out, 'runs'),
  seed: 0,
  steps: 300,
  batchSize: 64,
  data: { manifest: phantom.manifestPath, sentences: { min: 1 } },
  image: { model: 'builtin:resnet', size: 96 },
  text: { model: 'builtin:transformer', tokenizer: 'build', maxLength: 64 },
  head: { kind: 'mlp', hidden: 256, projectionDim: 128 },
  loss: { kind: 'infonce', groups: 'labels' },
  optim: { lr: 5e-3, warmupSteps: 30 },
  eval: { phrases: { 'Lung Lesion': 'pulmonary nodule' } },
});

// 3. Subscribe to the event stream: step, checkpoint, eval, done (and stage for set-up work).
run.on('checkpoint', (e) => console.log(`checkpoint at step ${e.step}: ${e.path}`));
for await (const event of run) {
  if (event.type === 'step' && event.step % 50 === 0) {
    console.log(`step ${event.step}/${event.totalSteps} loss ${event.loss.toFixed(3)} (${event.samplesPerSec.toFixed(0)} samples/s)`);
  }
  if (event.type === 'eval') {
    console.log(`${event.name}: macro AUROC ${event.macroAuroc.toFixed(3)}`);
    for (const l of event.perLabel)
      console.log(`  ${l.label.padEnd(18)} ${l.auroc.toFixed(3)} [${l.ci[0].toFixed(3)}, ${l.ci[1].toFixed(3)}]`);
  }
}

// 4. The result: run folder, report, exported classifier, final parameters (one flat buffer).
const result = await run.result;
console.log(`report: ${result.reportPath}`);
console.log(`classifier: ${result.classifierPath}`);
console.log(`${result.parameters.length} trained parameters in ${result.parameterNames.length} tensors`);
