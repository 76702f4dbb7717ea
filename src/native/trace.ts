import { writeFileAtomicSync } from '../io/atomic.js';
import { resolve } from 'node:path';
import { threadId } from 'node:worker_threads';
import type { NativeAddon, NativeTraceEvent } from './types.js';

/**
 * Chrome trace (chrome://tracing, Perfetto) of native ops and TS-side spans (data loading,
 * encoder calls, optimizer steps) when RADLEARN_TRACE=file.json is set. Native ops record
 * themselves; TS code wraps its work in traceSpan(). Both use the addon's clock. The file is
 * written atomically when the process exits. The loader attaches the addon on load.
 */
let native: NativeAddon | undefined;
let loadNative: (() => void) | undefined;
let tracePath: string | undefined;
const jsEvents: NativeTraceEvent[] = [];
const nativeEvents: NativeTraceEvent[] = [];

export function tracing(): boolean {
  return tracePath !== undefined;
}

/** Called by the loader module so a span opened before any kernel call can load the addon. */
export function setTraceLoader(load: () => void): void {
  loadNative = load;
}

/** Called by the loader: starts tracing if RADLEARN_TRACE names a file. */
export function attachTrace(addon: NativeAddon): void {
  native = addon;
  const target = process.env.RADLEARN_TRACE;
  if (target && !tracePath) startTrace(target);
}

/** Starts recording to `path` (written at exit, or by writeTrace()). */
export function startTrace(path: string): void {
  if (!native) throw new Error('startTrace: the native addon is not loaded yet (call backendInfo() first)');
  if (!tracePath) process.once('exit', () => writeTrace());
  tracePath = resolve(path);
  native.traceEnable(true);
}

/** Times `fn` as one trace span (no cost beyond a branch when tracing is off). */
export async function traceSpan<T>(name: string, category: string, fn: () => Promise<T> | T): Promise<T> {
  if (!native && process.env.RADLEARN_TRACE) loadNative?.();
  if (!tracePath || !native) return fn();
  const clock = native;
  const start = clock.traceNow();
  try {
    return await fn();
  } finally {
    jsEvents.push({ name, cat: category, ts: start, dur: clock.traceNow() - start, tid: 1_000_000 + threadId });
  }
}

/** Writes the trace collected so far (called at exit; callable earlier). Returns the path. */
export function writeTrace(): string | undefined {
  if (!tracePath || !native) return undefined;
  nativeEvents.push(...native.traceTake());
  const traceEvents = [...nativeEvents, ...jsEvents].map((e) => ({ ...e, ph: 'X', pid: process.pid }));
  writeFileAtomicSync(tracePath, JSON.stringify({ traceEvents, displayTimeUnit: 'ms' }));
  return tracePath;
}
