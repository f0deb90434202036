import { describe, expect, it } from 'vitest';
import {
  describePinnedKeyMismatch,
  describeTrustedKey,
  describeUnknownKeyRefusal,
  keyTypeLabel,
  type HostKeySeen,
} from '../../../../core/remote/host-key-text.js';

const seen: HostKeySeen = {
  who: 'node pi-2',
  host: '192.168.1.102',
  port: 2222,
  keyType: 'ssh-ed25519',
  fingerprint: 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU',
  file: '/home/op/.config/revue-pi/known_hosts',
};

describe('what is said of host keys', () => {
  it.each([
    ['ssh-ed25519', 'ED25519'],
    ['ecdsa-sha2-nistp256', 'ECDSA'],
    ['ssh-rsa', 'RSA'],
    ['ssh-dss', 'DSA'],
    ['sk-ssh-ed25519@openssh.com', 'ED25519-SK'],
    ['sk-ecdsa-sha2-nistp256@openssh.com', 'ECDSA-SK'],
  ])('%s is called %s, as OpenSSH does', (type, label) => {
    expect(keyTypeLabel(type)).toBe(label);
  });

  it('accept-new: the fingerprint of the key it recorded, and where', () => {
    expect(describeTrustedKey(seen)).toBe(
      'Trusted the new SSH host key of node pi-2 (192.168.1.102:2222): ED25519 key fingerprint is SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU; ' +
        'recorded in /home/op/.config/revue-pi/known_hosts (ssh.hostKeys: accept-new).',
    );
  });

  it('strict: names the node and its key, and how to record it (ssh-keyscan line) or pin it', () => {
    expect(describeUnknownKeyRefusal(seen, 'nodes[1].hostKeyFingerprint')).toEqual({
      message:
        'The SSH host key of node pi-2 (192.168.1.102:2222) is in no known_hosts file and ssh.hostKeys is strict, so it was not trusted: ' +
        'it presented the ED25519 key SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU.',
      hint:
        'Check that fingerprint on the Pi itself (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then record the key: ' +
        'ssh-keyscan -p 2222 -t ed25519 192.168.1.102 >> /home/op/.config/revue-pi/known_hosts — or pin it in the inventory as nodes[1].hostKeyFingerprint: SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU.',
    });
    expect(describeUnknownKeyRefusal(seen, undefined).hint).toMatch(/>> \/home\/op\/\.config\/revue-pi\/known_hosts\.$/);
  });

  it('a pinned fingerprint that does not match: both fingerprints and the field', () => {
    const pinned = 'SHA256:AAAAQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU';
    expect(describePinnedKeyMismatch(seen, pinned, 'nodes[1].hostKeyFingerprint').message).toBe(
      `The SSH host key of node pi-2 (192.168.1.102:2222) is SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU, but the inventory pins ${pinned} (nodes[1].hostKeyFingerprint). Refusing to connect.`,
    );
  });
});
