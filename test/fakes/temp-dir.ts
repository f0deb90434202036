// Temporary folders for tests. Some hold throwaway tokens, keys and secrets, so none may outlive its test file, even
// when the test fails. Every folder goes under the run's own folder (test/temp-check.ts creates it and fails the run if
// anything is left in it), so the check sees only this run's folders, never another process's.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, onTestFinished } from 'vitest';
import { TEST_TEMP_ROOT_ENV } from './temp-root.js';

const leftForTheFile = new Set<string>();
// Registered while the test file is collected: removes folders made outside a test (file scope, beforeAll, beforeEach).
afterAll(() => {
  for (const dir of leftForTheFile) remove(dir);
  leftForTheFile.clear();
});

/**
 * A fresh folder named `revue-pi-<name>-XXXXXX`, removed when the test that made it finishes (pass or fail), or at
 * the end of the file when made outside a test.
 */
export function tempDir(name: string): string {
  const dir = mkdtempSync(join(process.env[TEST_TEMP_ROOT_ENV] || tmpdir(), `revue-pi-${name}-`));
  try {
    onTestFinished(() => remove(dir));
  } catch {
    // Not inside a test: the file's afterAll removes it.
    leftForTheFile.add(dir);
  }
  return dir;
}

function remove(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
