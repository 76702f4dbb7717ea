import { describe, expect, it } from 'vitest';
import { applyOverrides, parseTrainConfig, TrainConfigError } from '../../../src/train/config.js';

const base = { name: 'r1', mode: 'contrastive', data: { manifest: 'm.csv' } };

function errorOf(raw: unknown): TrainConfigError {
  try {
    parseTrainConfig(raw);
  } catch (e) {
    return e as TrainConfigError;
  }
  throw new Error('expected a config error');
}

describe('training config', () => {
  it('fills defaults', () => {
    const c = parseTrainConfig(base);
    expect(c.loss.kind).toBe('infonce');
    expect(c.loss.maxLogitScale).toBe(100);
    expect(c.optim.lr).toBeGreaterThan(0);
    expect(c.data.sentences.min).toBe(1);
  });

  it('names the offending key: wrong type, unknown key, bad enum, missing key', () => {
    let e = errorOf({ ...base, optim: { lr: 'fast' } });
    expect(e.code).toBe('ERR_TRAIN_CONFIG');
    expect(e.message).toMatch(/optim\.lr/);
    e = errorOf({ ...base, optim: { learningRate: 1 } });
    expect(e.message).toMatch(/optim\.learningRate.*unknown key/);
    e = errorOf({ ...base, loss: { kind: 'triplet' } });
    expect(e.message).toMatch(/loss\.kind/);
    e = errorOf({ name: 'x', mode: 'distill' });
    expect(e.message).toMatch(/config key data/);
    e = errorOf({ ...base, loss: { kind: 'siglip', relaxThreshold: 0.8 } });
    expect(e.message).toMatch(/loss\.relaxThreshold/);
    e = errorOf({ ...base, data: { manifest: 'm.csv', sentences: { min: 3, max: 2 } } });
    expect(e.message).toMatch(/data\.sentences\.max/);
  });

  it('applies --set overrides with JSON values before validation', () => {
    const raw = applyOverrides(base, ['optim.lr=0.03', 'loss.groups=labels', 'steps=7', 'eval.zeroShot=false', 'data.labels=["A","B"]']);
    const c = parseTrainConfig(raw);
    expect(c.optim.lr).toBe(0.03);
    expect(c.loss.groups).toBe('labels');
    expect(c.steps).toBe(7);
    expect(c.eval.zeroShot).toBe(false);
    expect(c.data.labels).toEqual(['A', 'B']);
    expect(base).not.toHaveProperty('optim');
    expect(() => applyOverrides(base, ['noequals'])).toThrow(/key\.path=value/);
    expect(() => applyOverrides(base, ['name.x=1'])).toThrow(/not an object/);
  });
});
