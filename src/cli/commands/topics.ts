import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../io/atomic.js';
import { InvalidArgumentError, MissingFileError, fitTopics, formatCsv, parseCsv, type TopicOptions } from '../../index.js';
import { choiceFlag, integerFlag, positiveFlag } from '../flags.js';

interface TopicsFlags {
  column: string;
  k: string;
  out: string;
  assign?: string;
  oneHot?: boolean;
  keepText?: boolean;
  prefix: string;
  method: string;
  iterations: string;
  seed: string;
  alpha?: string;
  eta?: string;
  batchSize: string;
  minDf: string;
  maxDf: string;
  maxFeatures?: string;
  stopWords: string;
  holdout: string;
  topWords: string;
  workers?: string;
  json?: boolean;
}

/** A document-frequency flag: an integer count, or a fraction (see VectorizeOptions). */
function dfFlag(name: string, value: string): number {
  const x = positiveFlag(name, value);
  if (x > 1 && !Number.isInteger(x))
    throw new InvalidArgumentError(`--${name} must be a fraction up to 1 or an integer document count, got '${value}'`);
  return x;
}

function fractionFlag(name: string, value: string): number {
  const x = Number(value);
  if (value.trim() === '' || !(x >= 0 && x < 1)) throw new InvalidArgumentError(`--${name} must be a fraction in [0, 1), got '${value}'`);
  return x;
}

