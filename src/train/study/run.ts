/**
 * runStudy: pre-training arms x downstream arms x label fractions x seeds on one dataset.
 * Each pre-training arm makes an encoder once per seed; each cell trains a downstream run on
 * it (frozen features are cached and shared) and saves its test AUROCs atomically, so a rerun
 * skips finished cells. The report (table + AUROC-vs-label-fraction plots) is rewritten at the end.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { cpus } from 'node:os';
import { generatePhantom, PHANTOM_VERSION } from '../../data/phantom/generate.js';
import { IN_SITE, STUDY_SITE_COLUMN, writeExternalManifest } from './external.js';
import { writeJsonAtomic } from '../../io/atomic.js';
import { train } from '../train.js';
import type { TrainEvent } from '../events.js';
import { DOWNSTREAM_PLANS, PRETRAINING_PLANS } from './arms.js';
import {
  cellFingerprint,
  formatDuration,
  readCell,
  remainingSeconds,
  studyCells,
  writeCell,
  type CellResult,
  type StudyCell,
} from './cells.js';
import { StudyConfigError, type StudyConfig } from './config.js';
import { pretrainEncoder, type StudyData } from './pretrain.js';
import { writeStudyReport } from './report.js';
import { dinoRunNotes } from './dino-notes.js';
import { pretrainLossCurves } from './pretrain-curves.js';
import { checkEncoders, type EncoderCheck } from './encoder-checks.js';
import { singleProcessOnly } from '../../distributed/mpi.js';

export type StudyEvent =
  | { type: 'stage'; message: string }
  | {
      type: 'cell';
      cell: StudyCell;
      index: number;
      total: number;
      seconds: number;
      skipped: boolean;
      remainingSeconds?: number;
      result: CellResult;
    }
  | { type: 'train'; arm: string; event: TrainEvent };

export interface StudyOptions {
  signal?: AbortSignal;
  onEvent?: (e: StudyEvent) => void;
}

export interface StudyResult {
  dir: string;
  cells: CellResult[];
  /** The frozen encoders' kNN and grade-probe figures (encoder-checks.ts), once every cell is done. */
  encoderChecks?: EncoderCheck[];
  complete: boolean;
  table?: string;
  reportPath?: string;
  seconds: number;
  cpuSeconds: number;
}

const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function resolveData(config: StudyConfig, dir: string, emit: (e: StudyEvent) => void): Promise<StudyData> {
  const split = config.data.split;
  if (config.data.manifest) {
    const manifest = resolve(config.data.manifest);
    if (!existsSync(manifest))
      throw new StudyConfigError(`study config key data.manifest: ${manifest} does not exist`, { key: 'data.manifest' });
    return { manifest, labels: config.data.labels, split };
  }
  const p = config.data.phantom;
  const phantomDir = join(dir, `phantom-v${PHANTOM_VERSION}-n${p.n}-s${p.size}-seed${p.seed}`);
  const manifest = join(phantomDir, 'manifest.csv');
  if (!existsSync(manifest)) {
    emit({ type: 'stage', message: `generating the phantom: ${p.n} studies at ${p.size} px in ${phantomDir}` });
    await generatePhantom({ out: phantomDir, n: p.n, size: p.size, seed: p.seed });
  }
  return { manifest, labels: config.data.labels, split };
}

/** The study's data: the source manifest, or with external validation its in-site/external copy. */
async function studyData(config: StudyConfig, dir: string, emit: (e: StudyEvent) => void): Promise<StudyData> {
  const data = await resolveData(config, dir, emit);
  const external = config.data.external;
  if (!external) return data;
  const derived = await writeExternalManifest(data.manifest, external, config.data.split);
  const describe = Object.entries(derived.counts)
    .map(
      ([role, splits]) =>
        `${role === IN_SITE ? `in-site (${external.train.join(', ')})` : `${external.column} ${role}`}: ${Object.entries(splits)
          .map(([s, n]) => `${s} ${n}`)
          .join(', ')}`,
    )
    .join('; ');
  emit({ type: 'stage', message: `external validation by ${external.column}: ${describe}` });
  return { ...data, manifest: derived.manifest, groupBy: STUDY_SITE_COLUMN };
}

