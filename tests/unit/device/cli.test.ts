import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { deviceLines } from '../../../src/cli/commands/doctor.js';
import { deviceFlagOverrides, registerTrain } from '../../../src/cli/commands/train.js';
import { DeviceUnavailableError } from '../../../src/device/errors.js';
import { resolveDevicePlan } from '../../../src/device/plan.js';
import { InvalidArgumentError } from '../../../src/errors.js';
import { captureCli } from '../../helpers/cli.js';

describe('radlearn train --device', () => {
  it('stands for the device config key and accepts only auto, cpu, cuda', () => {
    expect(deviceFlagOverrides({})).toEqual([]);
    expect(deviceFlagOverrides({ device: 'cuda' })).toEqual(['device="cuda"']);
    expect(() => deviceFlagOverrides({ device: 'gpu' })).toThrow(InvalidArgumentError);
    expect(() => deviceFlagOverrides({ device: 'gpu' })).toThrow(/--device must be one of auto, cpu, cuda, got 'gpu'/);
  });

  it('--device cuda without a usable GPU stops before the manifest is read, with ERR_DEVICE_UNAVAILABLE', async () => {
    if (
      await resolveDevicePlan('cuda').then(
        () => true,
        () => false,
      )
    )
      return; // a GPU machine would train
    const dir = mkdtempSync(join(tmpdir(), 'radlearn-device-cli-'));
    const config = join(dir, 'run.json');
    writeFileSync(
      config,
      JSON.stringify({ name: 'x', mode: 'supervised', runsDir: join(dir, 'runs'), data: { manifest: join(dir, 'missing.csv') } }),
    );
    const program = new Command('radlearn');
    registerTrain(program);
    const error = await captureCli(program, ['train', '--config', config, '--device', 'cuda']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeviceUnavailableError);
    expect((error as DeviceUnavailableError).code).toBe('ERR_DEVICE_UNAVAILABLE');
  });
});

describe('radlearn doctor, device section', () => {
  it('says where device auto runs each part and why the CPU', () => {
    expect(
      deviceLines({
        setting: 'auto',
        onnxruntime: { device: 'cpu', reason: 'provider library missing' },
        kernels: { device: 'cuda' },
      }),
    ).toEqual(['device auto:    onnxruntime on cpu (provider library missing)', '                kernels on cuda']);
    expect(deviceLines(new DeviceUnavailableError('RADLEARN_DEVICE=cuda asks for CUDA, but ...'))).toEqual([
      'device auto:    RADLEARN_DEVICE=cuda asks for CUDA, but ...',
    ]);
  });
});
