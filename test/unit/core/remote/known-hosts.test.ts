import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  checkHostKey,
  fingerprintSha256,
  formatKnownHostsLine,
  globMatch,
  hashHostName,
  hostFieldMatches,
  hostLookupName,
  keyTypeOf,
  KnownHosts,
  parseKnownHosts,
  preferredHostKeyAlgorithms,
  type KnownKey,
} from '../../../../core/remote/known-hosts.js';
import { tempDir } from '../../../fakes/temp-dir.js';

// Real keys made with OpenSSH 9.2 `ssh-keygen -t …`; fingerprints as printed by `ssh-keygen -lf`,
// hashed lines as written by `ssh-keygen -H` for `pi-1.lan` (ED25519) and `[127.0.20.5]:2222` (ECDSA).
const ED25519 = 'AAAAC3NzaC1lZDI1NTE5AAAAIJ+CObtithZMHQVx/tH9VWuazQ4cMlqJ2Qcc1amWql8+';
const ECDSA = 'AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBP9IWfNX4+zBLnX/74PuPVVfymVNWsGHzSg2hCPPqMwB8/M3s7JncX6PqPm2MedOBB+B6znOJjyX63CyAVDZr3Y=';
const RSA =
  'AAAAB3NzaC1yc2EAAAADAQABAAAAgQDQEMBK2Igl9A4EN9LULZ48fVvZixTGXUin+X2SKfcmq8D4Fg1I60vOCV7y1gFUYmM0F6Xh2WL+uT5cKcIxuSPN8bIWy9E3t3LN5H6fTq0MURQC9srHvf8zWnCGhRc+JHV4zinUmYA/Tq11kI55G6X/zvAAuzf2+yPvu7Xhnta/0Q==';
const HASHED_ED25519 = '|1|McguD/Y0b5r7iqIAduv5QA+K75A=|UPtvey68n4+GMnpPEud7fu3gqUU=';
const HASHED_ECDSA = '|1|EPAR5sIyB1DyToMdigNf1DpvsTM=|m9nLiM6Fqg4sXuM0Bi4wBuNd1cQ=';

const raw = (b64: string) => Buffer.from(b64, 'base64');

describe('fingerprints and key types', () => {
  it.each([
    [ED25519, 'ssh-ed25519', 'SHA256:91tT8+YSoVlIufGU7uKbi6Kmn9yOwnXgMreZcKZmlD8'],
    [ECDSA, 'ecdsa-sha2-nistp256', 'SHA256:0FpDoPc3D763pX6fpeai6tXRkGO61KlpLYGBAU3ZK8w'],
    [RSA, 'ssh-rsa', 'SHA256:yNoRzuEZDAVpeuGuNec/6qt9t1wlhmQs7wL6IGfzuto'],
  ])('%#: type and fingerprint match ssh-keygen', (key, type, fp) => {
    expect(keyTypeOf(raw(key))).toBe(type);
    expect(fingerprintSha256(raw(key))).toBe(fp);
    expect(fingerprintSha256(key)).toBe(fp);
  });

  it('rejects blobs that are not SSH keys', () => {
    expect(() => keyTypeOf(Buffer.from([0, 0]))).toThrow(/too short/);
    expect(() => keyTypeOf(Buffer.from([0, 0, 1, 0, 65]))).toThrow(/bad type/);
  });
});

describe('lookup names and lines', () => {
  it('uses the bare host on port 22 and [host]:port otherwise, lower-cased', () => {
    expect(hostLookupName('Pi-1.LAN', 22)).toBe('pi-1.lan');
    expect(hostLookupName('192.168.1.102', 2222)).toBe('[192.168.1.102]:2222');
  });

  it('formats an OpenSSH line', () => {
    expect(formatKnownHostsLine('192.168.1.102', 22, raw(ED25519))).toBe(`192.168.1.102 ssh-ed25519 ${ED25519}`);
    expect(formatKnownHostsLine('127.0.20.5', 2222, raw(ECDSA))).toBe(`[127.0.20.5]:2222 ecdsa-sha2-nistp256 ${ECDSA}`);
  });

  it('reproduces the hashes ssh-keygen -H wrote', () => {
    const salt = (h: string) => Buffer.from(h.split('|')[2]!, 'base64');
    expect(hashHostName('pi-1.lan', salt(HASHED_ED25519))).toBe(HASHED_ED25519);
    expect(hashHostName('[127.0.20.5]:2222', salt(HASHED_ECDSA))).toBe(HASHED_ECDSA);
  });
});

