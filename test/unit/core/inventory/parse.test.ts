import { describe, expect, it } from 'vitest';
import { InventoryError, formatIssue, type InventoryIssue } from '../../../../core/errors.js';
import { parseInventory } from '../../../../core/inventory/parse.js';
import { sshSettingsFor } from '../../../../core/inventory/schema.js';

// A small valid inventory. The line numbers are the ones the expectations below use.
const BASE =
  [
    'cluster:', //                                        1
    '  name: lab', //                                     2
    'k3s:', //                                            3
    '  version: v1.33.5+k3s1', //                         4
    'ssh:', //                                            5
    '  user: pi', //                                      6
    'nodes:', //                                          7
    '  - name: pi-1', //                                  8
    '    host: 192.168.1.101', //                         9
    '    role: server', //                               10
    '  - name: pi-2', //                                 11
    '    host: 192.168.1.102', //                        12
    '    role: agent', //                                13
    'network:', //                                       14
    '  metallb:', //                                     15
    '    pools:', //                                     16
    '      - name: lan', //                              17
    '        addresses:', //                             18
    '          - 192.168.1.200-192.168.1.220', //        19
    '  addresses:', //                                   20
    '    ingress: 192.168.1.200', //                     21
    '    mediaServer: 192.168.1.201', //                 22
    '    kafka: [192.168.1.202, 192.168.1.203]', //      23
    'pi:', //                                            24
    '  kernel4k: true', //                               25
    'workloads:', //                                     26
    '  revue: true', //                                  27
  ].join('\n') + '\n';

/** BASE with one exact piece of text replaced (the piece must occur exactly once). */
function edit(...pairs: [string, string][]): string {
  let text = BASE;
  for (const [from, to] of pairs) {
    const at = text.indexOf(from);
    if (at < 0 || text.indexOf(from, at + 1) >= 0) throw new Error(`test setup: "${from}" must occur exactly once`);
    text = text.slice(0, at) + to + text.slice(at + from.length);
  }
  return text;
}

function issuesOf(text: string): InventoryIssue[] {
  try {
    parseInventory(text, 'inventory.yaml', { homeDir: '/home/op' });
  } catch (e) {
    if (e instanceof InventoryError) return e.issues;
    throw e;
  }
  throw new Error('expected an InventoryError, but the inventory was accepted');
}