async function runCell(
  cell: StudyCell,
  encoder: string,
  config: StudyConfig,
  dir: string,
  data: StudyData,
  options: StudyOptions,
): Promise<CellResult | undefined> {
  const plan = DOWNSTREAM_PLANS[cell.downstream];
  const fine = plan.mode === 'supervised-finetune';
  const t0 = performance.now();
  const c0 = cpuNow();
  const run = train(
    {
      name: cell.id,
      mode: plan.mode,
      runsDir: join(dir, 'runs'),
      cacheDir: join(dir, 'cache'),
      seed: cell.seed,
      logEvery: 25,
      ...(fine
        ? { steps: config.steps.finetune, batchSize: config.batchSize.finetune }
        : { steps: config.steps.downstream, batchSize: config.batchSize.downstream }),
      checkpoint: { every: fine ? config.steps.finetune : config.steps.downstream, keep: 1 },
      data: {
        manifest: data.manifest,
        labelFraction: cell.fraction,
        ...(data.labels ? { labels: data.labels } : {}),
        ...(data.split ? { split: data.split } : {}),
      },
      image: { model: encoder, size: config.imageSize },
      head: { kind: plan.head, hidden: 128 },
      distill: { teacherSteps: config.steps.teacher },
      optim: fine
        ? { lr: config.lr.finetune, warmupSteps: Math.floor(config.steps.finetune / 10) }
        : { lr: config.lr.downstream, warmupSteps: Math.floor(config.steps.downstream / 10) },
      eval: { zeroShot: false, linearProbe: false, sweep: null, ...(data.groupBy ? { groupBy: data.groupBy } : {}) },
      export: false,
    },
    { overwrite: true, signal: options.signal },
  );
  for await (const event of run) options.onEvent?.({ type: 'train', arm: cell.id, event });
  const r = await run.result;
  if (r.interrupted) return undefined;
  const named = (name: string): (typeof r.evaluations)[number] => {
    const found = r.evaluations.find((e) => e.name === name);
    if (!found)
      throw new StudyConfigError(
        `cell ${cell.id}: the ${plan.mode} run has no evaluation named '${name}' (got: ${r.evaluations.map((e) => e.name).join(', ')})`,
      );
    return found;
  };
  const groupPrefix = `${plan.evaluation} · ${data.groupBy} `;
  const ev = named(data.groupBy ? `${groupPrefix}${IN_SITE}` : plan.evaluation);
  const external = data.groupBy
    ? r.evaluations
        .filter((e) => e.name.startsWith(groupPrefix) && e.name !== `${groupPrefix}${IN_SITE}`)
        .map((e) => ({ site: e.name.slice(groupPrefix.length), perLabel: e.perLabel }))
    : undefined;
  return {
    ...cell,
    fingerprint: cellFingerprint(config, cell),
    evaluation: ev.name,
    perLabel: ev.perLabel,
    ...(external ? { external } : {}),
    seconds: (performance.now() - t0) / 1000,
    cpuSeconds: cpuNow() - c0,
    finishedAt: new Date().toISOString(),
  };
}

