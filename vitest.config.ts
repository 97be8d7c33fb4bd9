import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // The functions' environments for the handler tests, from the synthesized template.
          globalSetup: ['test/unit/global-setup.ts'],
        },
      },
      { test: { name: 'cdk', include: ['test/cdk/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 300_000 } },
      {
        test: {
          name: 'twin',
          include: ['test/twin/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          // One twin (emulator + functions) is shared by every twin test file.
          globalSetup: ['test/twin/global-setup.ts'],
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          // The crash scenarios wait out a queue's visibility timeout (fanout's is 181 s).
          testTimeout: 900_000,
          hookTimeout: 300_000,
          // Their own twin: they fail AWS calls, kill processes and pause pollers.
          globalSetup: ['test/faults/global-setup.ts'],
          // The scenarios run side by side.
          maxConcurrency: 20,
        },
      },
    ],
  },
});
