import { defineConfig } from 'vitest/config';

// Two projects: the unit tests run files in parallel; the lab (simulated Pis: real sshd on 127.0.0.x in namespaces,
// root only) runs after them, one file at a time, because its suites share addresses and node namespaces.
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // The last line of a run says whether the lab ran (test/lab/skip-reporter.ts).
    reporters: ['default', './test/lab/skip-reporter.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], sequence: { groupOrder: 0 } },
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