describe('parseInventory', () => {
  it('accepts the base inventory with no warnings and fills in defaults', () => {
    const { inventory, warnings } = parseInventory(BASE, 'inventory.yaml', { homeDir: '/home/op' });
    expect(warnings).toEqual([]);
    expect(inventory.nodes.map((n) => [n.name, n.host, n.role])).toEqual([
      ['pi-1', '192.168.1.101', 'server'],
      ['pi-2', '192.168.1.102', 'agent'],
    ]);
    expect(inventory.ssh).toMatchObject({ user: 'pi', connectTimeoutSeconds: 10, connectRetries: 2 });
    // Port and agent are left to ~/.ssh/config (provision/ssh-config), then to SSH_DEFAULTS.
    expect(inventory.ssh.port).toBeUndefined();
    expect(sshSettingsFor(inventory, inventory.nodes[1]!)).toMatchObject({ host: '192.168.1.102', user: 'pi', port: 22, useAgent: true });
    expect(inventory.pi).toEqual({ cgroups: true, kernel4k: true, wifiPromiscuous: false, rebootTimeoutSeconds: 180 });
    expect(inventory.network.metallb.enabled).toBe(true);
    expect(inventory.workloads).toMatchObject({ namespace: 'revue', revue: true, monitoring: true, kafkaUi: true });
    expect(inventory.k3s.installScriptUrl).toBe('https://get.k3s.io');
  });

  // [case, inventory text, path, line, column, message]
  it.each<[string, string, string, number, number, string]>([
    ['role not server/agent', edit(['role: server', 'role: master']), 'nodes[0].role', 10, 11, 'role must be "server" or "agent" (got "master")'],
    [
      'misspelt field',
      edit(['    host: 192.168.1.101', '    hostname: 192.168.1.101']),
      'nodes[0].hostname',
      9,
      5,
      'unknown field "hostname" — did you mean "host"?',
    ],
    ['field in the wrong case', edit(['  kernel4k: true', '  kernel4K: true']), 'pi.kernel4K', 25, 3, 'unknown field "kernel4K" — did you mean "kernel4k"?'],
    ['misspelt section', edit(['nodes:', 'node:']), 'node', 7, 1, 'unknown field "node" — did you mean "nodes"?'],
    [
      'unknown field with no close match',
      edit(['  user: pi', '  user: pi\n  colour: blue']),
      'ssh.colour',
      7,
      3,
      'unknown field "colour" — remove it; allowed here: user, port, keyPath, keyPassphraseEnv, useAgent, passwordEnv, sudoPasswordEnv, jump, connectTimeoutSeconds, connectRetries, knownHostsFile, hostKeys, configFile',
    ],
    [
      'a literal password where its variable name goes',
      edit(['  user: pi', '  user: pi\n  password: hunter2']),
      'ssh.password',
      7,
      3,
      'unknown field "password" — did you mean "passwordEnv"? It takes the NAME of an environment variable holding the secret, never the secret itself.',
    ],
    [
      'missing required field → the parent mapping',
      edit(['    role: agent\n', '']),
      'nodes[1].role',
      11,
      5,
      'role is required — add role: server (runs the control plane) or role: agent (runs workloads only)',
    ],
    [
      'missing cluster name',
      edit(['  name: lab', '  domain: lab.local']),
      'cluster.name',
      2,
      3,
      'name is required — add name: with lowercase letters, digits and "-", e.g. name: pi-1',
    ],
    ['empty section', edit(['cluster:\n  name: lab\n', 'cluster:\n']), 'cluster', 1, 1, 'cluster has nothing under it — add its fields below it, indented'],
    [
      'no nodes',
      edit(
        ['nodes:\n', 'nodes: []\n'],
        ['  - name: pi-1\n    host: 192.168.1.101\n    role: server\n  - name: pi-2\n    host: 192.168.1.102\n    role: agent\n', ''],
      ),
      'nodes',
      7,
      8,
      'nodes needs at least one node',
    ],
    [
      'node name not a DNS label',
      edit(['name: pi-1', 'name: Pi_1']),
      'nodes[0].name',
      8,
      11,
      'name must be lowercase letters, digits and "-", starting and ending with a letter or digit',
    ],
    ['quoted number', edit(['  user: pi', '  user: pi\n  port: "22"']), 'ssh.port', 7, 9, 'port must be a number (got text) — write the number without quotes'],
    ['port out of range', edit(['  user: pi', '  user: pi\n  port: 70000']), 'ssh.port', 7, 9, 'port must be at most 65535'],
    [
      'not a whole number',
      edit(['  kernel4k: true', '  kernel4k: true\n  rebootTimeoutSeconds: 90.5']),
      'pi.rebootTimeoutSeconds',
      26,
      25,
      'rebootTimeoutSeconds must be a whole number',
    ],
    [
      'below the minimum',
      edit(['  kernel4k: true', '  kernel4k: true\n  rebootTimeoutSeconds: 5']),
      'pi.rebootTimeoutSeconds',
      26,
      25,
      'rebootTimeoutSeconds must be at least 10',
    ],
    [
      'yes is not a boolean',
      edit(['  revue: true', '  revue: yes']),
      'workloads.revue',
      27,
      10,
      'revue must be true or false (got text) — write true or false, without quotes',
    ],
    [
      'version that YAML reads as a number',
      edit(['  revue: true', '  revue: true\n  revueVersion: 3.1']),
      'workloads.revueVersion',
      28,
      17,
      'revueVersion must be text (got a number) — put the value in quotes',
    ],
    [
      'list where a mapping goes',
      edit(['ssh:\n  user: pi', 'ssh:\n  - pi']),
      'ssh',
      6,
      3,
      'ssh must be a mapping (got a list) — write "key: value" lines indented under it',
    ],
    [
      'mapping where a list goes',
      edit(['    kafka: [192.168.1.202, 192.168.1.203]', '    kafka: 192.168.1.202']),
      'network.addresses.kafka',
      23,
      12,
      'kafka must be a list (got text) — write a list, one "- item" per line',
    ],
    [
      'more than two Kafka addresses',
      edit(['192.168.1.203]', '192.168.1.203, 192.168.1.204]']),
      'network.addresses.kafka',
      23,
      12,
      'kafka takes at most 2 entries — remove the extra ones',
    ],
    [
      'bad taint',
      edit(['    role: agent', '    role: agent\n    taints: [dedicated=db]']),
      'nodes[1].taints[0]',
      14,
      14,
      'taints[0] "dedicated=db" must end in :NoSchedule, :PreferNoSchedule or :NoExecute, e.g. dedicated=control-plane:NoSchedule',
    ],
    [
      'install script URL not a URL',
      edit(['  version: v1.33.5+k3s1', '  version: v1.33.5+k3s1\n  installScriptUrl: get.k3s.io']),
      'k3s.installScriptUrl',
      5,
      21,
      'installScriptUrl "get.k3s.io" is not a URL — e.g. https://get.k3s.io',
    ],
    [
      'env field holding something that is not a name',
      edit(['  user: pi', '  user: pi\n  sudoPasswordEnv: "hunter2!"']),
      'ssh.sudoPasswordEnv',
      7,
      20,
      'sudoPasswordEnv must be the NAME of an environment variable in capitals, digits and _ (e.g. PI_PASSWORD), never the secret itself',
    ],
    [
      'env field holding an obvious literal',
      edit(['  user: pi', '  user: pi\n  passwordEnv: raspberry']),
      'ssh.passwordEnv',
      7,
      16,
      'passwordEnv must be the NAME of an environment variable in capitals, such as PI_PASSWORD, never the secret itself — run export PI_PASSWORD=… before revue-pi and write passwordEnv: PI_PASSWORD',
    ],
    [
      'per-node env field holding a literal',
      edit(['    role: agent', '    role: agent\n    ssh:\n      sudoPasswordEnv: s3cret']),
      'nodes[1].ssh.sudoPasswordEnv',
      15,
      24,
      'sudoPasswordEnv must be the NAME of an environment variable in capitals, such as PI_SUDO_PASSWORD, never the secret itself — run export PI_SUDO_PASSWORD=… before revue-pi and write sudoPasswordEnv: PI_SUDO_PASSWORD',
    ],
    [
      'duplicate node name',
      edit(['name: pi-2', 'name: pi-1']),
      'nodes[1].name',
      11,
      11,
      'node name "pi-1" is already used by nodes[0] — give every node its own name',
    ],
    [
      'duplicate host',
      edit(['host: 192.168.1.102', 'host: 192.168.1.101']),
      'nodes[1].host',
      12,
      11,
      'host 192.168.1.101 is already used by node pi-1 (nodes[0]) — each node needs its own address',
    ],
    [
      'duplicate host name, other case',
      edit(['host: 192.168.1.101', 'host: pi.lan'], ['host: 192.168.1.102', 'host: PI.lan']),
      'nodes[1].host',
      12,
      11,
      'host PI.lan is already used by node pi-1 (nodes[0]) — each node needs its own address',
    ],
    [
      'no server',
      edit(['role: server', 'role: agent']),
      'nodes',
      8,
      3,
      'no node has role: server — make at least one node (usually the first) role: server; it runs the K3s control plane',
    ],
    [
      'K3s version without the k3s suffix',
      edit(['v1.33.5+k3s1', '1.33.5']),
      'k3s.version',
      4,
      12,
      'k3s.version must look like vX.Y.Z+k3sN — did you mean "v1.33.5+k3s1"?',
    ],
    [
      'K3s version that is no version',
      edit(['v1.33.5+k3s1', 'newest']),
      'k3s.version',
      4,
      12,
      'k3s.version must look like vX.Y.Z+k3sN — copy a release name from https://github.com/k3s-io/k3s/releases, e.g. v1.33.5+k3s1',
    ],
    [
      'version and channel both',
      edit(['  version: v1.33.5+k3s1', '  version: v1.33.5+k3s1\n  channel: stable']),
      'k3s.channel',
      5,
      12,
      'set k3s.version or k3s.channel, not both — the installer ignores the channel when a version is given; remove one',
    ],
    [
      'unknown channel',
      edit(['  version: v1.33.5+k3s1', '  channel: nightly']),
      'k3s.channel',
      4,
      12,
      'k3s.channel must be stable, latest, testing or a minor version such as v1.33',
    ],
    [
      'pool range backwards',
      edit(['192.168.1.200-192.168.1.220', '192.168.1.220-192.168.1.200']),
      'network.metallb.pools[0].addresses[0]',
      19,
      13,
      '"192.168.1.220-192.168.1.200" starts after it ends — write the lower address first: 192.168.1.200-192.168.1.220',
    ],
    [
      'pool CIDR with host bits',
      edit(['192.168.1.200-192.168.1.220', '192.168.1.241/28']),
      'network.metallb.pools[0].addresses[0]',
      19,
      13,
      '"192.168.1.241/28" has host bits set — did you mean 192.168.1.240/28?',
    ],
    [
      'pool CIDR prefix too long',
      edit(['192.168.1.200-192.168.1.220', '192.168.1.240/33']),
      'network.metallb.pools[0].addresses[0]',
      19,
      13,
      '"192.168.1.240/33" has an invalid prefix length — use /0 to /32, e.g. 192.168.1.240/28',
    ],
    [
      'pool of one bare address',
      edit(['192.168.1.200-192.168.1.220', '192.168.1.200'], ['    mediaServer: 192.168.1.201\n    kafka: [192.168.1.202, 192.168.1.203]\n', '']),
      'network.metallb.pools[0].addresses[0]',
      19,
      13,
      '"192.168.1.200" is a single address; MetalLB takes CIDRs or ranges — write 192.168.1.200/32',
    ],
    [
      'pool that is no address',
      edit(['192.168.1.200-192.168.1.220', 'the-lan']),
      'network.metallb.pools[0].addresses[0]',
      19,
      13,
      '"the-lan" is neither a CIDR (192.168.1.240/28) nor a range (192.168.1.200-192.168.1.220)',
    ],
    [
      'pool range with a bad address',
      edit(['192.168.1.200-192.168.1.220', '192.168.1.200-192.168.1.256']),
      'network.metallb.pools[0].addresses[0]',
      19,
      13,
      '"192.168.1.200-192.168.1.256" is not an IPv4 range — write it like 192.168.1.200-192.168.1.220',
    ],
    [
      'pool holding a node address',
      edit(['192.168.1.200-192.168.1.220', '192.168.1.100-192.168.1.220']),
      'network.metallb.pools[0].addresses[0]',
      19,
      13,
      '192.168.1.100-192.168.1.220 contains 192.168.1.101 and 192.168.1.102, the addresses of nodes pi-1 and pi-2 — MetalLB would hand them to services; keep node addresses out of the pool',
    ],
    [
      'pools overlapping each other',
      edit(['          - 192.168.1.200-192.168.1.220', '          - 192.168.1.200-192.168.1.220\n      - name: more\n        addresses: [192.168.1.208/29]']),
      'network.metallb.pools[1].addresses[0]',
      21,
      21,
      '192.168.1.208/29 overlaps 192.168.1.200-192.168.1.220 (pools[0].addresses[0]) — an address may belong to one pool only; shrink or remove one of them',
    ],
    [
      'two pools with one name',
      edit(['          - 192.168.1.200-192.168.1.220', '          - 192.168.1.200-192.168.1.220\n      - name: lan\n        addresses: [192.168.1.232/29]']),
      'network.metallb.pools[1].name',
      20,
      15,
      'pool name "lan" is already used by pools[0] — give every pool its own name',
    ],
    [
      'fixed address outside every pool',
      edit(['ingress: 192.168.1.200', 'ingress: 192.168.1.50']),
      'network.addresses.ingress',
      21,
      14,
      '192.168.1.50 is not inside any MetalLB pool — pick an address in 192.168.1.200-192.168.1.220 or widen a pool',
    ],
    [
      'fixed address that is no IPv4 address',
      edit(['ingress: 192.168.1.200', 'ingress: ingress.lan']),
      'network.addresses.ingress',
      21,
      14,
      'network.addresses.ingress must be an IPv4 address such as 192.168.1.200 (got "ingress.lan")',
    ],
    [
      'two fixed addresses the same',
      edit(['mediaServer: 192.168.1.201', 'mediaServer: 192.168.1.200']),
      'network.addresses.mediaServer',
      22,
      18,
      '192.168.1.200 is already used by network.addresses.ingress — every fixed address must be different',
    ],
    [
      'Kafka address outside the pools',
      edit(['192.168.1.203]', '192.168.1.230]']),
      'network.addresses.kafka[1]',
      23,
      28,
      '192.168.1.230 is not inside any MetalLB pool — pick an address in 192.168.1.200-192.168.1.220 or widen a pool',
    ],
    [
      'workloads need addresses but there is no pool',
      edit([
        'network:\n  metallb:\n    pools:\n      - name: lan\n        addresses:\n          - 192.168.1.200-192.168.1.220\n  addresses:\n    ingress: 192.168.1.200\n    mediaServer: 192.168.1.201\n    kafka: [192.168.1.202, 192.168.1.203]\n',
        '',
      ]),
      'network.metallb.pools',
      1,
      1,
      "no MetalLB address pool — Revue and monitoring need LoadBalancer addresses; add a pool of free LAN addresses outside your router's DHCP range, e.g. 192.168.1.200-192.168.1.220",
    ],
    [
      'a node-role label',
      edit(['    role: agent', '    role: agent\n    labels:\n      node-role.kubernetes.io/worker: "true"']),
      'nodes[1].labels["node-role.kubernetes.io/worker"]',
      15,
      7,
      'label node-role.kubernetes.io/worker cannot be set at registration — the kubelet refuses to start with it; use your own prefix, e.g. revue-pi/role',
    ],
    [
      'image override for an image the workloads do not use',
      edit(['  revue: true', '  revue: true\n  images:\n    mongodb: mongo:7.0.15']),
      'workloads.images.mongodb',
      29,
      5,
      'unknown image "mongodb" — did you mean "mongo"?',
    ],
    [
      'image override without a fixed tag',
      edit(['  revue: true', '  revue: true\n  images:\n    mongo: mongo:latest']),
      'workloads.images.mongo',
      29,
      12,
      'mongo must name a fixed tag or digest, not latest or none — write it as repository:tag, e.g. mongo:1.2.3',
    ],
    [
      'a label value Kubernetes refuses',
      edit(['    role: agent', '    role: agent\n    labels:\n      zone: the barn']),
      'nodes[1].labels.zone',
      15,
      13,
      'label zone has value "the barn", which Kubernetes refuses — use up to 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit',
    ],
  ])('%s', (_case, text, path, line, column, message) => {
    const issues = issuesOf(text);
    expect(issues).toEqual([{ path, line, column, message, severity: 'error' }]);
  });

  it.each<[string, string, string, string | RegExp]>([
    ['a tab used for indentation', edit(['  name: lab', '\tname: lab']), '2:1', /^YAML syntax error: .*tab.* — indent with spaces, not tabs$/],
    [
      'a key written twice',
      edit(['  user: pi', '  user: pi\n  user: admin']),
      '7:3',
      /^YAML syntax error: duplicated mapping key — a key may appear only once in a mapping; remove or rename the second one$/,
    ],
    [
      'a misaligned key',
      edit(['  name: lab', '  name: lab\n name: x']),
      '3:2',
      'YAML syntax error: bad indentation of a mapping entry — line this entry up with the entries around it, using spaces',
    ],
    ['an unclosed bracket', edit(['192.168.1.203]', '192.168.1.203']), '24:1', /^YAML syntax error: .* — close every quote and bracket that is opened$/],
    [
      'two documents',
      `${BASE}---\ncluster:\n  name: other\n`,
      '28:1',
      /^YAML syntax error: .*single document.* — keep one document in the file \(no second "---"\)$/,
    ],
  ])('YAML syntax error: %s', (_case, text, where, message) => {
    const issues = issuesOf(text);
    expect(issues).toHaveLength(1);
    const [issue] = issues as [InventoryIssue];
    expect(`${issue.line}:${issue.column}`).toBe(where);
    expect(issue.path).toBe('');
    expect(issue.message).toMatch(message);
  });

  it('refuses an empty file and a file that is not a mapping', () => {
    expect(issuesOf('')).toEqual([
      { path: '', line: 1, column: 1, message: 'the inventory is empty — start from a copy of inventory.example.yaml', severity: 'error' },
    ]);
    expect(issuesOf('# only a comment\n')[0]?.message).toBe('the inventory is empty — start from a copy of inventory.example.yaml');
    expect(issuesOf('# nodes\n- pi-1\n- pi-2\n')).toEqual([
      {
        path: '',
        line: 2,
        column: 1,
        message: 'the inventory must be a mapping of sections (cluster:, nodes:, …) — start from a copy of inventory.example.yaml',
        severity: 'error',
      },
    ]);
  });

  it('reports every error at once, in file order, in one InventoryError', () => {
    const text = edit(['role: server', 'role: master'], ['name: lab', 'name: LAB'], ['ingress: 192.168.1.200', 'ingres: 192.168.1.200']);
    let caught: unknown;
    try {
      parseInventory(text, 'site/inventory.yaml');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(InventoryError);
    const error = caught as InventoryError;
    expect(error.code).toBe('INVENTORY');
    expect(error.file).toBe('site/inventory.yaml');
    expect(error.issues.map((i) => `${i.line}:${i.column} ${i.path}`)).toEqual(['2:9 cluster.name', '10:11 nodes[0].role', '21:5 network.addresses.ingres']);
    expect(error.message).toBe(
      [
        'The inventory site/inventory.yaml is not valid:',
        '  site/inventory.yaml:2:9 cluster.name: name must be lowercase letters, digits and "-", starting and ending with a letter or digit',
        '  site/inventory.yaml:10:11 nodes[0].role: role must be "server" or "agent" (got "master")',
        '  site/inventory.yaml:21:5 network.addresses.ingres: unknown field "ingres" — did you mean "ingress"?',
      ].join('\n'),
    );
  });

  it('still applies the rules when the faulty fields are optional, except next to them', () => {
    const text = edit(
      ['  user: pi', '  user: pi\n  port: "22"\n  colour: blue'],
      ['name: pi-2', 'name: pi-1'],
      ['    role: agent', '    role: agent\n    ssh:\n      passwordEnv: raspberry'],
    );
    expect(issuesOf(text).map((i) => `${i.line}:${i.column} ${i.path}`)).toEqual([
      '7:9 ssh.port',
      '8:3 ssh.colour',
      '13:11 nodes[1].name',
      '17:20 nodes[1].ssh.passwordEnv',
    ]);
    // Next to a faulty field, nothing more is claimed: a literal beside the bad port waits for the next run.
    const beside = edit(['  user: pi', '  user: pi\n  port: "22"\n  passwordEnv: raspberry']);
    expect(issuesOf(beside).map((i) => i.path)).toEqual(['ssh.port']);
    // enabled: "no" may have meant false, so "no pool" next to it is not claimed.
    const noPools = edit([
      '    pools:\n      - name: lan\n        addresses:\n          - 192.168.1.200-192.168.1.220\n  addresses:\n    ingress: 192.168.1.200\n    mediaServer: 192.168.1.201\n    kafka: [192.168.1.202, 192.168.1.203]\n',
      '    enabled: "no"\n',
    ]);
    expect(issuesOf(noPools).map((i) => `${i.line}:${i.column} ${i.path}`)).toEqual(['16:14 network.metallb.enabled']);
    // A required field at fault leaves nothing to check the rules on.
    expect(issuesOf(edit(['role: server', 'role: master'], ['name: pi-2', 'name: pi-1'])).map((i) => i.path)).toEqual(['nodes[0].role']);
  });

  it('never repeats a secret written where a variable name goes', () => {
    for (const text of [
      edit(['  user: pi', '  user: pi\n  passwordEnv: Tr0ub4dor']),
      edit(['  user: pi', '  user: pi\n  passwordEnv: "Tr0ub4dor&3"']),
      edit(['  user: pi', '  user: pi\n  passwordEnv: 12345678']),
      edit(['  user: pi', '  user: pi\n  password: Tr0ub4dor']),
      edit(['    role: agent', '    role: agent\n    ssh:\n      keyPassphraseEnv: [Tr0ub4dor]']),
    ]) {
      const issues = issuesOf(text);
      expect(issues).toHaveLength(1);
      expect(formatIssue('inventory.yaml', issues[0] as InventoryIssue)).not.toMatch(/Tr0ub4dor|12345678/);
    }
  });

  it('accepts variable names in capitals', () => {
    const text = edit(['  user: pi', '  user: pi\n  passwordEnv: PI_PASSWORD\n  sudoPasswordEnv: _SUDO2\n  keyPassphraseEnv: KEY_PASS']);
    expect(parseInventory(text, 'inventory.yaml').inventory.ssh).toMatchObject({
      passwordEnv: 'PI_PASSWORD',
      sudoPasswordEnv: '_SUDO2',
      keyPassphraseEnv: 'KEY_PASS',
    });
  });

  it('strips a byte-order mark and handles CRLF line ends with the same positions', () => {
    const text = '\uFEFF' + edit(['role: server', 'role: master']).replace(/\n/g, '\r\n');
    expect(issuesOf(text)).toEqual([
      { path: 'nodes[0].role', line: 10, column: 11, message: 'role must be "server" or "agent" (got "master")', severity: 'error' },
    ]);
  });

  it('points into flow mappings and YAML anchors', () => {
    const text = edit(['ssh:\n  user: pi', 'ssh: &defaults {user: pi, port: 0}'], ['    role: agent', '    role: agent\n    ssh: *defaults']);
    // The alias repeats the mapping, so the same bad port is reported for the node too, at the alias.
    expect(issuesOf(text)).toEqual([
      { path: 'ssh.port', line: 5, column: 33, message: 'port must be at least 1', severity: 'error' },
      { path: 'nodes[1].ssh.port', line: 13, column: 10, message: 'port must be at least 1', severity: 'error' },
    ]);
  });

  describe('warnings', () => {
    it('warns about an even number of servers (etcd quorum) and still returns the inventory', () => {
      const { inventory, warnings } = parseInventory(edit(['role: agent', 'role: server']), 'inventory.yaml');
      expect(inventory.nodes.every((n) => n.role === 'server')).toBe(true);
      expect(warnings).toEqual([
        {
          path: 'nodes',
          line: 8,
          column: 3,
          message: '2 nodes have role: server — etcd needs a majority, so 2 servers survive no more failures than 1; use 1, 3 or 5 servers',
          severity: 'warning',
        },
      ]);
    });

    it('does not warn about 3 servers', () => {
      const text = edit(['role: agent', 'role: server\n  - name: pi-3\n    host: 192.168.1.103\n    role: server']);
      expect(parseInventory(text, 'inventory.yaml').warnings).toEqual([]);
    });

    it('warns when MetalLB is off but pools are given', () => {
      const text = edit(
        ['  metallb:\n', '  metallb:\n    enabled: false\n'],
        ['    ingress: 192.168.1.200\n    mediaServer: 192.168.1.201\n    kafka: [192.168.1.202, 192.168.1.203]\n', '    ingress: 192.168.1.200\n'],
      );
      expect(parseInventory(text, 'inventory.yaml').warnings).toEqual([
        {
          path: 'network.metallb.enabled',
          line: 16,
          column: 14,
          message: 'MetalLB is disabled, so its address pools are ignored — set network.metallb.enabled: true or remove the pools',
          severity: 'warning',
        },
      ]);
    });

    it('warns about a Wi-Fi node without the promiscuous fix, and not with it', () => {
      const wifi = edit(['    role: agent', '    role: agent\n    wifiInterface: wlan0']);
      expect(parseInventory(wifi, 'inventory.yaml').warnings).toEqual([
        {
          path: 'nodes[1].wifiInterface',
          line: 14,
          column: 20,
          message:
            "node pi-2 reaches the LAN over Wi-Fi, where MetalLB's addresses do not answer ARP unless the interface is promiscuous — set pi.wifiPromiscuous: true, or use Ethernet",
          severity: 'warning',
        },
      ]);
      const fixed = edit(['    role: agent', '    role: agent\n    wifiInterface: wlan0'], ['  kernel4k: true', '  kernel4k: true\n  wifiPromiscuous: true']);
      expect(parseInventory(fixed, 'inventory.yaml').warnings).toEqual([]);
    });

    it('does not need pools when neither Revue nor monitoring is deployed', () => {
      const text = edit(
        [
          'network:\n  metallb:\n    pools:\n      - name: lan\n        addresses:\n          - 192.168.1.200-192.168.1.220\n  addresses:\n    ingress: 192.168.1.200\n    mediaServer: 192.168.1.201\n    kafka: [192.168.1.202, 192.168.1.203]\n',
          '',
        ],
        ['  revue: true', '  revue: false\n  monitoring: false'],
      );
      expect(parseInventory(text, 'inventory.yaml').warnings).toEqual([]);
    });
  });

  describe('local paths', () => {
    it('expands ~ and resolves relative paths from the inventory folder', () => {
      const text = edit(
        [
          '  user: pi',
          '  user: pi\n  keyPath: ~/.ssh/id_ed25519\n  knownHostsFile: state/known_hosts\n  jump:\n    host: bastion.lan\n    keyPath: ~/.ssh/bastion',
        ],
        ['    role: agent', '    role: agent\n    ssh:\n      keyPath: /etc/keys/pi2'],
        [
          '  version: v1.33.5+k3s1',
          '  version: v1.33.5+k3s1\n  airgap:\n    binary: airgap/k3s-arm64\n    images: ../images.tar.zst\n    installScript: /srv/install.sh',
        ],
      );
      const { inventory } = parseInventory(text, '/site/lab/inventory.yaml', { homeDir: '/home/op' });
      expect(inventory.ssh.keyPath).toBe('/home/op/.ssh/id_ed25519');
      expect(inventory.ssh.knownHostsFile).toBe('/site/lab/state/known_hosts');
      expect(inventory.ssh.jump).toEqual({ host: 'bastion.lan', keyPath: '/home/op/.ssh/bastion' });
      expect(inventory.nodes[1]?.ssh?.keyPath).toBe('/etc/keys/pi2');
      expect(inventory.nodes[0]?.ssh).toBeUndefined();
      expect(inventory.k3s.airgap).toEqual({ binary: '/site/lab/airgap/k3s-arm64', images: '/site/images.tar.zst', installScript: '/srv/install.sh' });
    });
  });
});
