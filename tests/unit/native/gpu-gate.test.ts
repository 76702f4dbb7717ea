import { describe, expect, it } from 'vitest';
import { gpuGate } from '../../helpers/gpu.js';

describe('the GPU test gate', () => {
  it('skips with the reason on a machine without a device, and fails instead on a GPU runner', () => {
    const missing = { available: false, reason: 'no NVIDIA driver found' };
    expect(gpuGate(missing, {})).toBe('[gpu tests] skipped: no NVIDIA driver found');
    expect(() => gpuGate(missing, { RADLEARN_REQUIRE_CUDA: '1' })).toThrow(/RADLEARN_REQUIRE_CUDA=1 but CUDA is not usable: no NVIDIA driver found/);
    expect(gpuGate({ available: true, reason: 'H100 (cc 9.0)' }, { RADLEARN_REQUIRE_CUDA: '1' })).toBe('[gpu tests] running on H100 (cc 9.0)');
  });
});