describe('parseKnownHosts', () => {
  it('reads plain, bracketed, hashed and marked lines and skips the rest', () => {
    const text = [
      '# a comment',
      '',
      `pi-1,192.168.1.101 ssh-ed25519 ${ED25519} comment here`,
      `[127.0.20.5]:2222 ecdsa-sha2-nistp256 ${ECDSA}`,
      `${HASHED_ED25519} ssh-ed25519 ${ED25519}`,
      `@revoked * ssh-rsa ${RSA}`,
      `@cert-authority *.lan ssh-ed25519 ${ED25519}`,
      `@bogus host ssh-ed25519 ${ED25519}`,
      'only-two fields',
      'host ssh-ed25519 not*base64',
    ].join('\n');
    const entries = parseKnownHosts(text);
    expect(entries).toEqual([
      { hosts: 'pi-1,192.168.1.101', keyType: 'ssh-ed25519', key: ED25519, line: 3 },
      { hosts: '[127.0.20.5]:2222', keyType: 'ecdsa-sha2-nistp256', key: ECDSA, line: 4 },
      { hosts: HASHED_ED25519, keyType: 'ssh-ed25519', key: ED25519, line: 5 },
      { marker: '@revoked', hosts: '*', keyType: 'ssh-rsa', key: RSA, line: 6 },
      { marker: '@cert-authority', hosts: '*.lan', keyType: 'ssh-ed25519', key: ED25519, line: 7 },
    ]);
  });

  it('round-trips a formatted line', () => {
    const line = formatKnownHostsLine('10.0.0.7', 2200, raw(RSA));
    expect(parseKnownHosts(line + '\n')).toEqual([{ hosts: '[10.0.0.7]:2200', keyType: 'ssh-rsa', key: RSA, line: 1 }]);
  });
});

describe('hostFieldMatches', () => {
  it.each([
    ['pi-1,192.168.1.101', '192.168.1.101', 22, true],
    ['pi-1,192.168.1.101', '192.168.1.101', 2222, false],
    ['[192.168.1.101]:2222', '192.168.1.101', 2222, true],
    ['PI-1', 'pi-1', 22, true],
    ['192.168.1.*', '192.168.1.55', 22, true],
    ['192.168.1.*,!192.168.1.55', '192.168.1.55', 22, false],
    ['192.168.1.?', '192.168.1.5', 22, true],
    ['192.168.1.?', '192.168.1.50', 22, false],
    [HASHED_ED25519, 'pi-1.lan', 22, true],
    [HASHED_ED25519, 'pi-2.lan', 22, false],
    [HASHED_ECDSA, '127.0.20.5', 2222, true],
    [HASHED_ECDSA, '127.0.20.5', 22, false],
    ['|1|broken', 'pi-1', 22, false],
  ])('%s vs %s:%d → %s', (field, host, port, expected) => {
    expect(hostFieldMatches(field, host, port)).toBe(expected);
  });

  it('treats regex characters in patterns literally', () => {
    expect(globMatch('a.b', 'axb')).toBe(false);
    expect(globMatch('[a]:22', '[a]:22')).toBe(true);
    // With wildcards too (a pattern without any is compared as a string).
    expect(globMatch('[10.0.0.*]:2222', '[10.0.0.5]:2222')).toBe(true);
    expect(globMatch('a.?', 'a.b')).toBe(true);
    expect(globMatch('a.?', 'axb')).toBe(false);
    expect(globMatch('pi-?', 'pi-10')).toBe(false);
  });
});

describe('checkHostKey', () => {
  const entry = (hosts: string, key: string, keyType: string, extra: Partial<KnownKey> = {}): KnownKey => ({
    hosts,
    key,
    keyType,
    line: 1,
    file: '/kh',
    ...extra,
  });

  it('accepts a recorded key, also from a hashed entry', () => {
    expect(checkHostKey([entry('127.0.20.1', ED25519, 'ssh-ed25519')], '127.0.20.1', 22, raw(ED25519)).status).toBe('known');
    expect(checkHostKey([entry(HASHED_ED25519, ED25519, 'ssh-ed25519')], 'pi-1.lan', 22, raw(ED25519)).status).toBe('known');
  });

  it('says new for an unknown host', () => {
    expect(checkHostKey([entry('other', ED25519, 'ssh-ed25519')], '127.0.20.1', 22, raw(ECDSA))).toEqual({ status: 'new' });
  });

  it('says changed with every recorded key when none matches', () => {
    const recorded = [entry('127.0.20.1', ED25519, 'ssh-ed25519'), entry('[127.0.20.1]:22', RSA, 'ssh-rsa')];
    const v = checkHostKey([...recorded, entry('other', ECDSA, 'ecdsa-sha2-nistp256')], '127.0.20.1', 22, raw(ECDSA));
    expect(v).toEqual({ status: 'changed', recorded: [recorded[0]] });
  });

  it('refuses a revoked key even for a new host', () => {
    const v = checkHostKey([entry('*', RSA, 'ssh-rsa', { marker: '@revoked' })], '127.0.20.9', 22, raw(RSA));
    expect(v.status).toBe('revoked');
  });

  it('ignores cert-authority lines for plain host keys', () => {
    expect(checkHostKey([entry('*', ED25519, 'ssh-ed25519', { marker: '@cert-authority' })], 'h', 22, raw(ECDSA)).status).toBe('new');
  });
});