export async function runStudy(config: StudyConfig, options: StudyOptions = {}): Promise<StudyResult> {
  singleProcessOnly('radlearn study');
  const t0 = performance.now();
  const c0 = cpuNow();
  const emit = (e: StudyEvent): void => options.onEvent?.(e);
  const dir = resolve(config.out);
  await mkdir(join(dir, 'cells'), { recursive: true });
  await writeJsonAtomic(join(dir, 'study.json'), config);
  const data = await studyData(config, dir, emit);
  const cells = studyCells(config);
  const results: CellResult[] = [];
  const timings: number[] = [];
  const pretrainTimings: number[] = [];
  const encoders = new Map<string, string>();
  let complete = true;
  for (let i = 0; i < cells.length; i++) {
    if (options.signal?.aborted) {
      complete = false;
      break;
    }
    const cell = cells[i]!;
    const saved = await readCell(dir, cell, cellFingerprint(config, cell));
    if (saved) {
      results.push(saved);
      emit({ type: 'cell', cell, index: i, total: cells.length, seconds: 0, skipped: true, result: saved });
      continue;
    }
    const key = `${cell.pretraining}-s${cell.seed}`;
    let encoder = encoders.get(key);
    if (!encoder) {
      const pretrainStart = performance.now();
      emit({
        type: 'stage',
        message: `pre-training ${cell.pretraining} (seed ${cell.seed}): ${PRETRAINING_PLANS[cell.pretraining].description}`,
      });
      encoder = await pretrainEncoder(cell.pretraining, cell.seed, {
        config,
        dir,
        data,
        signal: options.signal,
        onEvent: (arm, event) => emit({ type: 'train', arm, event }),
      });
      if (!encoder) {
        complete = false;
        break;
      }
      encoders.set(key, encoder);
      pretrainTimings.push((performance.now() - pretrainStart) / 1000);
    }
    const started = performance.now();
    const result = await runCell(cell, encoder, config, dir, data, options);
    if (!result) {
      complete = false;
      break;
    }
    await writeCell(dir, result);
    results.push(result);
    timings.push((performance.now() - started) / 1000);
    // remaining cells at their mean time, plus the encoders still to pre-train at the mean pre-training time
    const rest = cells.slice(i + 1);
    const pending = new Set(rest.map((c) => `${c.pretraining}-s${c.seed}`).filter((k) => !encoders.has(k)));
    const pretrainLeft = pending.size === 0 ? 0 : (remainingSeconds(pretrainTimings, pending.size) ?? 0);
    const estimate = (remainingSeconds(timings, rest.length) ?? 0) + pretrainLeft;
    emit({
      type: 'cell',
      cell,
      index: i,
      total: cells.length,
      seconds: timings[timings.length - 1]!,
      skipped: false,
      remainingSeconds: estimate,
      result,
    });
  }
  const out: StudyResult = { dir, cells: results, complete, seconds: 0, cpuSeconds: 0 };
  if (results.length > 0) {
    const labelNames = [...new Set(results.flatMap((r) => r.perLabel.map((l) => l.label)))];
    const unmentioned = config.data.unmentioned.filter((l) => labelNames.includes(l));
    if (complete) {
      emit({ type: 'stage', message: 'frozen encoders: kNN on the mentioned labels and the grade probe, in-site and external' });
      // encoders of cells finished in an earlier session are on disk: pretrainEncoder returns them
      for (let seed = 0; seed < config.seeds; seed++)
        for (const arm of config.pretraining) {
          const key = `${arm}-s${seed}`;
          if (encoders.has(key)) continue;
          const encoder = await pretrainEncoder(arm, seed, { config, dir, data, signal: options.signal });
          if (encoder) encoders.set(key, encoder);
        }
      out.encoderChecks = await checkEncoders(config, dir, data, encoders, unmentioned);
      await writeJsonAtomic(join(dir, 'encoder-checks.json'), out.encoderChecks);
    }
    const { files, table } = await writeStudyReport(
      dir,
      config,
      results,
      labelNames,
      unmentioned,
      {
        dataset: data.manifest,
        cells: `${results.length}/${cells.length}`,
        seeds: config.seeds,
        imageSize: config.imageSize,
        vit: `dim ${config.vit.dim}, depth ${config.vit.depth}, patch ${config.vit.patchSize}`,
        cpus: cpus().length,
      },
      [
        ...config.pretraining.map((a) => `Pre-training ${a}: ${PRETRAINING_PLANS[a].description}.`),
        ...config.downstream.map((a) => `Downstream ${a}: ${DOWNSTREAM_PLANS[a].description}.`),
        'Label fraction: the share of training studies whose labels the downstream arm sees (pre-training uses all training images and reports, never labels).',
        ...(await dinoRunNotes(dir, config)),
      ],
      await pretrainLossCurves(dir, config),
      out.encoderChecks,
    );
    out.table = table;
    out.reportPath = files.markdown;
  }
  out.seconds = (performance.now() - t0) / 1000;
  out.cpuSeconds = cpuNow() - c0;
  return out;
}

export { formatDuration };
