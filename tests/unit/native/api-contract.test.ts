// The public kernel API's error contract: Promise forms reject (never throw synchronously),
// every error a caller can trigger is a RadlearnError with a code, and the thread pool has a cap.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import * as radlearn from '../../../src/index.js';
import { RadlearnError } from '../../../src/errors.js';

const api = radlearn as unknown as Record<string, unknown>;
const promiseForms = Object.keys(api).filter((name) => typeof api[name] === 'function' && typeof api[`${name}Sync`] === 'function');

function typedError(call: () => unknown): RadlearnError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(RadlearnError);
    expect((error as RadlearnError).code).toMatch(/^ERR_[A-Z_]+$/);
    return error as RadlearnError;
  }
  throw new Error('expected a typed error');
}

describe('the kernel API contract', () => {
  it('finds the Promise forms', () => {
    expect(promiseForms).toEqual(expect.arrayContaining(['similarity', 'adamwStep', 'augment', 'contrastiveLoss', 'ibotLoss', 'bceWithLogits', 'gelu']));
  });

  for (const name of promiseForms) {
    it(`${name}() with bad arguments returns a rejected Promise with a typed error`, async () => {
      for (const args of [[], [null, null, null], [new Float32Array(3), new Float32Array(3), 42, 42]]) {
        let returned: unknown;
        expect(() => { returned = (api[name] as (...a: unknown[]) => unknown)(...args); }).not.toThrow();
        expect(returned).toBeInstanceOf(Promise);
        const error = await (returned as Promise<unknown>).then(() => undefined, (e: unknown) => e);
        expect(error, `${name}(${args.length} args)`).toBeInstanceOf(RadlearnError);
      }
    });
  }

  it("backend: 'cuda' without a usable device is ERR_BACKEND_UNAVAILABLE, saying why", () => {
    if (radlearn.backendInfo().device) return; // this machine has a GPU: nothing to refuse
    const error = typedError(() => radlearn.similaritySync(new Float32Array(4), new Float32Array(4), { n: 1, m: 1, d: 4, backend: 'cuda' }));
    expect(error.code).toBe('ERR_BACKEND_UNAVAILABLE');
    expect(typedError(() => radlearn.similaritySync(new Float32Array(4), new Float32Array(4), { n: 1, m: 1, d: 4, backend: 'gpu' as never })).code).toBe('ERR_INVALID_ARGUMENT');
  });

  it('arguments that used to escape as TypeError or RangeError are typed', () => {
    const { augmentSync, createHead, bceWithLogitsSync, cosineSchedule, DeviceTensor, AdamW, labelReport } = radlearn;
    const image = { data: new Uint8Array(16), height: 4, width: 4 };
    expect(typedError(() => augmentSync([image], { crops: [{ count: 2n as never, size: 4, scale: [0.5, 1] }] }, { seed: 1 })).message).toMatch(/count .* got the BigInt 2n/);
    expect(typedError(() => augmentSync([image], { crops: [null as never] }, { seed: 1 })).message).toMatch(/crops\[0\]/);
    expect(typedError(() => createHead({ inFeatures: 2 ** 20, outFeatures: 2 ** 20, seed: 1 })).code).toBe('ERR_SHAPE');
    expect(typedError(() => createHead(null as never)).code).toBe('ERR_INVALID_ARGUMENT');
    const mask = new Uint8Array(4);
    structuredClone(mask.buffer, { transfer: [mask.buffer] });
    expect(typedError(() => bceWithLogitsSync(new Float32Array(4), new Float32Array(4), { rows: 2, classes: 2, mask })).code).toBe('ERR_BUFFER_DETACHED');
    expect(typedError(() => cosineSchedule(undefined as never)).code).toBe('ERR_INVALID_ARGUMENT');
    expect(typedError(() => DeviceTensor.upload(new Float32Array(4), 4 as never)).code).toBe('ERR_INVALID_ARGUMENT');
    expect(typedError(() => new AdamW(4).stepSync(new Float32Array(4), new Float32Array(4), null as never)).code).toBe('ERR_INVALID_ARGUMENT');
    expect(typedError(() => labelReport(null as never)).code).toBe('ERR_INVALID_ARGUMENT');
  });
});

describe('the thread pool has a cap', () => {
  it('setThreads refuses more than 4x the hardware threads, with the limit in the message', () => {
    const { setThreads, backendInfo } = radlearn;
    const before = backendInfo().threads;
    try {
      const error = typedError(() => setThreads(1e9));
      expect(error.message).toMatch(/at most|to \d+/);
      expect(typedError(() => setThreads(2.5)).code).toBe('ERR_INVALID_ARGUMENT');
      expect(setThreads(2)).toBe(2);
    } finally {
      setThreads(0);
    }
    expect(backendInfo().threads).toBe(before);
  });

  it('RADLEARN_THREADS beyond the cap (or not a count) is a typed error before any kernel runs', () => {
    for (const value of ['1000000', 'lots', '-3']) {
      const script = `
        const k = await import(${JSON.stringify(new URL('../../../src/index.ts', import.meta.url).href)});
        try { k.backendInfo(); console.log('no error'); } catch (e) { console.log(e.code + ' ' + e.message); }
      `;
      const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        encoding: 'utf8', timeout: 60_000, env: { ...process.env, RADLEARN_THREADS: value },
      });
      expect(child.stdout).toMatch(new RegExp(`^ERR_INVALID_ARGUMENT RADLEARN_THREADS must be a whole number from 1 to \\d+ .*got '${value}'`));
    }
  });
});
