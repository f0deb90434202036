import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseInventory } from '../../../core/inventory/parse.js';
import { RevuePiError } from '../../../core/errors.js';
import { resolveSshForCommand } from '../../../core/ssh-config/for-command.js';
import { loadSshConfig, sshConfigSource } from '../../../core/ssh-config/load.js';
import { lookupHost, type LookupContext } from '../../../core/ssh-config/lookup.js';
import { parseSshConfig } from '../../../core/ssh-config/parse.js';
import { formatSshOrigins, parseJumpSpec, resolveInventorySsh, type LocalContext } from '../../../core/ssh-config/resolve.js';
import { tempDir } from '../../fakes/temp-dir.js';

const LOCAL: LocalContext = { localUser: 'me', localHostName: 'laptop.home', uid: 1000, home: '/home/me', env: { HOME: '/home/me', KEYS: '/keys' } };
const CTX: LookupContext = { ...LOCAL, host: 'pi1', defaultUser: 'pi', defaultPort: 22 };

const lookup = (text: string, ctx: Partial<LookupContext> = {}) => lookupHost(parseSshConfig(text, '~/.ssh/config'), { ...CTX, ...ctx });

describe('parseSshConfig', () => {
  it('keeps every directive with its file, line and block, keywords in lower case', () => {
    const directives = parseSshConfig(
      '# mine\nUser top\n\nHost pi1 pi2\n  HostName 10.0.0.1\n  # note\n  identityfile "~/.ssh/a b"\nMatch host 10.* !user bob\n  Port=2222\n',
      'cfg',
    );
    expect(directives.map((d) => [d.origin.line, d.keyword, d.values, d.conditions.map((c) => c.origin.line)])).toEqual([
      [2, 'user', ['top'], []],
      [5, 'hostname', ['10.0.0.1'], [4]],
      [7, 'identityfile', ['~/.ssh/a b'], [4]],
      [9, 'port', ['2222'], [8]],
    ]);
    expect(directives[3]!.conditions[0]).toMatchObject({
      kind: 'match',
      criteria: [
        { keyword: 'host', negated: false, patterns: ['10.*'] },
        { keyword: 'user', negated: true, patterns: ['bob'] },
      ],
    });
  });

  it('names the file when the parser refuses it', () => {
    expect(() => parseSshConfig('Host a\n  IdentityFile "unclosed\n', 'cfg')).toThrow(/^cfg: Unexpected line break/);
  });
});

