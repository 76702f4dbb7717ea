/**
 * npm run bench [-- --filter NAME] [--json] [--quick]
 * Runs every case in bench/cases/ (or those whose name contains NAME) and prints one table,
 * or JSON lines with --json.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { backendInfo } from '../src/index.js';
import { formatTable, type BenchCase, type BenchRow } from './harness.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const quick = args.includes('--quick');
const filterIndex = args.indexOf('--filter');
const filter = filterIndex >= 0 ? args[filterIndex + 1] : undefined;

const info = backendInfo();
const context = { quick, cuda: info.device !== undefined };
const casesDir = join(dirname(fileURLToPath(import.meta.url)), 'cases');
const files = readdirSync(casesDir)
  .filter((f) => f.endsWith('.ts'))
  .sort();

if (!json) {
  const device = info.device ? `${info.device.name} (cc ${info.device.computeCapability})` : `none (${info.fallbackReason})`;
  process.stdout.write(`radlearn bench: backend ${info.backend}, ${info.threads} CPU threads, CUDA device: ${device}\n\n`);
}

const all: BenchRow[] = [];
for (const file of files) {
  const module = (await import(pathToFileURL(join(casesDir, file)).href)) as { cases?: BenchCase[] };
  for (const benchCase of module.cases ?? []) {
    if (filter && !benchCase.name.includes(filter) && !file.includes(filter)) continue;
    const rows = await benchCase.run(context);
    all.push(...rows);
    if (json) for (const row of rows) process.stdout.write(JSON.stringify({ case: benchCase.name, ...row }) + '\n');
    else process.stdout.write(`## ${benchCase.name}\n${formatTable(rows)}\n\n`);
  }
}
if (!json && all.length === 0) process.stdout.write(`no bench case matched${filter ? ` '${filter}'` : ''}\n`);
