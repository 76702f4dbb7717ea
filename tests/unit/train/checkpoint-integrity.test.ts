/**
 * Checkpoint files are verified before anything is loaded from them: a change of any single byte
 * in the tensors or state file rejects that checkpoint (naming file and part), a damaged pointer
 * is reported and bypassed, malformed JSON gives a typed error naming the file, and files that
 * carry no digests are refused. Checkpoints with and without a task's own state (the DINO centers).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLatestCheckpoint, readLatestState, saveCheckpoint } from '../../../src/train/checkpoint.js';
import type { FlatOptimizer } from '../../../src/train/ops.js';
import { FlatParameters } from '../../../src/train/parameters.js';

const fresh = (): string => mkdtempSync(join(tmpdir(), 'radlearn-ckpt-'));

function contents(seed: number) {
  const params = new FlatParameters(
    [
      { name: 'proj.weight', shape: [3, 4], init: { kind: 'normal', std: 0.5 } },
      { name: 'proj.bias', shape: [3], init: { kind: 'constant', value: 0.25 } },
    ],
    seed,
  );
  const optimizer: FlatOptimizer = {
    params: params.data,
    m: params.data.map((v) => v / 10),
    v: params.data.map((v) => v * v),
    step: 7,
    update: () => 0,
  };
  return { params, optimizers: new Map([['main', optimizer]]), ema: params.data.map((v) => v * 0.9) };
}

async function trainerCheckpoint(dir: string, step: number, keep = 3, state?: Record<string, Float32Array>): Promise<void> {
  const c = contents(step);
  await saveCheckpoint(
    dir,
    {
      step,
      totalSteps: 12,
      phase: 'contrastive',
      configHash: 'abc123',
      rng: { kind: 'counter', seed: 5, streams: ['data-order/<phase>/<epoch>'] },
      dataOrder: { phase: 'contrastive', epoch: 0, position: step, permutation: [3, 1, 0, 2, 5, 4] },
      optimizer: { kind: 'adamw', groups: { main: { step, range: [0, c.params.data.length] } } },
      ema: true,
      lastLoss: 1.5 + step,
    },
    { ...c, ...(state ? { state } : {}) },
    keep,
  );
}

/** A checkpoint that also carries a task's own buffers, as the dino mode's centers. */
async function taskStateCheckpoint(dir: string, step: number, keep = 3): Promise<void> {
  const ramp = (n: number, k: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * k + step));
  await trainerCheckpoint(dir, step, keep, { 'dino.center': ramp(4, 5), 'ibot.center': ramp(4, 6) });
}

/**
 * Calls `check` once per changed byte at a dense, deterministic sample of positions (the first
 * 64 bytes, then every third), each flipped by a mask that cycles through low, high and all bits;
 * the file is restored after each.
 */
async function forEachFlip(path: string, check: (position: number) => Promise<void>, every = 3): Promise<number> {
  const original = readFileSync(path);
  const masks = [0x01, 0x80, 0xff, 0x20];
  let checked = 0;
  try {
    for (let i = 0; i < original.length; i += i < 64 ? 1 : every) {
      const damaged = Buffer.from(original);
      damaged[i]! ^= masks[i % masks.length]!;
      writeFileSync(path, damaged);
      await check(i);
      checked++;
    }
  } finally {
    writeFileSync(path, original);
  }
  return checked;
}

/** Every single-bit flip of every byte of `bytes`: `accepts` must say no to each. */
function everyBitFlip(bytes: Uint8Array, accepts: (damaged: Uint8Array) => boolean): { checked: number; accepted: number[] } {
  const accepted: number[] = [];
  let checked = 0;
  const damaged = Uint8Array.from(bytes);
  for (let i = 0; i < bytes.length; i++) {
    for (let bit = 0; bit < 8; bit++) {
      damaged[i] = bytes[i]! ^ (1 << bit);
      if (accepts(damaged)) accepted.push(i);
      checked++;
    }
    damaged[i] = bytes[i]!;
  }
  return { checked, accepted };
}

