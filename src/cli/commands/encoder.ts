import type { Command } from 'commander';
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { inspectModel, loadModel, MissingFileError, readEncoderSidecar, sidecarPathOf, type ModelInspection } from '../../index.js';

function dims(d: Array<number | string>): string {
  return `[${d.join(', ')}]`;
}

/** The lines `radlearn encoder inspect` prints. */
export function inspectionLines(path: string, info: ModelInspection, sidecar: string): string[] {
  const lines = [
    `${path}`,
    `  opset ${info.opset}, producer ${info.producer}, ${info.nodes} nodes`,
    ...info.inputs.map((v) => `  input  ${v.name}: ${v.type} ${dims(v.dims)}`),
    ...info.outputs.map((v) => `  output ${v.name}: ${v.type} ${dims(v.dims)}`),
    `  parameters: ${info.parameters.values.toLocaleString('en-US')} values in ${info.parameters.tensors} trainable initializers` +
      (info.buffers.length > 0 ? `; ${info.buffers.length} untrained buffers (BatchNorm running statistics)` : ''),
    `  operators: ${info.operators
      .slice(0, 12)
      .map((o) => `${o.op} ${o.count}`)
      .join(', ')}${info.operators.length > 12 ? `, ... (${info.operators.length} kinds)` : ''}`,
    `  sidecar: ${sidecar}`,
  ];
  if (info.trainingModeNodes.length > 0)
    lines.push(
      `  TRAINING-MODE EXPORT: ${info.trainingModeNodes.length} node(s) in training form (${info.trainingModeNodes[0]}); re-export in eval mode`,
    );
  if (info.missingGradientRules.length > 0)
    lines.push(
      `  NO GRADIENT RULE on the gradient path: ${info.missingGradientRules.map((m) => `${m.op} (${m.count}, first ${m.firstNode})`).join(', ')}; it can be used frozen but not fine-tuned`,
    );
  else lines.push('  gradient path: every operator has a gradient rule (fine-tuning is possible)');
  return lines;
}

export function registerEncoder(program: Command): void {
  const encoder = program
    .command('encoder')
    .description('inspect ONNX encoders (e.g. exported from PyTorch with scripts/export-encoder.py)');
  encoder
    .command('inspect <model>')
    .description('inputs, outputs, parameter count, trainable initializers, its sidecar, and operators on the gradient path without a rule')
    .option('--json', 'print the inspection as JSON')
    .action((model: string, flags: { json?: boolean }) => {
      const path = resolve(model);
      if (!existsSync(path)) throw new MissingFileError(path, 'ONNX model');
      const info = inspectModel(loadModel(path));
      const sidecar = readEncoderSidecar(path);
      const sidecarText = sidecar
        ? `${sidecar.path} (${sidecar.kind}${sidecar.kind === 'image' ? `, ${sidecar.channels} channel(s), mean [${sidecar.mean.join(', ')}], std [${sidecar.std.join(', ')}]` : `, tokenizer ${sidecar.tokenizer}, maxLength ${sidecar.maxLength}`}, output ${sidecar.output}, pooling ${sidecar.pooling})`
        : `none (${sidecarPathOf(path)} not found: a 1-channel image model or a text model whose inputs are found by name)`;
      if (flags.json) process.stdout.write(`${JSON.stringify({ path, ...info, sidecar: sidecar ?? null }, null, 2)}\n`);
      else process.stdout.write(`${inspectionLines(path, info, sidecarText).join('\n')}\n`);
    });
}
