import { defineConfig } from 'vitest/config';

// Two projects: the default suite (unit, native CPU, e2e) that CI runs, and the
// GPU suite that `npm run test:gpu` runs on a machine with a CUDA device.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'default',
          include: ['tests/unit/**/*.test.ts', 'tests/native/**/*.test.ts', 'tests/e2e/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          pool: 'forks',
        },
      },
      {
        test: {
          name: 'gpu',
          include: ['tests/gpu/**/*.test.ts'],
          testTimeout: 300_000,
          pool: 'forks',
        },
      },
    ],
  },
});