async function rejection(promise: Promise<unknown>): Promise<{
  code?: string;
  message: string;
  details: { tried: Array<{ path: string; reason: string; part?: string; expected?: string; found?: string }> };
}> {
  const outcome = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (outcome === undefined) throw new Error('a damaged checkpoint was accepted');
  return outcome as never;
}

type ResumeLoad = (dir: string) => Promise<{ warning?: string; state?: { step: number }; step?: number }>;

/** The loader a resume uses. */
function resumeLoader(): ResumeLoad {
  return loadLatestCheckpoint as ResumeLoad;
}

const formats = [
  {
    name: 'trainer',
    write: trainerCheckpoint,
    read: readLatestState,
    stem: 'step-0000004',
    pointer: 'latest.json',
    stateFormat: 'radlearn-checkpoint-v2',
    pointerFormat: 'radlearn-checkpoint-pointer-v2',
    tensors: ['proj.weight', 'proj.bias', 'optimizer.main.exp_avg', 'optimizer.main.exp_avg_sq', 'ema'],
  },
  {
    name: 'task state',
    write: taskStateCheckpoint,
    read: readLatestState,
    stem: 'step-0000004',
    pointer: 'latest.json',
    stateFormat: 'radlearn-checkpoint-v2',
    pointerFormat: 'radlearn-checkpoint-pointer-v2',
    tensors: [
      'proj.weight',
      'proj.bias',
      'optimizer.main.exp_avg',
      'optimizer.main.exp_avg_sq',
      'ema',
      'state.dino.center',
      'state.ibot.center',
    ],
  },
] as const;

