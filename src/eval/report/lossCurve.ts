/**
 * Loss curves from a run's metrics.jsonl: one JSON object per line; lines that
 * carry a finite step and loss become points (others, e.g. eval or checkpoint
 * events, are skipped). Keys are configurable because runs log several losses.
 */
import { readFile } from 'node:fs/promises';
import { MissingFileError, InvalidArgumentError } from '../../errors.js';
import type { LossCurve } from './plots.js';

export interface LossCurveOptions {
  stepKey?: string;
  lossKey?: string;
  /** Keep only records whose `type` field equals this (e.g. 'step'). */
  type?: string;
}

export function lossPointsFromJsonl(
  text: string,
  options: LossCurveOptions = {},
  source = 'metrics.jsonl',
): { step: number; loss: number }[] {
  const stepKey = options.stepKey ?? 'step';
  const lossKey = options.lossKey ?? 'loss';
  const points: { step: number; loss: number }[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed.length === 0) return;
    let record: unknown;
    try {
      record = JSON.parse(trimmed);
    } catch {
      // A run killed mid-write leaves a partial last line: tolerate that one only.
      if (i === lines.length - 1 || lines.slice(i + 1).every((l) => l.trim() === '')) return;
      throw new InvalidArgumentError(`${source}:${i + 1}: not valid JSON`, { line: i + 1 });
    }
    if (typeof record !== 'object' || record === null) return;
    const r = record as Record<string, unknown>;
    if (options.type !== undefined && r.type !== options.type) return;
    const step = r[stepKey];
    const loss = r[lossKey];
    if (typeof step === 'number' && typeof loss === 'number' && Number.isFinite(step) && Number.isFinite(loss)) points.push({ step, loss });
  });
  return points;
}

export async function readLossCurve(path: string, name: string, options: LossCurveOptions = {}): Promise<LossCurve> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new MissingFileError(path, 'metrics log');
    throw error;
  }
  return { name, points: lossPointsFromJsonl(text, options, path) };
}
