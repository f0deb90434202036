import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

// One bundled ESM entry so `revue-pi --help` loads a single file; commands are lazy-imported chunks.
export default defineConfig({
  entry: { 'revue-pi': 'cli/main.ts' },
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  splitting: true,
  clean: true,
  sourcemap: false,
  banner: { js: '#!/usr/bin/env node' },
  define: { 'process.env.REVUE_PI_VERSION': JSON.stringify(version) },
  // ssh2 ships optional native bindings; keep the node_modules copy rather than bundling it.
  external: ['ssh2', 'cpu-features'],
});
