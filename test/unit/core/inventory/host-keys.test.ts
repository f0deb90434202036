import { describe, expect, it } from 'vitest';
import { InventoryError, type InventoryIssue } from '../../../../core/errors.js';
import { parseInventory } from '../../../../core/inventory/parse.js';

/** ssh.hostKeys and nodes[].hostKeyFingerprint: checked before anything is contacted, with the line. */
const BASE =
  [
    'cluster:', //                                  1
    '  name: lab', //                               2
    'ssh:', //                                      3
    '  user: pi', //                                4
    'nodes:', //                                    5
    '  - name: pi-1', //                            6
    '    host: 192.168.1.101', //                   7
    '    role: server', //                          8
    'network:', //                                  9
    '  metallb:', //                               10
    '    pools: [{name: lan, addresses: [192.168.1.200-192.168.1.220]}]', // 11
  ].join('\n') + '\n';

const FP = 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU';

function parse(extraSsh: string, extraNode: string) {
  const text = BASE.replace('  user: pi\n', `  user: pi\n${extraSsh}`).replace('    role: server\n', `    role: server\n${extraNode}`);
  return parseInventory(text, 'inventory.yaml', { homeDir: '/home/op' });
}

function issues(extraSsh: string, extraNode: string): InventoryIssue[] {
  try {
    parse(extraSsh, extraNode);
  } catch (e) {
    if (e instanceof InventoryError) return e.issues;
    throw e;
  }
  throw new Error('expected an InventoryError');
}

describe('host key settings in the inventory', () => {
  it('default: accept-new, no pinned fingerprint', () => {
    const { inventory } = parse('', '');
    expect(inventory.ssh.hostKeys).toBe('accept-new');
    expect(inventory.nodes[0]!.hostKeyFingerprint).toBeUndefined();
  });

  it('accepts strict and a pinned SHA256 fingerprint', () => {
    const { inventory } = parse('  hostKeys: strict\n', `    hostKeyFingerprint: ${FP}\n`);
    expect(inventory.ssh.hostKeys).toBe('strict');
    expect(inventory.nodes[0]!.hostKeyFingerprint).toBe(FP);
  });

  it.each([
    ['yes', 'ssh.hostKeys', 5], // OpenSSH's StrictHostKeyChecking values are not ours
    ['no', 'ssh.hostKeys', 5],
    ['ask', 'ssh.hostKeys', 5],
  ])('refuses ssh.hostKeys: %s', (value, path, line) => {
    expect(issues(`  hostKeys: ${value}\n`, '')).toEqual([expect.objectContaining({ path, line, severity: 'error' })]);
  });

  it.each([
    ['MD5 form', 'MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48'],
    ['no prefix', '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU'],
    ['padded', `${FP}=`],
    ['too short', 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuF'],
    ['a whole known_hosts line', `pi-1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl`],
    ['a trailing command', `'${FP}; reboot'`],
  ])('refuses nodes[].hostKeyFingerprint: %s, naming the field and line', (_what, value) => {
    const [issue] = issues('', `    hostKeyFingerprint: ${value}\n`);
    expect(issue).toMatchObject({ path: 'nodes[0].hostKeyFingerprint', line: 9, severity: 'error' });
    expect(issue!.message).toContain('must be a SHA256 fingerprint as ssh-keygen -lf prints it');
  });
});