describe.each(formats)('$name checkpoints', (format) => {
  it('a byte changed anywhere in the tensors file (header, metadata, each tensor) or the state file rejects the checkpoint', async () => {
    const dir = fresh();
    await format.write(dir, 4);
    await expect(format.read(dir)).resolves.toMatchObject({ step: 4 });
    const damagedParts = new Set<string>();
    for (const file of [`${format.stem}.safetensors`, `${format.stem}.json`]) {
      const path = join(dir, file);
      const flips = await forEachFlip(path, async (position) => {
        const error = await rejection(format.read(dir));
        if (error.code !== 'ERR_CHECKPOINT_DAMAGED') throw new Error(`byte ${position} of ${file}: ${error.code} ${error.message}`);
        expect(error.details.tried[0]!.path).toBe(path);
        if (error.details.tried[0]!.part) damagedParts.add(error.details.tried[0]!.part);
      });
      expect(flips).toBeGreaterThan(readFileSync(path).length / 3);
    }
    // data flips name the damaged tensor; header flips say so
    for (const name of [...format.tensors, 'header', 'digest']) expect(damagedParts).toContain(name);
    await expect(format.read(dir)).resolves.toMatchObject({ step: 4 });
  });

  it('every single-bit flip of every byte of the tensors, state and pointer files fails verification', async () => {
    const dir = fresh();
    await format.write(dir, 4);
    const { openSealedJson } = await import('../../../src/train/sealed-json.js');
    const { parseIntegrity, verifyTensors } = await import('../../../src/train/checkpoint-integrity.js');
    const stateBytes = readFileSync(join(dir, `${format.stem}.json`));
    const opened = openSealedJson(stateBytes, 'state', format.stateFormat);
    if (!opened.ok) throw new Error(opened.rejection.reason);
    const integrity = parseIntegrity(opened.value.integrity);
    if (typeof integrity === 'string') throw new Error(integrity);
    const tensors = readFileSync(join(dir, `${format.stem}.safetensors`));
    const intact = verifyTensors(tensors, integrity, 'tensors');
    if (!intact.ok) throw new Error(intact.rejection.reason);
    const results = [
      everyBitFlip(tensors, (bytes) => verifyTensors(bytes, integrity, 'tensors').ok),
      everyBitFlip(stateBytes, (bytes) => openSealedJson(bytes, 'state', format.stateFormat).ok),
      everyBitFlip(readFileSync(join(dir, format.pointer)), (bytes) => openSealedJson(bytes, 'pointer', format.pointerFormat).ok),
    ];
    for (const r of results) {
      expect(r.accepted).toEqual([]);
      expect(r.checked).toBeGreaterThan(1000);
    }
  });

  it('a damaged tensor is reported with its name and the expected and found digests', async () => {
    const dir = fresh();
    await format.write(dir, 4);
    const path = join(dir, `${format.stem}.safetensors`);
    const bytes = readFileSync(path);
    bytes[bytes.length - 1]! ^= 0x10; // the last tensor's last byte
    writeFileSync(path, bytes);
    const error = await rejection(format.read(dir));
    const last = format.tensors[format.tensors.length - 1]!;
    expect(error.details.tried[0]).toMatchObject({
      path,
      part: last,
      expected: expect.stringMatching(/^[0-9a-f]{64}$/),
      found: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(error.message).toContain(path);
    expect(error.message).toContain(`tensor ${last}`);
  });

  it('truncation of any file at several lengths is detected', async () => {
    const dir = fresh();
    await format.write(dir, 4);
    for (const file of [`${format.stem}.safetensors`, `${format.stem}.json`]) {
      const path = join(dir, file);
      const original = readFileSync(path);
      for (const length of [0, 1, 7, 8, 9, Math.floor(original.length / 2), original.length - 2, original.length - 1]) {
        writeFileSync(path, original.subarray(0, length));
        const error = await rejection(format.read(dir));
        expect(error.code).toBe('ERR_CHECKPOINT_DAMAGED');
        expect(error.details.tried[0]!.path).toBe(path);
      }
      writeFileSync(path, Buffer.concat([original, Buffer.from(' ')]));
      expect((await rejection(format.read(dir))).code).toBe('ERR_CHECKPOINT_DAMAGED');
      writeFileSync(path, original);
    }
  });

  it('malformed JSON (state file, safetensors header) is a typed error naming the file and the problem', async () => {
    const dir = fresh();
    await format.write(dir, 4);
    const statePath = join(dir, `${format.stem}.json`);
    const state = readFileSync(statePath);
    writeFileSync(statePath, state.subarray(0, state.length >> 1));
    const error = await rejection(format.read(dir));
    expect(error).not.toBeInstanceOf(SyntaxError);
    expect(error.code).toBe('ERR_CHECKPOINT_DAMAGED');
    expect(error.message).toContain(statePath);
    expect(error.message).toMatch(/is not valid JSON \(.+\)/);
    writeFileSync(statePath, state);

    const tensorsPath = join(dir, `${format.stem}.safetensors`);
    const tensors = readFileSync(tensorsPath);
    const damaged = Buffer.from(tensors);
    damaged[8 + 1] = '}'.charCodeAt(0); // the header's first key loses its opening quote
    writeFileSync(tensorsPath, damaged);
    const headerError = await rejection(format.read(dir));
    expect(headerError.message).toContain(tensorsPath);
    expect(headerError.message).toContain(`${tensorsPath}: header is damaged: header is not valid JSON`);
  });

  it('a byte changed anywhere in the pointer is reported, and the newest intact checkpoint is used instead', async () => {
    const load = resumeLoader();
    const dir = fresh();
    await format.write(dir, 2);
    await format.write(dir, 4);
    const pointer = join(dir, format.pointer);
    await forEachFlip(
      pointer,
      async (position) => {
        const loaded = await load(dir);
        expect(loaded.state?.step ?? loaded.step, `byte ${position}`).toBe(4);
        expect(loaded.warning, `byte ${position}`).toContain(pointer);
      },
      1,
    );
    const whole = readFileSync(pointer);
    for (const [length, problem] of [
      [0, /is empty/],
      [5, /is not valid JSON/],
      [whole.length - 1, /differs from its canonical serialisation/],
    ] as const) {
      writeFileSync(pointer, whole.subarray(0, length));
      const loaded = await load(dir);
      expect(loaded.warning).toMatch(problem);
      // the pointer is rewritten once the intact checkpoint is chosen
      expect((await load(dir)).warning).toBeUndefined();
    }
  });

  it('a file without digests (older format) is refused with the reason, even when otherwise intact', async () => {
    const dir = fresh();
    await format.write(dir, 4);
    const statePath = join(dir, `${format.stem}.json`);
    const sealed = JSON.parse(readFileSync(statePath, 'utf8')) as Record<string, unknown>;
    const { digest: _digest, integrity: _integrity, ...older } = sealed;
    writeFileSync(statePath, `${JSON.stringify({ ...older, format: String(older.format).replace('-v2', '-v1') }, null, 2)}\n`);
    const error = await rejection(format.read(dir));
    expect(error.code).toBe('ERR_CHECKPOINT_DAMAGED');
    expect(error.message).toMatch(/carries no digest, so its integrity cannot be verified/);
    // changing only the format string of a sealed file does not make it an "older" file either
    writeFileSync(statePath, `${JSON.stringify({ ...sealed, format: String(sealed.format).replace('-v2', '-v1') }, null, 2)}\n`);
    expect((await rejection(format.read(dir))).details.tried[0]).toMatchObject({ part: 'digest' });
  });

  it('falls back to the previous intact checkpoint with a warning, and refuses with every reason when none is intact', async () => {
    const load = resumeLoader();
    const dir = fresh();
    for (const step of [2, 4, 6]) await format.write(dir, step, 2);
    expect(existsSync(join(dir, `${format.stem.replace('4', '2')}.json`))).toBe(false); // keep: 2
    const newest = join(dir, `${format.stem.replace('4', '6')}.safetensors`);
    const bytes = readFileSync(newest);
    bytes[bytes.length - 3]! ^= 0x01;
    writeFileSync(newest, bytes);
    // read-only reading already skips it
    await expect(format.read(dir)).resolves.toMatchObject({ step: 4 });
    const loaded = await load(dir);
    expect(loaded.state?.step ?? loaded.step).toBe(4);
    expect(loaded.warning).toContain(newest);
    expect(loaded.warning).toMatch(/data SHA-256 is [0-9a-f]{64}, recorded [0-9a-f]{64}/);
    // the rejected files leave the rotation but stay for inspection
    expect(existsSync(newest)).toBe(false);
    expect(existsSync(`${newest}.damaged`)).toBe(true);

    const older = join(dir, `${format.stem}.json`);
    writeFileSync(older, readFileSync(older, 'utf8').replace('"step": 4', '"step": 5'));
    writeFileSync(`${newest.slice(0, -'.safetensors'.length)}.json`, '{"step": 6'); // a newer, truncated state
    const error = await rejection(load(dir));
    expect(error.code).toBe('ERR_CHECKPOINT_DAMAGED');
    expect(error.details.tried.map((t) => t.path)).toEqual([`${newest.slice(0, -'.safetensors'.length)}.json`, older]);
    expect(error.message).toMatch(/is not valid JSON/);
    expect(error.message).toMatch(/does not match its recorded SHA-256 digest/);
  });

  it('a pointer naming a checkpoint that is gone is reported, and the files present are scanned', async () => {
    const load = resumeLoader();
    const dir = fresh();
    await format.write(dir, 2);
    await format.write(dir, 4);
    rmSync(join(dir, `${format.stem}.json`));
    rmSync(join(dir, `${format.stem}.safetensors`));
    const loaded = await load(dir);
    expect(loaded.state?.step ?? loaded.step).toBe(2);
    expect(loaded.warning).toContain(`${join(dir, format.pointer)}: names ${format.stem}.json, which does not exist`);
  });

  it('with no checkpoint at all, resuming names the missing pointer', async () => {
    const error = await rejection(format.read(fresh()));
    expect(error.code).toBe('ERR_MISSING_FILE');
    expect(error.message).toContain(format.pointer);
  });
});