describe('lookupHost', () => {
  it('takes the first value that applies, from the Host blocks matching the alias; IdentityFile accumulates', () => {
    const hc = lookup(
      'Host pi1\n  HostName 192.168.1.11\n  User admin\n  IdentityFile ~/.ssh/pi\nHost *\n  User other\n  Port 2200\n  IdentityFile ~/.ssh/id_%h_%r_%p\n',
    );
    expect(hc.hostName).toMatchObject({ value: '192.168.1.11', origin: { file: '~/.ssh/config', line: 2 }, keyword: 'HostName', block: 'Host pi1' });
    expect(hc.user?.value).toBe('admin');
    expect(hc.port?.value).toBe(2200);
    expect(hc.identityFiles.map((f) => f.value)).toEqual(['/home/me/.ssh/pi', '/home/me/.ssh/id_192.168.1.11_admin_2200']);
  });

  it('a negated pattern vetoes the block; ? is one character; names compare without case', () => {
    expect(lookup('Host pi* !pi1\n  User a\n').user).toBeUndefined();
    expect(lookup('Host p?1\n  User a\n').user?.value).toBe('a');
    expect(lookup('Host p?\n  User a\n').user).toBeUndefined();
    expect(lookup('Host PI1\n  User a\n').user?.value).toBe('a');
  });

  it("Match host sees the HostName set so far, Match user the user (the inventory's, else the config's, else pi)", () => {
    const text = 'Host pi1\n  HostName 10.1.2.3\nMatch host 10.1.* user pi\n  Port 2201\nMatch originalhost pi1 localuser me\n  IdentityFile ~/k\n';
    expect(lookup(text).port?.value).toBe(2201);
    expect(lookup(text, { user: 'ops' }).port).toBeUndefined();
    expect(lookup(text).identityFiles.map((f) => f.value)).toEqual(['/home/me/k']);
    expect(lookup('Match !host pi1\n  Port 1\nMatch all\n  Port 2\n').port?.value).toBe(2);
  });

  it('a Match block with a criterion it cannot evaluate is left out and reported, unless it cannot apply anyway', () => {
    const hc = lookup('Match exec "test -e /x" host pi1\n  User x\nMatch host other canonical\n  User y\n');
    expect(hc.user).toBeUndefined();
    expect(hc.skippedMatches).toEqual([{ origin: { file: '~/.ssh/config', line: 1 }, criterion: 'exec' }]);
  });

  it('expands %% tokens, ~ and ${VAR}; UserKnownHostsFile none reads no file', () => {
    const hc = lookup('Host pi1\n  IdentityFile ${KEYS}/%n-%u-%L-%d%%\n  UserKnownHostsFile ~/.ssh/kh_%h /etc/kh\n');
    expect(hc.identityFiles[0]?.value).toBe('/keys/pi1-me-laptop-/home/me%');
    expect(hc.userKnownHostsFiles?.value).toEqual(['/home/me/.ssh/kh_pi1', '/etc/kh']);
    expect(lookup('UserKnownHostsFile none\n').userKnownHostsFiles?.value).toEqual([]);
  });

  it('reports values it cannot use as sentences with file:line', () => {
    expect(lookup('Port ssh\nIdentitiesOnly maybe\nIdentityFile ~/.ssh/%C\n').errors).toEqual([
      '~/.ssh/config:1: Port ssh is not a port number (1-65535).',
      '~/.ssh/config:2: IdentitiesOnly maybe must be yes or no.',
      '~/.ssh/config:3: the token %C in IdentityFile is not supported by revue-pi (supported: %%, %h, %n, %k, %p, %r, %u, %d, %i, %l, %L).',
    ]);
  });

  it('lists options that change the connection and are not followed', () => {
    const hc = lookup('Host pi1\n  ProxyCommand nc %h %p\n  IdentityAgent none\n  ForwardAgent yes\n');
    expect(hc.notHonoured.map((f) => [f.keyword, f.value, f.origin.line])).toEqual([['ProxyCommand', 'nc %h %p', 2]]);
  });
});

describe('parseJumpSpec', () => {
  it.each([
    ['bastion', { host: 'bastion' }],
    ['ops@bastion:2222', { host: 'bastion', user: 'ops', port: 2222 }],
    ['ssh://ops@10.0.0.1', { host: '10.0.0.1', user: 'ops' }],
    ['[fe80::1]:22', { host: 'fe80::1', port: 22 }],
  ])('%s', (text, expected) => expect(parseJumpSpec(text)).toEqual(expected));
  it('refuses what is not [user@]host[:port]', () => {
    expect(parseJumpSpec('a:b:c')).toBeUndefined();
    expect(parseJumpSpec('host:70000')).toBeUndefined();
  });
});

const INVENTORY = `cluster:
  name: home
ssh:
  connectRetries: 0
nodes:
  - name: pi-1
    host: pi1
    role: server
  - name: pi-2
    host: pi2
    role: agent
    ssh:
      user: admin
      keyPath: /keys/pi2
network:
  metallb:
    pools:
      - name: lan
        addresses: [192.168.1.200-192.168.1.220]
`;

