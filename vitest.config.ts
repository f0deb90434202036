import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Lab tests share 127.0.0.x addresses and the node namespaces: run files one at a time.
    fileParallelism: false,
    reporters: ['default'],
  },
});
