import { describe, expect, it } from 'vitest';
import { InventoryError, type InventoryIssue } from '../../../../core/errors.js';
import { parseInventory } from '../../../../core/inventory/parse.js';
import { apiEndpointProblem, domainProblem, hostProblem, installScriptUrlProblem } from '../../../../core/inventory/syntax-hosts.js';
import {
  appNamespaceProblem,
  describeOddCharacter,
  imageReferenceProblem,
  interfaceNameProblem,
  taintProblem,
  userNameProblem,
} from '../../../../core/inventory/syntax.js';

/**
 * Every inventory field that reaches a remote command, a file on a node or a manifest, with values meant to break out
 * of it: each is refused by the schema, at its line and column, naming the field — before anything is contacted.
 */

/** A valid inventory with one placeholder, VALUE, standing where a field's value goes (as a YAML double-quoted string). */
function inventoryWith(field: string): string {
  const ssh: string[] = ['  user: pi'];
  const node: string[] = [];
  const extra: string[] = [];
  const cluster: string[] = ['  name: lab'];
  const k3s: string[] = ['  version: v1.33.5+k3s1'];
  const workloads: string[] = ['  revue: true'];
  let pool = '      - name: lan\n        addresses: [192.168.1.200-192.168.1.220]';
  let fixed = '    ingress: 192.168.1.200';
  switch (field) {
    case 'cluster.name':
      cluster[0] = '  name: VALUE';
      break;
    case 'cluster.domain':
      cluster.push('  domain: VALUE');
      break;
    case 'cluster.apiEndpoint':
      cluster.push('  apiEndpoint: VALUE');
      break;
    case 'k3s.version':
      k3s[0] = '  version: VALUE';
      break;
    case 'k3s.channel':
      k3s[0] = '  channel: VALUE';
      break;
    case 'k3s.installScriptUrl':
      k3s.push('  installScriptUrl: VALUE');
      break;
    case 'ssh.user':
      ssh[0] = '  user: VALUE';
      break;
    case 'ssh.passwordEnv':
      ssh.push('  passwordEnv: VALUE');
      break;
    case 'ssh.jump.host':
      ssh.push('  jump:', '    host: VALUE');
      break;
    case 'ssh.jump.user':
      ssh.push('  jump:', '    host: bastion.lan', '    user: VALUE');
      break;
    case 'nodes[0].name':
      node.push('    name: VALUE');
      break;
    case 'nodes[0].host':
      node.push('    host: VALUE');
      break;
    case 'nodes[0].wifiInterface':
      node.push('    wifiInterface: VALUE');
      break;
    case 'nodes[0].taints[0]':
      node.push('    taints: [VALUE]');
      break;
    case 'nodes[0].labels.key':
      node.push('    labels: {VALUE: x}');
      break;
    case 'nodes[0].labels.zone':
      node.push('    labels: {zone: VALUE}');
      break;
    case 'nodes[0].ssh.user':
      node.push('    ssh: {user: VALUE}');
      break;
    case 'workloads.namespace':
      workloads.push('  namespace: VALUE');
      break;
    case 'workloads.revueVersion':
      workloads.push('  revueVersion: VALUE');
      break;
    case 'workloads.images.mongo':
      workloads.push('  images: {mongo: VALUE}');
      break;
    case 'workloads.mediaServerHosts[0]':
      workloads.push('  mediaServerHosts: [VALUE]');
      break;
    case 'network.metallb.pools[0].name':
      pool = '      - name: VALUE\n        addresses: [192.168.1.200-192.168.1.220]';
      break;
    case 'network.metallb.pools[0].addresses[0]':
      pool = '      - name: lan\n        addresses: [VALUE]';
      break;
    case 'network.addresses.ingress':
      fixed = '    ingress: VALUE';
      break;
    default:
      throw new Error(`test setup: no place for ${field}`);
  }
  const first = ['  - name: pi-1', '    host: 192.168.1.101', '    role: server'];
  for (const line of node) {
    const key = line.trim().split(':')[0]!;
    const at = first.findIndex((l) => l.trim().startsWith(`${key}:`) || l.trim().startsWith(`- ${key}:`));
    if (at >= 0) first[at] = at === 0 ? line.replace(/^ {4}/, '  - ') : line;
    else first.push(line);
  }
  return (
    [
      'cluster:',
      ...cluster,
      'k3s:',
      ...k3s,
      'ssh:',
      ...ssh,
      'nodes:',
      ...first,
      '  - name: pi-2',
      '    host: 192.168.1.102',
      '    role: agent',
      'network:',
      '  metallb:',
      '    pools:',
      pool,
      '  addresses:',
      fixed,
      'workloads:',
      ...workloads,
      ...extra,
    ].join('\n') + '\n'
  );
}