async function readCsvRows(input: string): Promise<string[][]> {
  let text: string;
  try {
    text = await readFile(input, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new MissingFileError(input, 'reports CSV');
    throw new InvalidArgumentError(`${input}: cannot read the reports CSV (${(error as Error).message})`, { path: input });
  }
  const rows = parseCsv(text, input);
  if (rows.length === 0) throw new InvalidArgumentError(`${input}: empty file, expected a header row`);
  return rows;
}

async function writeOutput(flag: string, path: string, content: string): Promise<void> {
  try {
    await writeFileAtomic(path, content, { createFolder: false });
  } catch (error) {
    throw new InvalidArgumentError(`--${flag} ${path}: cannot write it (${(error as Error).message})`, { path });
  }
}

export function registerTopics(program: Command): void {
  program
    .command('topics')
    .description(
      'fit LDA topics to report text (online variational Bayes, as scikit-learn): top words per topic and each report’s dominant topic',
    )
    .argument('<reports>', 'CSV file with one report per row')
    .option('-c, --column <names>', 'comma-separated text column(s), joined per row, e.g. findings,impression', 'report')
    .option('-k, --k <n>', 'number of topics', '20')
    .requiredOption(
      '-o, --out <file>',
      'topics.json: settings, perplexities, top words and weights per topic, vocabulary and topic–word weights',
    )
    .option(
      '--assign <file>',
      'CSV of the input rows (text columns dropped unless --keep-text) with each report’s dominant topic in column <prefix> (empty when no word of the report is in the vocabulary)',
    )
    .option('--one-hot', 'with --assign: also one 0/1 column <prefix>_<t> per topic, binary weak labels a manifest and train read')
    .option('--keep-text', 'with --assign: keep the text columns')
    .option('--prefix <name>', 'name of the topic column(s) --assign writes', 'topic')
    .option('--method <method>', 'online (minibatches, fast on large collections) | batch', 'online')
    .option('--iterations <n>', 'passes over the reports (scikit-learn max_iter)', '3')
    .option('--seed <n>', 'seed of the initial topics, the random starts and the held-out choice', '0')
    .option('--alpha <x>', 'document–topic prior (doc_topic_prior; default 1/k)')
    .option('--eta <x>', 'topic–word prior (topic_word_prior; default 1/k)')
    .option('--batch-size <n>', 'reports per online update', '128')
    .option('--min-df <x>', 'drop words in fewer reports: an integer count, or a fraction of the reports', '1')
    .option('--max-df <x>', 'drop words in more reports: a fraction of the reports, or an integer count', '1')
    .option('--max-features <n>', 'keep only the n most frequent words')
    .option('--stop-words <list>', 'english (scikit-learn’s list) | none', 'english')
    .option('--holdout <fraction>', 'share of reports left out of fitting, for the held-out perplexity', '0.1')
    .option('--top-words <n>', 'words listed per topic', '10')
    .option('--workers <n>', 'E-step worker threads (default: one per core up to 4; 0: none)')
    .option('--json', 'print the summary as JSON')
    .action(async (input: string, flags: TopicsFlags) => {
      const options: TopicOptions = {
        k: integerFlag('k', flags.k, 2),
        method: choiceFlag('method', flags.method, ['online', 'batch'] as const),
        iterations: integerFlag('iterations', flags.iterations, 1),
        seed: integerFlag('seed', flags.seed, 0),
        batchSize: integerFlag('batch-size', flags.batchSize, 1),
        minDf: dfFlag('min-df', flags.minDf),
        maxDf: dfFlag('max-df', flags.maxDf),
        stopWords: choiceFlag('stop-words', flags.stopWords, ['english', 'none'] as const),
        holdout: fractionFlag('holdout', flags.holdout),
        topWords: integerFlag('top-words', flags.topWords, 1),
        ...(flags.alpha !== undefined ? { alpha: positiveFlag('alpha', flags.alpha) } : {}),
        ...(flags.eta !== undefined ? { eta: positiveFlag('eta', flags.eta) } : {}),
        ...(flags.maxFeatures !== undefined ? { maxFeatures: integerFlag('max-features', flags.maxFeatures, 1) } : {}),
        ...(flags.workers !== undefined ? { workers: integerFlag('workers', flags.workers, 0) } : {}),
      };
      const prefix = flags.prefix.trim();
      if (prefix === '') throw new InvalidArgumentError('--prefix must not be empty');
      const rows = await readCsvRows(input);
      const header = rows[0]!;
      const lowerHeader = header.map((h) => h.trim().toLowerCase());
      const textColumns = flags.column
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map((name) => {
          const index = lowerHeader.indexOf(name.toLowerCase());
          if (index < 0) throw new InvalidArgumentError(`${input}: column "${name}" not found; columns are ${header.join(', ')}`);
          return index;
        });
      if (textColumns.length === 0) throw new InvalidArgumentError('--column names no column');
      const body = rows.slice(1);
      const texts = body.map((fields, i) => {
        if (fields.length !== header.length)
          throw new InvalidArgumentError(`${input} row ${i + 1}: ${fields.length} fields, but the header has ${header.length}`);
        return textColumns.map((c) => fields[c] ?? '').join('\n');
      });
      if (texts.length === 0) throw new InvalidArgumentError(`${input}: no reports below the header`);

      const started = performance.now();
      const fit = await fitTopics(texts, {
        ...options,
        onProgress: (pass, passes) => {
          if (!flags.json) process.stderr.write(`pass ${pass}/${passes} (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
        },
      });
      const json = {
        ...fit.model.toJSON(fit),
        source: { file: input, columns: textColumns.map((c) => header[c]!), reports: texts.length },
        seconds: fit.seconds,
      };
      await writeOutput('out', flags.out, `${JSON.stringify(json, null, 1)}\n`);

      if (flags.assign) {
        const textSet = new Set(textColumns);
        const kept = header.map((_, i) => i).filter((i) => flags.keepText || !textSet.has(i));
        const k = fit.model.k;
        const added = [prefix, ...(flags.oneHot ? Array.from({ length: k }, (_, t) => `${prefix}_${t}`) : [])];
        const taken = new Set(kept.map((i) => header[i]!.trim().toLowerCase()));
        const clash = added.find((name) => taken.has(name.toLowerCase()));
        if (clash) throw new InvalidArgumentError(`--assign: ${input} already has a column "${clash}"; choose another --prefix`);
        const out: Array<Array<string | number>> = [[...kept.map((i) => header[i]!), ...added]];
        body.forEach((fields, d) => {
          const topic = fit.dominant[d]!;
          const oneHot = flags.oneHot ? Array.from({ length: k }, (_, t) => (topic < 0 ? '' : t === topic ? 1 : 0)) : [];
          out.push([...kept.map((i) => fields[i]!), topic < 0 ? '' : topic, ...oneHot]);
        });
        await writeOutput('assign', flags.assign, formatCsv(out));
      }

      const summary = {
        input,
        out: flags.out,
        assign: flags.assign ?? null,
        reports: texts.length,
        vocabulary: fit.model.vocabulary.length,
        documents: fit.documents,
        perplexity: fit.perplexity,
        seconds: fit.seconds,
        settings: {
          k: options.k,
          method: fit.model.settings.method,
          iterations: fit.model.settings.iterations,
          alpha: fit.model.settings.alpha,
          eta: fit.model.settings.eta,
        },
        topics: json.topics.map((t) => ({ topic: t.topic, share: t.share, words: t.words.map((w) => w.word) })),
      };
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        return;
      }
      const fmt = (x: number | null): string => (x === null ? 'n/a' : x.toFixed(2));
      process.stdout.write(
        `${summary.settings.k} topics over ${summary.vocabulary} words from ${texts.length} reports (${fit.documents.fitted} fitted, ${fit.documents.heldOut} held out) in ${fit.seconds.total.toFixed(1)} s; ` +
          `perplexity ${fmt(fit.perplexity.heldOut)} held out, ${fmt(fit.perplexity.train)} on the fitted reports\n`,
      );
      for (const t of summary.topics)
        process.stdout.write(`topic ${String(t.topic).padStart(2)} (${(100 * t.share).toFixed(1).padStart(4)}%): ${t.words.join(' ')}\n`);
      if (fit.documents.empty > 0) process.stdout.write(`${fit.documents.empty} report(s) have no word in the vocabulary: no topic\n`);
      process.stdout.write(`topics: ${flags.out}${flags.assign ? `\nassignments: ${flags.assign}` : ''}\n`);
    });
}