describe('preferredHostKeyAlgorithms', () => {
  it('puts the recorded types first, RSA as its SHA-2 signatures', () => {
    expect(preferredHostKeyAlgorithms(['ssh-rsa'])).toEqual([
      'rsa-sha2-512',
      'rsa-sha2-256',
      'ssh-rsa',
      'ssh-ed25519',
      'ecdsa-sha2-nistp256',
      'ecdsa-sha2-nistp384',
      'ecdsa-sha2-nistp521',
    ]);
    expect(preferredHostKeyAlgorithms([])[0]).toBe('ssh-ed25519');
    expect(preferredHostKeyAlgorithms(['ecdsa-sha2-nistp256', 'ssh-dss'])[0]).toBe('ecdsa-sha2-nistp256');
    expect(preferredHostKeyAlgorithms(['ecdsa-sha2-nistp256', 'ssh-dss'])).not.toContain('ssh-dss');
  });
});

describe('KnownHosts (files)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = tempDir('kh');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('expands ~ and defaults to ~/.config/revue-pi/known_hosts and ~/.ssh/known_hosts', () => {
    const kh = new KnownHosts({ home: '/home/op' });
    expect(kh.file).toBe('/home/op/.config/revue-pi/known_hosts');
    expect(kh.userFiles).toEqual(['/home/op/.ssh/known_hosts']);
  });

  it('writes a first-use key once, creating the folder and a 0600 file', async () => {
    const kh = new KnownHosts({ file: join(dir, 'sub', 'known_hosts'), userFiles: [] });
    expect(await kh.trust('127.0.20.1', 22, raw(ED25519))).toBe(true);
    expect(await kh.trust('127.0.20.1', 22, raw(ED25519))).toBe(false);
    expect(await readFile(kh.file, 'utf8')).toBe(`127.0.20.1 ssh-ed25519 ${ED25519}\n`);
    expect((await stat(kh.file)).mode & 0o777).toBe(0o600);
    expect((await kh.check('127.0.20.1', 22, raw(ED25519))).status).toBe('known');
    expect((await kh.check('127.0.20.1', 22, raw(RSA))).status).toBe('changed');
  });

  it('reads its files once for the run (ten connections check at once), and again after it records a key', async () => {
    const file = join(dir, 'known_hosts');
    await writeFile(file, `127.0.20.1 ssh-ed25519 ${ED25519}\n`);
    const kh = new KnownHosts({ file, userFiles: [] });
    expect((await kh.check('127.0.20.1', 22, raw(ED25519))).status).toBe('known');
    await writeFile(file, ''); // changed behind its back: not read again within the run
    expect((await kh.check('127.0.20.1', 22, raw(ED25519))).status).toBe('known');
    expect(await kh.knownKeyTypes('127.0.20.1', 22)).toEqual(['ssh-ed25519']);
    expect(await kh.trust('127.0.20.2', 22, raw(ED25519))).toBe(true);
    // Its own write makes it read the file again: now the emptied file plus the new line.
    expect((await kh.check('127.0.20.2', 22, raw(ED25519))).status).toBe('known');
    expect((await kh.check('127.0.20.1', 22, raw(ED25519))).status).not.toBe('known');
  });

  it('keeps every line when many first connections record at once, and writes a racing duplicate once', async () => {
    const file = join(dir, 'known_hosts');
    await writeFile(file, `existing ssh-rsa ${RSA}`); // no trailing newline: the next line must not glue on
    const a = new KnownHosts({ file, userFiles: [] });
    const b = new KnownHosts({ file, userFiles: [] });
    const hosts = Array.from({ length: 40 }, (_, i) => `127.0.20.${i + 1}`);
    await Promise.all([
      ...hosts.map((h, i) => (i % 2 ? a : b).trust(h, 2222, raw(ED25519))),
      a.trust('127.0.20.1', 2222, raw(ED25519)),
      b.trust('127.0.20.1', 2222, raw(ED25519)),
    ]);
    const entries = parseKnownHosts(await readFile(file, 'utf8'));
    expect(entries).toHaveLength(41);
    expect(new Set(entries.map((e) => e.hosts))).toEqual(new Set(['existing', ...hosts.map((h) => `[${h}]:2222`)]));
  });

  it('honours the user file (hashed entries too) and reports which file holds a changed key', async () => {
    const user = join(dir, 'user_known_hosts');
    await writeFile(user, `${HASHED_ED25519} ssh-ed25519 ${ED25519}\n`);
    const kh = new KnownHosts({ file: join(dir, 'own'), userFiles: [user] });
    expect((await kh.check('pi-1.lan', 22, raw(ED25519))).status).toBe('known');
    const v = await kh.check('pi-1.lan', 22, raw(ECDSA));
    expect(v.status === 'changed' && v.recorded[0]?.file).toBe(user);
    expect(await kh.knownKeyTypes('pi-1.lan', 22)).toEqual(['ssh-ed25519']);
    expect(await kh.knownKeyTypes('pi-2.lan', 22)).toEqual([]);
  });
});