function issuesOf(text: string): InventoryIssue[] {
  try {
    parseInventory(text, 'inventory.yaml', { homeDir: '/home/op' });
  } catch (e) {
    if (e instanceof InventoryError) return e.issues;
    throw e;
  }
  return [];
}

/** Values meant to break out of a command, a unit line or a YAML/Traefik string, or to pass for something they are not. */
const HOSTILE: [string, string][] = [
  ['a semicolon', 'wlan0;reboot'],
  ['a command after a space', 'x; touch /tmp/pwned'],
  ['a line break', 'wlan0\nExecStartPre=/bin/sh -c id'],
  ['a command substitution', '$(id)'],
  ['backticks', '`id`'],
  ['single quotes', "a'b"],
  ['double quotes', 'a"b'],
  ['a space', 'a b'],
  ['full-width look-alikes', 'ｗｌａｎ０'],
  ['a Cyrillic look-alike', 'wl\u0430n0'],
  ['a trailing no-break space', 'wlan0\u00a0'],
  ['a zero-width space', 'pi\u200b1'],
  ['an escape sequence', '\u001b[31mred'],
];

/** Fields whose syntax leaves no room for any of HOSTILE. */
const FIELDS = [
  'cluster.name',
  'cluster.domain',
  'cluster.apiEndpoint',
  'k3s.version',
  'k3s.channel',
  'k3s.installScriptUrl',
  'ssh.user',
  'ssh.passwordEnv',
  'ssh.jump.host',
  'ssh.jump.user',
  'nodes[0].name',
  'nodes[0].host',
  'nodes[0].wifiInterface',
  'nodes[0].taints[0]',
  'nodes[0].labels.zone',
  'nodes[0].ssh.user',
  'workloads.namespace',
  'workloads.revueVersion',
  'workloads.images.mongo',
  'workloads.mediaServerHosts[0]',
  'network.metallb.pools[0].name',
  'network.metallb.pools[0].addresses[0]',
  'network.addresses.ingress',
];

