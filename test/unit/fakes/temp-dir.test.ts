import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../fakes/temp-dir.js';

// The tests run in order: each later one checks what the one before left.
describe('tempDir', () => {
  const fromFile = tempDir('temp-dir-file');
  let fromPassing = '';
  let fromFailing = '';

  it('makes a fresh folder under the run’s own temp folder', () => {
    fromPassing = tempDir('temp-dir-pass');
    writeFileSync(join(fromPassing, 'token'), 'throwaway', { mode: 0o600 });
    expect(existsSync(join(fromPassing, 'token'))).toBe(true);
    expect(fromPassing).toContain(`${join(process.env.REVUE_PI_TEST_TMP ?? '', 'revue-pi-temp-dir-pass-')}`);
  });

  it('removed the folder of the test that passed', () => {
    expect(existsSync(fromPassing)).toBe(false);
  });

  it.fails('(a test that fails on purpose, holding a folder)', () => {
    fromFailing = tempDir('temp-dir-fail');
    writeFileSync(join(fromFailing, 'secret'), 'throwaway');
    expect('the test').toBe('failing');
  });

  it('removed the folder of the test that failed too', () => {
    expect(fromFailing).not.toBe('');
    expect(existsSync(fromFailing)).toBe(false);
  });

  it('keeps a folder made outside a test until the end of the file', () => {
    expect(existsSync(fromFile)).toBe(true);
  });
});
