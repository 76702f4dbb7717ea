import { integerFlag } from '../flags.js';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { generatePhantom } from '../../index.js';
import { writePhantomContactSheet } from '../../data/phantom/contact-sheet.js';

interface PhantomFlags {
  out: string;
  n: string;
  seed: string;
  size: string;
  json?: boolean;
  contactSheet?: string;
}

export function registerPhantom(program: Command): void {
  program
    .command('phantom')
    .description(
      'write the built-in synthetic chest radiograph dataset: DICOMs from two simulated sites, reports, labels, an ordinal heart-size grade, patient-level splits',
    )
    .requiredOption('-o, --out <dir>', 'output folder')
    .option('-n, --n <count>', 'number of studies', '2000')
    .option('--seed <n>', 'random seed (same seed, same dataset)', '1')
    .option('--size <px>', 'image side in pixels', '256')
    .option('--json', 'print the summary as JSON')
    .option('--contact-sheet <png>', 'also write a PNG of typical cases: cardiomegaly grades 0-4 by site and projection')
    .action(async (flags: PhantomFlags) => {
      const n = integerFlag('n', flags.n);
      const interactive = Boolean(process.stderr.isTTY) && process.env.CI !== 'true';
      const bar = interactive
        ? new cliProgress.SingleBar(
            {
              stream: process.stderr,
              format: 'phantom [{bar}] {value}/{total} studies | {rate} studies/s | eta {eta_formatted}',
              hideCursor: true,
            },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
      bar?.start(n, 0, { rate: '0' });
      const started = performance.now();
      const summary = await generatePhantom({
        out: flags.out,
        n,
        seed: integerFlag('seed', flags.seed),
        size: integerFlag('size', flags.size),
        onProgress: (done) => {
          if (bar && (done % 20 === 0 || done === n)) {
            bar.update(done, { rate: (done / ((performance.now() - started) / 1000)).toFixed(0) });
          }
        },
      });
      bar?.stop();
      const sheet = flags.contactSheet
        ? await writePhantomContactSheet({ path: flags.contactSheet, seed: integerFlag('seed', flags.seed) })
        : undefined;
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(sheet ? { ...summary, contactSheet: sheet.path } : summary, null, 2)}\n`);
        return;
      }
      const lines = [
        `phantom written: ${summary.studies} studies of ${summary.patients} patients, ${summary.size}x${summary.size}, seed ${summary.seed}, ${summary.seconds.toFixed(1)} s`,
        `  manifest:     ${summary.manifestPath}`,
        `  ground truth: ${summary.groundTruthPath}`,
        `  splits:       train ${summary.splits.train}, val ${summary.splits.val}, test ${summary.splits.test} (by patient)`,
        `  sites:        ${Object.entries(summary.sites)
          .map(([site, count]) => `${site} ${count}`)
          .join(', ')}`,
        `  cardiomegaly_grade 0-4: ${summary.grades.join(' / ')}`,
        '  positives:',
        ...Object.entries(summary.positives).map(([k, v]) => `    ${k.padEnd(18)} ${v}`),
        ...(sheet ? [`  contact sheet: ${sheet.path}`] : []),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