describe('every field that reaches a node or a manifest refuses hostile values', () => {
  it('the test inventory is valid as it is, for every field', () => {
    const fine: Record<string, string> = {
      'cluster.name': 'lab',
      'cluster.domain': 'lab.lan',
      'cluster.apiEndpoint': 'k3s.lab.lan',
      'k3s.version': 'v1.33.5+k3s1',
      'k3s.channel': 'stable',
      'k3s.installScriptUrl': 'https://get.k3s.io',
      'ssh.user': 'pi',
      'ssh.passwordEnv': 'PI_PASSWORD',
      'ssh.jump.host': 'bastion.lan',
      'ssh.jump.user': 'jump',
      'nodes[0].name': 'pi-1',
      'nodes[0].host': '192.168.1.101',
      'nodes[0].wifiInterface': 'wlan0',
      'nodes[0].taints[0]': 'dedicated=db:NoSchedule',
      'nodes[0].labels.zone': 'barn',
      'nodes[0].ssh.user': 'ops',
      'workloads.namespace': 'shop',
      'workloads.revueVersion': '3.1.14',
      'workloads.images.mongo': 'mongo:8.0.4',
      'workloads.mediaServerHosts[0]': 'cams.lab.lan',
      'network.metallb.pools[0].name': 'lan',
      'network.metallb.pools[0].addresses[0]': '192.168.1.200-192.168.1.220',
      'network.addresses.ingress': '192.168.1.200',
    };
    for (const field of FIELDS) {
      const text = inventoryWith(field).replace('VALUE', JSON.stringify(fine[field]));
      expect([field, issuesOf(text)]).toEqual([field, []]);
    }
  });

  const cases = FIELDS.flatMap((field) => HOSTILE.map(([what, value]) => [field, what, value] as const));
  it.each(cases)('%s: %s', (field, _what, value) => {
    const text = inventoryWith(field).replace('VALUE', JSON.stringify(value));
    const line = text.split('\n').findIndex((l) => l.includes(JSON.stringify(value))) + 1;
    const issues = issuesOf(text);
    const issue = issues.find((i) => i.path === field);
    expect(issue, `${field} accepted ${JSON.stringify(value)}; issues: ${JSON.stringify(issues)}`).toBeDefined();
    expect(issue!.severity).toBe('error');
    expect(issue!.line).toBe(line);
    expect(issue!.column).toBeGreaterThan(1);
    // The message is one line: a line break or escape in the value is shown escaped, never printed raw.
    expect(issue!.message).not.toMatch(/[\u0000-\u001f]/);
  });

  it('a label key with hostile characters is refused at the key', () => {
    for (const [, value] of HOSTILE) {
      const text = inventoryWith('nodes[0].labels.key').replace('VALUE', JSON.stringify(value));
      const issues = issuesOf(text);
      expect(
        issues.some((i) => i.path === `nodes[0].labels[${JSON.stringify(value)}]` && i.severity === 'error'),
        JSON.stringify([value, issues]),
      ).toBe(true);
    }
  });

  it('k3s.installScriptUrl over plain http is refused at its line unless it is this machine (loopback)', () => {
    const text = (url: string) => inventoryWith('k3s.installScriptUrl').replace('VALUE', url);
    const issues = issuesOf(text('http://get.k3s.io'));
    expect(issues).toEqual([
      {
        path: 'k3s.installScriptUrl',
        line: 5,
        column: 21,
        severity: 'error',
        message:
          'installScriptUrl "http://get.k3s.io" is plain http: every node would run whatever answers there as root — use https:// (http is accepted only for 127.0.0.1, ::1 or localhost)',
      },
    ]);
    expect(issuesOf(text('http://127.0.0.1:8080/install.sh'))).toEqual([]);
  });

  it('local file paths take any name but not a line break', () => {
    const text = (v: string) =>
      `cluster: {name: lab}\nssh: {keyPath: ${JSON.stringify(v)}}\nnodes: [{name: pi-1, host: 192.168.1.101, role: server}]\nworkloads: {revue: false, monitoring: false}\n`;
    expect(issuesOf(text('keys/my key;(1)'))).toEqual([]);
    expect(issuesOf(text('keys/id\nrm'))).toEqual([expect.objectContaining({ path: 'ssh.keyPath', message: expect.stringContaining('line break') })]);
  });
});

