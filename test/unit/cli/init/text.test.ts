import { describe, expect, it } from 'vitest';
import { describeFacts, factWarnings, newHostKeyNotice, nextSteps, parseSudoCheck } from '../../../../cli/init/text.js';

const GIB = 1024 ** 3;
const pi5 = {
  model: 'Raspberry Pi 5 Model B Rev 1.0',
  arch: 'aarch64',
  os: { id: 'debian', versionId: '12', codename: 'bookworm', prettyName: 'Debian GNU/Linux 12 (bookworm)' },
  // What an 8 GB Pi 5 reports: MemTotal 8245036 kB.
  memoryBytes: 8245036 * 1024,
};

describe('describeFacts', () => {
  it('model, OS and memory in GiB', () => {
    expect(describeFacts(pi5)).toBe('Raspberry Pi 5 Model B Rev 1.0, Debian GNU/Linux 12 (bookworm), 7.9 GiB');
  });

  it('says what is unknown instead of leaving blanks', () => {
    expect(describeFacts({ model: '', os: { id: 'debian', versionId: '13', codename: '', prettyName: '' }, memoryBytes: 2 * GIB })).toBe(
      'unknown model, debian 13, 2.0 GiB',
    );
    expect(describeFacts({ model: '', os: { id: '', versionId: '', codename: '', prettyName: '' }, memoryBytes: 0 })).toBe(
      'unknown model, unknown OS, 0.0 GiB',
    );
  });
});

describe('factWarnings', () => {
  it('none for a Pi 5 with enough memory, as server or agent', () => {
    expect(factWarnings(pi5, 'server')).toEqual([]);
    expect(factWarnings({ ...pi5, memoryBytes: 1.9 * GIB }, 'server')).toEqual([]);
    expect(factWarnings({ ...pi5, memoryBytes: 0.9 * GIB }, 'agent')).toEqual([]);
  });

  it('a Pi 4 cannot run MongoDB', () => {
    expect(factWarnings({ ...pi5, model: 'Raspberry Pi 4 Model B Rev 1.5' }, 'agent')).toEqual([
      "it cannot run MongoDB 5 or later (needs ARMv8.2-A, which a Raspberry Pi 4 lacks), so Revue's databases must run on Pi 5 nodes.",
    ]);
  });

  it('not a Pi, not 64-bit, too little memory for a server', () => {
    expect(factWarnings({ model: '', arch: 'armv7l', memoryBytes: 1 * GIB }, 'server')).toEqual([
      'it reports no Raspberry Pi model; revue-pi is made for Raspberry Pi 5 boards.',
      'it runs armv7l, not aarch64 — install the 64-bit Raspberry Pi OS.',
      'it has 1.0 GiB of memory; a K3s server needs at least 2 GB.',
    ]);
    expect(factWarnings({ model: 'QEMU Virtual Machine', arch: 'aarch64', memoryBytes: 0.25 * GIB }, 'agent')).toEqual([
      'it does not report a Raspberry Pi model (QEMU Virtual Machine); revue-pi is made for Raspberry Pi 5 boards.',
      "it cannot run MongoDB 5 or later (needs ARMv8.2-A, which a Raspberry Pi ? lacks), so Revue's databases must run on Pi 5 nodes.",
      'it has 0.3 GiB of memory; a K3s agent needs at least 512 MB.',
    ]);
  });
});

describe('host key notice', () => {
  it('reads like OpenSSH, naming node and address', () => {
    expect(newHostKeyNotice('pi-1', '192.168.1.101', 22, 'ssh-ed25519', 'SHA256:ChzYs1jE9Reo7Vq+0CXz2wSrn2wbhmiSz72bZ7WsMVI')).toBe(
      "The authenticity of host 'pi-1 (192.168.1.101)' can't be established.\nED25519 key fingerprint is SHA256:ChzYs1jE9Reo7Vq+0CXz2wSrn2wbhmiSz72bZ7WsMVI.",
    );
    expect(newHostKeyNotice('pi-2', 'pi-2.local', 2222, 'ecdsa-sha2-nistp256', 'SHA256:x')).toBe(
      "The authenticity of host 'pi-2 (pi-2.local:2222)' can't be established.\nECDSA key fingerprint is SHA256:x.",
    );
  });
});

describe('nextSteps', () => {
  it('plan, then up, on the file as given, and where the web UIs answer', () => {
    expect(nextSteps('inventory.yaml', '192.168.1.200', 'revue.local')).toBe(
      [
        'Wrote inventory.yaml. Next:',
        '  npx revue-pi plan -i inventory.yaml    # shows what would change on each node, changes nothing',
        '  npx revue-pi up -i inventory.yaml      # prepares the Pis, installs K3s, MetalLB and the workloads',
        'The web UIs will answer at <name>.revue.local on 192.168.1.200; up prints the /etc/hosts line to add (or point *.revue.local at 192.168.1.200 in your DNS).',
        '',
      ].join('\n'),
    );
  });

  it('quotes a file name the shell would split, and skips the web UI line without an ingress', () => {
    expect(nextSteps("my lab's.yaml", undefined, 'revue.local')).toBe(
      [
        "Wrote my lab's.yaml. Next:",
        "  npx revue-pi plan -i 'my lab'\\''s.yaml'    # shows what would change on each node, changes nothing",
        "  npx revue-pi up -i 'my lab'\\''s.yaml'      # prepares the Pis, installs K3s, MetalLB and the workloads",
        '',
      ].join('\n'),
    );
  });
});

describe('nextSteps with secrets to export', () => {
  it('lists the variables the inventory names before the commands', () => {
    expect(nextSteps('inventory.yaml', undefined, 'revue.local', ['PI_KEY_PASSPHRASE', 'PI_SUDO_PASSWORD']).split('\n').slice(0, 3)).toEqual([
      'Wrote inventory.yaml. Next:',
      '  export PI_KEY_PASSPHRASE=… PI_SUDO_PASSWORD=…    # the inventory names these variables, never the secrets',
      '  npx revue-pi plan -i inventory.yaml    # shows what would change on each node, changes nothing',
    ]);
    expect(nextSteps('inventory.yaml', undefined, 'revue.local', ['PI_SUDO_PASSWORD']).split('\n')[1]).toBe(
      '  export PI_SUDO_PASSWORD=…    # the inventory names this variable, never the secret',
    );
  });
});

describe('parseSudoCheck (the output of sudo -n true)', () => {
  it.each<[number, string, ReturnType<typeof parseSudoCheck>]>([
    [0, '', 'ok'],
    [1, 'sudo: a password is required\n', 'password'],
    [1, 'sudo: a terminal is required to read the password; either use the -S option to read from standard input or configure an askpass helper\n', 'password'],
    [1, 'pi is not in the sudoers file.  This incident will be reported.\n', { problem: 'pi is not in the sudoers file.  This incident will be reported' }],
    [127, 'sh: 1: sudo: not found\n', { problem: 'sh: 1: sudo: not found' }],
    [1, '', { problem: '`sudo -n true` ended with exit 1' }],
  ])('exit %d, %j', (code, output, expected) => {
    expect(parseSudoCheck(code, output)).toEqual(expected);
  });
});
