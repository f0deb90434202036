// typescript-eslint's recommended rules (no type-aware rules: they would double the time of the gate), prettier
// owns the layout. A few rules are tuned to what the code does on purpose; each says why.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', 'test/fixtures/', 'test/schemas/'] },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommended, prettier],
    rules: {
      // `_name` marks a value left out on purpose (rest destructuring that drops a key, an unused parameter).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // `let x = fallback; try { x = read() } catch { … }` is how the code reads optional files; not a bug.
      'no-useless-assignment': 'off',
      eqeqeq: ['error', 'smart'],
      // Control characters in patterns are the point where they appear: text from nodes and inventories is checked
      // for them and stripped of them (remote-text.ts, syntax.ts, systemd-unit.ts).
      'no-control-regex': 'off',
    },
  },
  {
    // Tests walk untyped YAML/JSON objects and assert aligned table text with literal spaces.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      'no-regex-spaces': 'off',
      // Temporary folders come from tempDir() (test/fakes/temp-dir.ts), which removes them even when a test fails.
      'no-restricted-syntax': [
        'error',
        {
          selector: 'Identifier[name=/^mkdtemp(Sync)?$/]',
          message: 'Use tempDir() from test/fakes/temp-dir.ts: it removes the folder when the test ends, also on failure.',
        },
      ],
    },
  },
  {
    // The helper itself, and the lab, whose node trees have their own life cycle (stop(), exit hook, stale removal).
    files: ['test/fakes/temp-dir.ts', 'test/temp-check.ts', 'test/lab/lab.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
