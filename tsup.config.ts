import { defineConfig } from 'tsup';

// One bundled ESM entry so `revue-pi --help` loads a single file; commands are lazy-imported chunks.
export default defineConfig({
  entry: { 'revue-pi': 'provision/main.ts' },
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  splitting: true,
  clean: true,
  sourcemap: false,
  banner: { js: '#!/usr/bin/env node' },
  // ssh2 ships optional native bindings; keep the node_modules copy rather than bundling it.
  external: ['ssh2', 'cpu-features'],
});
