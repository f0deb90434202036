import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Two projects: the unit tests run files in parallel; the lab (simulated Pis: real sshd on 127.0.0.x in namespaces,
// root only) runs after them, one file at a time, because its suites share addresses and node namespaces.
export default defineConfig({
  test: {
    testTimeout: 120_000,
    // Fails the run when a test leaves a temporary folder behind (test/temp-check.ts).
    globalSetup: ['./test/temp-check.ts'],
    hookTimeout: 120_000,
    // The last line of a run says whether the lab ran (test/lab/skip-reporter.ts).
    reporters: ['default', './test/lab/skip-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // vitest's default is one worker less than the cores: one worker on a 2-core machine, i.e. no parallelism.
          // The unit files wait on child processes and files as much as they compute, so two workers pay off even there.
          maxWorkers: Math.max(2, availableParallelism() - 1),
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'lab',
          include: ['test/lab/**/*.test.ts', 'test/integration/**/*.test.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
