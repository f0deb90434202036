import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { keyFingerprint, parsePublicKey } from '../../../../cli/flash/keys.js';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/boot/keys/${name}`, import.meta.url), 'utf8');

describe('parsePublicKey', () => {
  it('reads an ed25519 .pub file and gives the fingerprint ssh-keygen -lf printed for it', () => {
    const result = parsePublicKey(fixture('operator_ed25519.pub'), 'id.pub');
    expect(result).toEqual({
      ok: true,
      key: {
        type: 'ssh-ed25519',
        blob: 'AAAAC3NzaC1lZDI1NTE5AAAAIBcalDJsCzDpNW2CDQVzxBHpKk8qy9mLilFW5AIzQjcU',
        comment: 'operator@laptop',
        line: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBcalDJsCzDpNW2CDQVzxBHpKk8qy9mLilFW5AIzQjcU operator@laptop',
        // `ssh-keygen -lf operator_ed25519.pub` when the fixture was made:
        fingerprint: 'SHA256:XjPTcuxtcqxE1t825epoHDjXINJH9hQjNGaboPhr9cw',
      },
    });
  });

  it('reads an RSA key with a comment containing spaces', () => {
    const result = parsePublicKey(fixture('operator_rsa.pub'), 'rsa.pub');
    if (!result.ok) throw new Error(result.problem);
    expect(result.key.type).toBe('ssh-rsa');
    expect(result.key.comment).toBe('rsa key');
    expect(result.key.fingerprint).toBe('SHA256:3YM1m/qfDbjlbB9GWFWU0tDJ+yNPMvvoFKf2FzwCyIU');
  });

  it('keeps a key without a comment as two fields', () => {
    const [type, blob] = fixture('operator_ed25519.pub').trim().split(' ');
    const result = parsePublicKey(`${type} ${blob}\r\n`, 'k.pub');
    if (!result.ok) throw new Error(result.problem);
    expect(result.key.line).toBe(`${type} ${blob}`);
    expect(result.key.comment).toBeUndefined();
  });

  it('refuses a private key without repeating any of it', () => {
    const secret = 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB';
    const result = parsePublicKey(`-----BEGIN OPENSSH PRIVATE KEY-----\n${secret}\n-----END OPENSSH PRIVATE KEY-----\n`, '/home/me/.ssh/id_ed25519');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problem).toBe(
      '/home/me/.ssh/id_ed25519 is a PRIVATE key; flash needs the public half (the same path with .pub at the end). Nothing from it was printed or written.',
    );
    expect(result.problem).not.toContain(secret);
  });

  it.each([
    ['', 'k.pub is empty; it should hold one line like "ssh-ed25519 AAAA… you@laptop".'],
    ['# only a comment\n', 'k.pub is empty; it should hold one line like "ssh-ed25519 AAAA… you@laptop".'],
    ['ssh-ed25519 AAAA a\nssh-ed25519 AAAA b\n', 'k.pub holds 2 lines; pass a .pub file with exactly one public key.'],
    [
      'ssh-dss AAAAB3NzaC1kc3M= old\n',
      'k.pub does not start with a known key type (ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, …); is it an OpenSSH public key?',
    ],
    ['ssh-ed25519 not*base64 x\n', 'k.pub: the key data after "ssh-ed25519" is not base64; the file looks damaged.'],
    ['ssh-ed25519\n', 'k.pub: the key data after "ssh-ed25519" is not base64; the file looks damaged.'],
    // An RSA blob labelled ed25519.
    ['ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQ== x\n', 'k.pub: the key data does not match its type "ssh-ed25519"; the file looks damaged.'],
  ])('refuses %j', (text, problem) => {
    expect(parsePublicKey(text, 'k.pub')).toEqual({ ok: false, problem });
  });
});

describe('keyFingerprint', () => {
  it('is the unpadded base64 SHA-256 of the decoded blob', () => {
    // sha256 of the empty input, base64: 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=
    expect(keyFingerprint('')).toBe('SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU');
  });
});
