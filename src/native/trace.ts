import { renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { threadId } from 'node:worker_threads';
import { addon } from './addon.js';
import type { NativeTraceEvent } from './types.js';

/**
 * Chrome trace (chrome://tracing, Perfetto) of native ops and TS-side spans (data loading,
 * encoder calls, optimizer steps) when RADLEARN_TRACE=file.json is set. Native ops record
 * themselves; TS code wraps its work in traceSpan(). Both use the addon's clock. The file is
 * written atomically when the process exits.
 */
let tracePath: string | undefined;
const jsEvents: NativeTraceEvent[] = [];
const nativeEvents: NativeTraceEvent[] = [];

export function tracing(): boolean {
  return tracePath !== undefined;
}

/** Turns tracing on if RADLEARN_TRACE names a file (idempotent). */
export function enableTraceFromEnv(): void {
  const target = process.env.RADLEARN_TRACE;
  if (!target || tracePath) return;
  startTrace(target);
}

export function startTrace(path: string): void {
  tracePath = resolve(path);
  addon().traceEnable(true);
  process.once('exit', () => writeTrace());
}

/** Times `fn` as one trace span (no cost beyond a branch when tracing is off). */
export async function traceSpan<T>(name: string, category: string, fn: () => Promise<T> | T): Promise<T> {
  if (!tracePath) return fn();
  const start = addon().traceNow();
  try {
    return await fn();
  } finally {
    jsEvents.push({ name, cat: category, ts: start, dur: addon().traceNow() - start, tid: 1_000_000 + threadId });
  }
}

/** Writes the trace collected so far (called at exit; callable earlier). */
export function writeTrace(): string | undefined {
  if (!tracePath) return undefined;
  nativeEvents.push(...addon().traceTake());
  const traceEvents = [...nativeEvents, ...jsEvents].map((e) => ({ ...e, ph: 'X', pid: process.pid }));
  const tmp = `${tracePath}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify({ traceEvents, displayTimeUnit: 'ms' }));
  renameSync(tmp, tracePath);
  return tracePath;
}
