import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Two projects: the unit tests run files in parallel; the lab (simulated Pis: real sshd on 127.0.0.x in namespaces,
// root only) runs after them, a few files at a time.
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
          // Each lab file has its own subnet (127.0.X.), its own lab folder, node namespaces and installer port, so files can
          // run side by side. A lab file mostly waits (stand-in K3s delays, reboots, polling): one keeps about 0.6 of a core
          // busy, so three at once fill a 2-core machine without starving the stand-in's heartbeats; more would.
          maxWorkers: 3,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
