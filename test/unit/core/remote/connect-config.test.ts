import { spawnSync } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RevuePiError } from '../../../../core/errors.js';
import type { NodeSshSettings } from '../../../../core/inventory/schema.js';
import { KnownHosts } from '../../../../core/remote/known-hosts.js';
import { connectNode } from '../../../../core/remote/ssh.js';
import { tempDir } from '../../../fakes/temp-dir.js';

/**
 * Settings problems are caught before any connection is attempted: every case here fails without dialling
 * (port 9 on 127.0.0.1 would refuse anyway, but the errors below are not connection errors).
 */
describe('connectNode: settings checked before dialling', () => {
  let dir: string;
  let key: string;
  let encrypted: string;
  beforeAll(async () => {
    dir = tempDir('connect');
    key = join(dir, 'id_ed25519');
    encrypted = join(dir, 'id_enc');
    expect(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]).status).toBe(0);
    expect(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'pass phrase', '-f', encrypted]).status).toBe(0);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const base = (extra: Partial<NodeSshSettings> = {}): NodeSshSettings => ({
    host: '127.0.0.1',
    port: 9,
    user: 'pi',
    useAgent: false,
    connectTimeoutSeconds: 1,
    connectRetries: 0,
    ...extra,
  });

  async function failure(settings: NodeSshSettings, env: NodeJS.ProcessEnv = {}): Promise<RevuePiError> {
    const err = await connectNode(settings, {
      nodeName: 'pi-2',
      knownHosts: new KnownHosts({ file: join(dir, 'kh'), userFiles: [] }),
      env: { HOME: dir, ...env },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RevuePiError);
    return err as RevuePiError;
  }

  it.each([
    ['sudoPasswordEnv', { keyPath: 'KEY', sudoPasswordEnv: 'PI_SUDO' }, 'PI_SUDO', 'ssh.sudoPasswordEnv'],
    ['passwordEnv', { passwordEnv: 'PI_PASS' }, 'PI_PASS', 'ssh.passwordEnv'],
    ['keyPassphraseEnv', { keyPath: 'ENC', keyPassphraseEnv: 'PI_KEYPASS' }, 'PI_KEYPASS', 'ssh.keyPassphraseEnv'],
  ])('names the unset variable, the node and the field (%s)', async (_name, extra, variable, field) => {
    const settings = base(Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, v === 'KEY' ? key : v === 'ENC' ? encrypted : v])));
    const err = await failure(settings);
    expect(err.message).toBe(`The environment variable ${variable} is not set, but the inventory names it in ${field} for node pi-2.`);
    expect(err.code).toBe('SECRET_MISSING');
    expect(err.node).toBe('pi-2');
  });

  it('treats an empty variable as unset', async () => {
    const err = await failure(base({ passwordEnv: 'PI_PASS' }), { PI_PASS: '' });
    expect(err.code).toBe('SECRET_MISSING');
  });

  it('says when a key file is missing, encrypted without a passphrase, or the passphrase is wrong', async () => {
    expect((await failure(base({ keyPath: join(dir, 'nope') }))).message).toMatch(
      /^The SSH key file .*nope \(ssh\.keyPath\) for node pi-2 cannot be read: ENOENT/,
    );
    expect((await failure(base({ keyPath: encrypted }))).message).toBe(
      `The SSH key file ${encrypted} (ssh.keyPath) for node pi-2 cannot be used: it is encrypted and no passphrase is configured: set ssh.keyPassphraseEnv to the name of an environment variable holding it.`,
    );
    expect((await failure(base({ keyPath: encrypted, keyPassphraseEnv: 'KP' }), { KP: 'wrong' })).message).toContain(
      'the passphrase in KP (ssh.keyPassphraseEnv) does not decrypt it',
    );
    await writeFile(join(dir, 'pub-only'), spawnSync('cat', [`${key}.pub`], { encoding: 'utf8' }).stdout);
    expect((await failure(base({ keyPath: join(dir, 'pub-only') }))).message).toBe(
      `The SSH key file ${join(dir, 'pub-only')} (ssh.keyPath) for node pi-2 holds no private key (is it the .pub file?).`,
    );
  });

  it('says there is no way to log in when nothing is configured or found', async () => {
    const err = await failure(base({ useAgent: true }));
    expect(err.message).toBe(
      'There is no way to log in to node pi-2: no ssh.keyPath, no usable key in ~/.ssh, SSH_AUTH_SOCK is not set, and no ssh.passwordEnv.',
    );
    expect(err.code).toBe('SSH_AUTH_CONFIG');
  });

  it('expands ~ in keyPath against HOME', async () => {
    // With a readable key the settings pass and the dial itself fails (nothing listens on port 9).
    const err = await failure(base({ keyPath: '~/id_ed25519' }));
    expect(err.code).toBe('CONNECTION');
    expect(err.message).toBe('Could not reach node pi-2 at 127.0.0.1:9 after 1 attempt: connect ECONNREFUSED 127.0.0.1:9.');
  });
});