describe('resolveInventorySsh', () => {
  const inventory = parseInventory(INVENTORY, '/site/inventory.yaml', { homeDir: '/home/me' }).inventory;
  const config = {
    file: '~/.ssh/config',
    directives: parseSshConfig(
      'Host pi1 pi2\n  User ops\n  Port 2222\n  IdentityFile ~/.ssh/pis\n  ProxyJump gate\nHost pi1\n  HostName 192.168.1.11\nHost pi2\n  HostName 192.168.1.12\nHost gate\n  HostName 10.0.0.1\n  User jumper\n  IdentityFile ~/.ssh/gate\n  UserKnownHostsFile ~/.ssh/gate_hosts\n',
      '~/.ssh/config',
    ),
  };

  it('the config fills what the inventory leaves out; the inventory wins where it speaks; node hosts become the HostName', () => {
    const resolved = resolveInventorySsh(inventory, config, LOCAL);
    expect(resolved.errors).toEqual([]);
    expect(resolved.inventory.nodes.map((n) => n.host)).toEqual(['192.168.1.11', '192.168.1.12']);
    expect(resolved.nodes.get('pi-1')!.settings).toMatchObject({
      host: '192.168.1.11',
      user: 'ops',
      port: 2222,
      useAgent: true,
      identityFiles: ['/home/me/.ssh/pis'],
      jump: { host: '10.0.0.1', port: 22, user: 'jumper', identityFiles: ['/home/me/.ssh/gate'], userKnownHostsFiles: ['/home/me/.ssh/gate_hosts'] },
    });
    const pi2 = resolved.nodes.get('pi-2')!.settings;
    expect(pi2).toMatchObject({ host: '192.168.1.12', user: 'admin', port: 2222, keyPath: '/keys/pi2' });
    expect(pi2.identityFiles).toBeUndefined();
  });

  it('plan --verbose shows where each setting came from', () => {
    const resolved = resolveInventorySsh(inventory, config, LOCAL);
    expect(formatSshOrigins(resolved.nodes.get('pi-2')!)).toEqual([
      'pi-2: SSH settings',
      '    host 192.168.1.12 — ~/.ssh/config:9 (HostName, in Host pi2) for pi2',
      '    user admin — inventory nodes[1].ssh.user',
      '    port 2222 — ~/.ssh/config:3 (Port, in Host pi1 pi2)',
      '    key /keys/pi2 — inventory nodes[1].ssh.keyPath',
      '    ssh-agent yes — default',
      '    jump host jumper@10.0.0.1:22 — ~/.ssh/config:5 (ProxyJump, in Host pi1 pi2); gate → 10.0.0.1 from ~/.ssh/config:11 (HostName, in Host gate)',
    ]);
  });

  it("the inventory's ssh.jump wins over ProxyJump, and its host is looked up in the config too", () => {
    const withJump = parseInventory(
      INVENTORY.replace('  connectRetries: 0\n', '  connectRetries: 0\n  jump:\n    host: gate\n    port: 2022\n'),
      '/site/inventory.yaml',
      { homeDir: '/home/me' },
    ).inventory;
    const resolved = resolveInventorySsh(withJump, config, LOCAL);
    expect(resolved.nodes.get('pi-1')!.settings.jump).toMatchObject({ host: '10.0.0.1', port: 2022, user: 'jumper' });
    expect(resolved.nodes.get('pi-1')!.origins.find((o) => o.setting === 'jump host')?.from).toBe(
      'inventory ssh.jump; gate → 10.0.0.1 from ~/.ssh/config:11 (HostName, in Host gate)',
    );
  });

  it('without a config, the inventory and the defaults alone', () => {
    const resolved = resolveInventorySsh(inventory, undefined, LOCAL);
    expect(resolved.nodes.get('pi-1')!.settings).toMatchObject({ host: 'pi1', user: 'pi', port: 22 });
    expect(resolved.nodes.get('pi-1')!.settings.jump).toBeUndefined();
  });

  it('several jump hosts, or a jump host with its own ProxyJump, are refused; unsupported lines are warnings', () => {
    const text = 'Host pi1\n  ProxyJump a,b\nHost pi2\n  ProxyJump gate\n  ProxyCommand nc %h %p\nHost gate\n  ProxyJump far\n';
    const resolved = resolveInventorySsh(inventory, { file: 'cfg', directives: parseSshConfig(text, 'cfg') }, LOCAL);
    expect(resolved.errors).toEqual([
      'cfg:2: ProxyJump a,b for node pi-1 goes through several jump hosts; revue-pi goes through one. Give the node a config entry with a single ProxyJump, or set ssh.jump in the inventory.',
      'cfg:7: the jump host gate of node pi-2 has a ProxyJump of its own (far); revue-pi goes through one jump host only.',
    ]);
    expect(resolved.warnings).toEqual([
      'cfg:5: ProxyCommand nc %h %p applies to node pi-2 (host pi2), but revue-pi does not follow ProxyCommand; the connection is made without it.',
    ]);
  });
});

