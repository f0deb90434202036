import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { findSshKeys } from '../../../../cli/init/ssh-keys.js';
import { tempDir } from '../../../fakes/temp-dir.js';

/** Real keys made by ssh-keygen in a throwaway home folder. */
describe('findSshKeys', () => {
  let home: string;
  const keygen = (name: string, type: string, passphrase = '') =>
    execFileSync('ssh-keygen', ['-q', '-t', type, '-N', passphrase, '-C', name, '-f', join(home, '.ssh', name)]);

  beforeAll(() => {
    home = tempDir('keys');
    mkdirSync(join(home, '.ssh'), { mode: 0o700 });
    keygen('zeta_ed25519', 'ed25519');
    keygen('id_ecdsa', 'ecdsa');
    keygen('id_ed25519', 'ed25519');
    keygen('alpha_locked', 'ed25519', 'correct horse');
    keygen('no_pub', 'ed25519');
    rmSync(join(home, '.ssh', 'no_pub.pub'));
    // Files with a .pub beside them that are not private keys.
    writeFileSync(join(home, '.ssh', 'config'), 'Host *\n  IdentitiesOnly yes\n');
    writeFileSync(join(home, '.ssh', 'config.pub'), 'not a key\n');
    mkdirSync(join(home, '.ssh', 'folder'));
    writeFileSync(join(home, '.ssh', 'folder.pub'), '');
    writeFileSync(join(home, '.ssh', 'known_hosts'), '');
  });

  it('offers private keys with a .pub beside them, the usual names first, and marks passphrase-protected ones', () => {
    expect(findSshKeys(home)).toEqual([
      { shown: '~/.ssh/id_ed25519', file: join(home, '.ssh', 'id_ed25519'), encrypted: false },
      { shown: '~/.ssh/id_ecdsa', file: join(home, '.ssh', 'id_ecdsa'), encrypted: false },
      { shown: '~/.ssh/alpha_locked', file: join(home, '.ssh', 'alpha_locked'), encrypted: true },
      { shown: '~/.ssh/zeta_ed25519', file: join(home, '.ssh', 'zeta_ed25519'), encrypted: false },
    ]);
  });

  it('finds nothing without a ~/.ssh folder', () => {
    const empty = tempDir('nokeys');
    try {
      expect(findSshKeys(empty)).toEqual([]);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
