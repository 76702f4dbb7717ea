/**
 * A run's folder, runs/<name>/: created, started over (overwrite) or reopened for a resume. A
 * resume is checked here, before any costly data work: the newest intact checkpoint is loaded
 * (damaged newer ones are reported and set aside) and its config hash must match the config's,
 * or the refusal names the keys that changed. A fresh run writes config.json at once; a resumed
 * one rewrites it once the checkpoint is restored (writeRunConfig).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeJsonAtomic } from '../io/atomic.js';
import { hasCheckpoint, loadLatestCheckpoint, outdatedCheckpointFiles, type LoadedTrainerCheckpoint } from './checkpoint.js';
import { changedTrainingKeys, configHash } from './config-hash.js';
import type { TrainConfig } from './config.js';
import { OutdatedCheckpointError, ResumeMismatchError, RunExistsError } from './errors.js';
import type { TrainEvent } from './events.js';
import { reportStaleTempFiles } from './stale-temp.js';

export interface RunFolder {
  runDir: string;
  checkpointDir: string;
  metricsPath: string;
  /** The checkpoint a resume continues from: intact, and made with this config's training keys. */
  resumeFrom?: LoadedTrainerCheckpoint;
}

export interface RunFolderOptions {
  resume?: boolean;
  overwrite?: boolean;
  /**
   * A data-parallel job's rank other than 0, after rank 0 opened the folder: it changes nothing
   * there and, on resume, loads the checkpoint rank 0 continues from.
   */
  follower?: boolean;
}

export async function openRunFolder(config: TrainConfig, options: RunFolderOptions, emit: (e: TrainEvent) => void): Promise<RunFolder> {
  const runDir = resolve(config.runsDir, config.name);
  const checkpointDir = join(runDir, 'checkpoints');
  const metricsPath = join(runDir, 'metrics.jsonl');
  if (options.follower) {
    const folder: RunFolder = { runDir, checkpointDir, metricsPath };
    if (options.resume) folder.resumeFrom = await loadLatestCheckpoint(checkpointDir);
    return folder;
  }
  const outdated = outdatedCheckpointFiles(checkpointDir);
  // such a run can only start over: resuming it is refused even when overwrite is also asked for
  if (outdated.length > 0 && (options.resume || !options.overwrite))
    throw new OutdatedCheckpointError(
      runDir,
      outdated.map((name) => join(checkpointDir, name)),
    );
  if ((outdated.length > 0 || hasCheckpoint(checkpointDir)) && !options.resume) {
    if (!options.overwrite) throw new RunExistsError(runDir);
    await rm(checkpointDir, { recursive: true, force: true });
    await rm(metricsPath, { force: true });
  }
  await reportStaleTempFiles([runDir, checkpointDir], emit);
  const folder: RunFolder = { runDir, checkpointDir, metricsPath };
  if (options.resume) {
    const loaded = await loadLatestCheckpoint(checkpointDir);
    if (loaded.warning) emit({ type: 'stage', stage: 'warning', message: loaded.warning });
    await assertSameTrainingConfig(runDir, loaded.state.configHash, config);
    folder.resumeFrom = loaded;
  }
  await mkdir(checkpointDir, { recursive: true });
  if (!options.resume) await writeRunConfig(runDir, config);
  return folder;
}

export async function writeRunConfig(runDir: string, config: TrainConfig): Promise<void> {
  await writeJsonAtomic(join(runDir, 'config.json'), config);
}

/** The checkpoint's config hash must be this config's; the refusal names what changed since config.json. */
async function assertSameTrainingConfig(runDir: string, saved: string, config: TrainConfig): Promise<void> {
  const hash = configHash(config);
  if (saved === hash) return;
  const path = join(runDir, 'config.json');
  const previous = existsSync(path)
    ? await readFile(path, 'utf8').then(
        (t) => JSON.parse(t) as TrainConfig,
        () => undefined,
      )
    : undefined;
  const keys = previous === undefined ? [] : changedTrainingKeys(previous, config);
  throw new ResumeMismatchError(
    `cannot resume ${runDir}: the configuration differs from the one the checkpoint was made with` +
      (keys.length > 0 ? ` (changed: ${keys.join(', ')})` : ` (hash ${saved} vs ${hash})`) +
      '; resume with the same config',
    { runDir, keys },
  );
}
