import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  collectPredictInputs,
  InvalidArgumentError,
  loadClassifier,
  MissingFileError,
  predictFiles,
  predictionsTable,
  readClassifierMetadata,
  type Split,
} from '../../index.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { choiceFlag, integerFlag } from '../flags.js';

interface PredictFlags {
  model: string;
  out?: string;
  batchSize: string;
  split?: string;
  strict?: boolean;
  printMetadata?: boolean;
}

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('run a classifier.onnx on DICOM/PNG/JPEG files, folders (walked recursively) or a manifest (.csv), into a CSV')
    .argument('[inputs...]', 'image files, folders or manifest.csv')
    .requiredOption('-m, --model <file>', 'classifier.onnx written by a run')
    .option('-o, --out <file>', 'predictions CSV to write')
    .option('--batch-size <n>', 'images per model call', '32')
    .option('--split <split>', 'only the manifest rows of this split (train, val, test)')
    .option('--strict', 'fail on the first unreadable file instead of skipping it')
    .option('--print-metadata', "print the model's radlearn metadata as JSON (labels, preprocessing, thresholds) and exit")
    .action(async (inputs: string[], flags: PredictFlags) => {
      if (flags.printMetadata) {
        const path = resolve(flags.model);
        const bytes = await readFile(path).catch(() => {
          throw new MissingFileError(path, 'classifier model');
        });
        const metadata = readClassifierMetadata(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
        process.stdout.write(`${JSON.stringify(metadata, null, 2)}\n`);
        return;
      }
      if (!flags.out) throw new InvalidArgumentError('--out <file> is required (the predictions CSV to write)');
      if (inputs.length === 0) throw new InvalidArgumentError('give image files, folders or a manifest (.csv) to predict');
      const batchSize = integerFlag('batch-size', flags.batchSize, 1);
      const split = flags.split === undefined ? undefined : choiceFlag<Split>('split', flags.split, ['train', 'val', 'test']);
      const { inputs: items, manifest } = await collectPredictInputs(inputs, split ? { split } : {});
      if (items.length === 0) throw new InvalidArgumentError(`no DICOM, PNG or JPEG images found in ${inputs.join(', ')}`);
      const model = await loadClassifier(flags.model);
      const stream = process.stderr;
      const bar =
        stream.isTTY && process.env.CI !== 'true'
          ? new cliProgress.SingleBar(
              { stream, format: 'predict [{bar}] {value}/{total} | {failed} failed | eta {eta_formatted}', hideCursor: true },
              cliProgress.Presets.shades_classic,
            )
          : undefined;
      bar?.start(items.length, 0, { failed: 0 });
      try {
        const result = await predictFiles(model, items, {
          batchSize,
          ...(flags.strict ? { strict: true } : {}),
          onProgress: (done, _total, failed) => bar?.update(done, { failed }),
        });
        bar?.stop();
        const out = resolve(flags.out);
        await writeFileAtomic(out, predictionsTable(result, model.thresholds?.perLabel, manifest));
        for (const f of result.failures) {
          const message = f.message.startsWith(`${f.path}: `) ? f.message.slice(f.path.length + 2) : f.message;
          stream.write(`skipped ${f.code}  ${f.path}${f.row !== undefined ? ` (row ${f.row})` : ''}: ${message}\n`);
        }
        process.stdout.write(
          `predicted ${result.predicted.length} of ${items.length} images (${result.failures.length} skipped), ${model.labels.length} labels: ${out}\n`,
        );
      } finally {
        bar?.stop();
        await model.release();
      }
    });
}