describe('the syntax checks, one by one', () => {
  it.each([
    ['192.168.1.101'],
    ['10.0.0.1'],
    ['fe80::1'],
    ['fe80::1%eth0'],
    ['2001:db8::42'],
    ['pi-1.local'],
    ['PI-1.Local'],
    ['raspberrypi'],
    ['pi-1.local.'],
    ['xn--bcher-kva.example'],
  ])('host %s is fine', (host) => {
    expect(hostProblem(host, 'host')).toBeUndefined();
  });

  it.each([
    ['127.0.0.300', 'host "127.0.0.300" is no IPv4 address: 300 is over 255'],
    ['192.168.01.1', 'host "192.168.01.1" is no IPv4 address: 01 has a leading zero (some tools read it as octal) — write 1'],
    ['1.2.3', 'host "1.2.3" has 3 parts; an IPv4 address has 4, e.g. 192.168.1.101'],
    ['pi@192.168.1.10', 'host "pi@192.168.1.10" holds a user — write host: 192.168.1.10 and put the user in ssh.user (user: pi)'],
    ['pi-1.local:2222', 'host "pi-1.local:2222" holds a port — write host: pi-1.local and put the port in ssh.port (port: 2222), for the node or for all'],
    ['[fe80::1]:2222', 'host "[fe80::1]:2222" is in brackets — write the IPv6 address without them and the port in ssh.port (port: 2222), e.g. fe80::1'],
    ['ssh://pi@pi-1.local:22', 'host "ssh://pi@pi-1.local:22" is a URL — write the address alone, e.g. "pi-1.local"'],
    [
      'pi_1.local',
      'host "pi_1.local" has "_" in "pi_1", which host names cannot hold (use "-") — write an IPv4 address (192.168.1.101), an IPv6 address or a host name (pi-1.local)',
    ],
    [
      '-pi.local',
      'host "-pi.local" has "-pi", which starts or ends with "-" — write an IPv4 address (192.168.1.101), an IPv6 address or a host name (pi-1.local)',
    ],
    ['fe80::zz', 'host "fe80::zz" is no IPv6 address — write it like fe80::1 (no brackets, no port)'],
    ['pi 1', 'host "pi 1" holds a space — write the address alone, e.g. 192.168.1.101'],
    [
      'pi\u00a01',
      'host "pi\u00a01" holds U+00A0 (a no-break space) — a host is an IPv4 address (192.168.1.101), an IPv6 address or a DNS name (pi-1.local); retype it in plain ASCII (pasted text often carries such look-alikes)',
    ],
  ])('host %j: %s', (host, message) => {
    expect(hostProblem(host, 'host')).toBe(message);
  });

  it.each([
    ['https://revue.local/', 'domain "https://revue.local/" is a URL — write the domain alone: revue.local'],
    ['revue.local/', 'domain "revue.local/" holds "/" — write the domain alone, e.g. revue.local (services answer at <service>.<domain>)'],
    ['revue.local:80', 'domain "revue.local:80" holds ":" — write the domain alone, e.g. revue.local (services answer at <service>.<domain>)'],
    ['*.revue.local', 'domain "*.revue.local" is a wildcard — write the domain without "*.": revue.local'],
    ['Revue.Local', 'domain "Revue.Local" has capitals — write it in lowercase: revue.local'],
    ['revue.local.', 'domain "revue.local." ends with a dot — write revue.local'],
    ['revue..local', 'domain "revue..local" has an empty part between dots — write a DNS domain such as revue.local'],
    ['`) || Host(`x', 'domain "`) || Host(`x" holds " " — write the domain alone, e.g. revue.local (services answer at <service>.<domain>)'],
  ])('domain %j: %s', (domain, message) => {
    expect(domainProblem(domain, 'domain')).toBe(message);
  });

  it('domains that are fine', () => {
    for (const d of ['revue.local', 'home', 'pi.example.com', 'a-b.c-d']) expect(domainProblem(d, 'domain')).toBeUndefined();
  });

  it.each([['wlan0'], ['wlp1s0'], ['wlx00c0ca123456'], ['wlan0.100'], ['br_lan'], ['eth-1']])('interface %s is fine', (name) => {
    expect(interfaceNameProblem(name, 'wifiInterface')).toBeUndefined();
  });

  it.each([['-wlan0'], ['.'], ['..'], ['wlan/0'], ['wlan:0'], ['averyverylongname0'], ['']])('interface %j is refused', (name) => {
    expect(interfaceNameProblem(name, 'wifiInterface')).toMatch(/^wifiInterface /);
  });

  it.each([
    ['https://get.k3s.io', undefined],
    ['https://mirror.lan:8443/k3s/install.sh', undefined],
    ['http://127.0.0.1:8080/install.sh', undefined],
    ['http://127.3.4.5/install.sh', undefined],
    ['http://localhost/install.sh', undefined],
    ['http://[::1]:8080/install.sh', undefined],
    ['http://get.k3s.io', /is plain http: every node would run whatever answers there as root — use https:\/\//],
    ['http://192.168.1.5/install.sh', /is plain http/],
    ['http://127.0.0.1.nip.io/install.sh', /is plain http/],
    ['ftp://mirror.lan/install.sh', /must be an https:\/\/ URL/],
    ['file:///tmp/install.sh', /must be an https:\/\/ URL/],
    ['https://user:secret@mirror.lan/install.sh', /holds a user name or password/],
    ['get.k3s.io', /is not a URL/],
  ])('installScriptUrl %s', (url, expected) => {
    const problem = installScriptUrlProblem(url, 'installScriptUrl');
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatch(expected);
  });

  it.each(['default', 'kube-system', 'kube-public', 'kube-node-lease', 'metallb-system', 'monitoring', 'kube-anything'])('namespace %s is reserved', (ns) => {
    expect(appNamespaceProblem(ns, 'namespace')).toBe(
      `namespace "${ns}" is reserved (Kubernetes, K3s, MetalLB or the monitoring stack use it) — pick a namespace of its own, e.g. revue`,
    );
  });

  it('namespaces that are no Kubernetes names', () => {
    for (const ns of ['Revue', 'revue_app', 'a'.repeat(64), '-revue'])
      expect(appNamespaceProblem(ns, 'namespace')).toMatch(/is not a Kubernetes namespace name/);
    expect(appNamespaceProblem('revue', 'namespace')).toBeUndefined();
  });

  it.each([
    ['dedicated=db:NoSchedule', undefined],
    ['example.com/gpu:NoExecute', undefined],
    ['dedicated=:PreferNoSchedule', undefined],
    ['dedicated=db', /must end in :NoSchedule/],
    ['dedicated=db:Never', /must end in :NoSchedule/],
    ['../x=y:NoSchedule', /the key its prefix ".." is not a lowercase DNS name/],
    ['-x=y:NoSchedule', /the key "-x" is not up to 63/],
    ['x=a=b:NoSchedule', /the value "a=b" holds "="/],
    ['x=-y:NoSchedule', /the value "-y" is not up to 63/],
  ])('taint %s', (taint, expected) => {
    const problem = taintProblem(taint, 'taints[0]');
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatch(expected);
  });

  it('users, endpoints and image references', () => {
    expect(userNameProblem('pi@host', 'user')).toBe('user "pi@host" holds "@" — write the user alone (user: pi); the address goes in the node\'s host');
    expect(userNameProblem('Ops.Admin_1', 'user')).toBeUndefined();
    expect(userNameProblem('-oProxyCommand=x', 'user')).toMatch(/is not a user name/);
    for (const e of ['k3s.lab.lan', '10.0.0.5', '10.0.0.5:6443', 'https://k3s.lab.lan:6443', 'https://[fe80::1]:6443', 'fe80::1'])
      expect(apiEndpointProblem(e, 'apiEndpoint')).toBeUndefined();
    expect(apiEndpointProblem('http://k3s.lab.lan:6443', 'apiEndpoint')).toMatch(/must use https/);
    expect(apiEndpointProblem('https://k3s.lab.lan:6443/api', 'apiEndpoint')).toMatch(/nothing after it/);
    expect(apiEndpointProblem('k3s.lab.lan:99999', 'apiEndpoint')).toMatch(/port 99999/);
    for (const r of ['mongo:8.0.4', 'registry.lan:5000/team/app:1.2', `ghcr.io/x/y@sha256:${'a'.repeat(64)}`])
      expect(imageReferenceProblem(r, 'mongo')).toBeUndefined();
    for (const r of ['Mongo:8', 'mongo:8 --privileged', 'mongo:8\nx', 'mongo::8']) expect(imageReferenceProblem(r, 'mongo')).toBeDefined();
  });

  it('names the characters an editor hides', () => {
    expect(describeOddCharacter('a\u00a0b')).toBe('U+00A0 (a no-break space)');
    expect(describeOddCharacter('wl\u0430n0')).toBe('U+0430');
    expect(describeOddCharacter('plain')).toBeUndefined();
  });
});