describe('loading the file', () => {
  const dir = tempDir('sshcfg');
  const home = join(dir, 'home');
  mkdirSync(join(home, '.ssh', 'conf.d'), { recursive: true });

  it('picks ssh.configFile, then REVUE_PI_SSH_CONFIG, then ~/.ssh/config; none reads nothing', () => {
    expect(sshConfigSource('/a', { REVUE_PI_SSH_CONFIG: '/b' }, home)).toEqual({ path: '/a', from: 'ssh.configFile' });
    expect(sshConfigSource(undefined, { REVUE_PI_SSH_CONFIG: '~/b' }, home)).toEqual({ path: join(home, 'b'), from: 'REVUE_PI_SSH_CONFIG' });
    expect(sshConfigSource(undefined, {}, home)).toEqual({ path: join(home, '.ssh', 'config'), from: 'default' });
    expect(sshConfigSource('none', {}, home).path).toBeUndefined();
  });

  it('a missing default file is no config; a missing named one is an error naming it', () => {
    expect(loadSshConfig({ path: join(home, 'nope'), from: 'default' }, home)).toBeUndefined();
    expect(() => loadSshConfig({ path: join(home, 'nope'), from: 'REVUE_PI_SSH_CONFIG' }, home)).toThrow(
      /^The SSH config file .*nope \(from REVUE_PI_SSH_CONFIG\) cannot be read/,
    );
  });

  it('expands Include (relative to ~/.ssh, globbed, sorted) inside the block of the Include line', () => {
    writeFileSync(join(home, '.ssh', 'conf.d', 'b.conf'), 'User from-b\n');
    writeFileSync(join(home, '.ssh', 'conf.d', 'a.conf'), 'Port 2001\nHost other\n  User never\n');
    writeFileSync(join(home, '.ssh', 'config'), 'Host pi1\n  Include conf.d/*.conf\nHost pi2\n  HostName 10.0.0.2\n');
    const loaded = loadSshConfig({ path: join(home, '.ssh', 'config'), from: 'default' }, home)!;
    expect(loaded.file).toBe('~/.ssh/config');
    expect(loaded.directives.map((d) => `${d.origin.file}:${d.origin.line} ${d.keyword} ${d.conditions.map((c) => c.origin.line).join('+')}`)).toEqual([
      '~/.ssh/conf.d/a.conf:1 port 1',
      '~/.ssh/conf.d/a.conf:3 user 1+2',
      '~/.ssh/conf.d/b.conf:1 user 1',
      '~/.ssh/config:4 hostname 3',
    ]);
    const hc = lookupHost(loaded.directives, { ...CTX, home });
    expect([hc.port?.value, hc.user?.value, hc.user?.origin.file]).toEqual([2001, 'from-b', '~/.ssh/conf.d/b.conf']);
    expect(lookupHost(loaded.directives, { ...CTX, host: 'pi2', home }).port).toBeUndefined();
  });

  it('a config that cannot be used stops the command (exit 2) with every problem listed', () => {
    writeFileSync(join(dir, 'bad_config'), 'Host pi1\n  Port twenty\n');
    const inventory = parseInventory(INVENTORY, '/site/inventory.yaml', { homeDir: home }).inventory;
    let error: unknown;
    try {
      resolveSshForCommand(inventory, { HOME: home, REVUE_PI_SSH_CONFIG: join(dir, 'bad_config') });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RevuePiError);
    expect((error as RevuePiError).message).toBe(
      `The SSH config cannot be used for this inventory:\n  ${join(dir, 'bad_config')}:2: Port twenty is not a port number (1-65535).`,
    );
  });
});
