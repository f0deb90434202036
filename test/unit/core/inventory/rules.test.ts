import { describe, expect, it } from 'vitest';
import { checkInventory, inventoryRules, type InventoryRule, type RuleContext } from '../../../../core/inventory/rules.js';
import { airgapFilesExist, k3sVersionFormat } from '../../../../core/inventory/rules/k3s.js';
import {
  fixedAddressesInPools,
  poolsDoNotOverlap,
  poolsIgnoredWhenDisabled,
  poolsParse,
  poolsWhenNeeded,
  promiscuousNeedsInterface,
  wifiNeedsPromiscuous,
} from '../../../../core/inventory/rules/metallb.js';
import {
  atLeastOneServer,
  labelsAreValid,
  noNodeRoleLabels,
  oddServerCount,
  uniqueNodeHosts,
  uniqueNodeNames,
} from '../../../../core/inventory/rules/nodes.js';
import { envFieldsHoldNames, envVariablesSet, keyFilesExist } from '../../../../core/inventory/rules/ssh.js';
import { domainWithoutLocalhost, imageOverridesKnown } from '../../../../core/inventory/rules/workloads.js';
import { inventorySchema, type Inventory } from '../../../../core/inventory/schema.js';

/** A valid inventory with `change` applied to its raw (pre-default) form. */
function inventory(change: (raw: Record<string, any>) => void = () => {}): Inventory {
  const raw: Record<string, any> = {
    cluster: { name: 'lab' },
    nodes: [
      { name: 'pi-1', host: '10.0.0.11', role: 'server' },
      { name: 'pi-2', host: '10.0.0.12', role: 'agent' },
      { name: 'pi-3', host: 'pi-3.lan', role: 'agent' },
    ],
    network: {
      metallb: { pools: [{ name: 'lan', addresses: ['10.0.0.240/28'] }] },
      addresses: { ingress: '10.0.0.240', mediaServer: '10.0.0.241', kafka: ['10.0.0.242', '10.0.0.243'] },
    },
  };
  change(raw);
  return inventorySchema.parse(raw);
}

const ctx: RuleContext = { baseDir: '/inv' };
const pathsOf = (rule: InventoryRule, inv: Inventory, c: RuleContext = ctx) => rule(inv, c).map((i) => `${i.severity} ${i.path}`);

describe('inventory rules', () => {
  it('find nothing wrong with a valid inventory', () => {
    expect(checkInventory(inventory(), { baseDir: '/inv', fileExists: () => true })).toEqual([]);
  });

  it('are all run by checkInventory', () => {
    expect(Object.values(inventoryRules)).toEqual([
      uniqueNodeNames,
      uniqueNodeHosts,
      atLeastOneServer,
      oddServerCount,
      k3sVersionFormat,
      poolsParse,
      poolsDoNotOverlap,
      fixedAddressesInPools,
      poolsWhenNeeded,
      poolsIgnoredWhenDisabled,
      airgapFilesExist,
      keyFilesExist,
      envFieldsHoldNames,
      envVariablesSet,
      noNodeRoleLabels,
      labelsAreValid,
      wifiNeedsPromiscuous,
      promiscuousNeedsInterface,
      imageOverridesKnown,
      domainWithoutLocalhost,
    ]);
  });

  it('uniqueNodeNames flags every repeat, not the first use', () => {
    const inv = inventory((r) => {
      r.nodes[1].name = 'pi-1';
      r.nodes[2].name = 'pi-1';
    });
    expect(pathsOf(uniqueNodeNames, inv)).toEqual(['error nodes[1].name', 'error nodes[2].name']);
  });

  it('uniqueNodeHosts compares host names without case', () => {
    expect(
      pathsOf(
        uniqueNodeHosts,
        inventory((r) => (r.nodes[1].host = 'PI-3.lan')),
      ),
    ).toEqual(['error nodes[2].host']);
  });

  it.each<[string[], string[]]>([
    [['server'], []],
    [['server', 'agent'], []],
    [['server', 'server'], ['warning nodes']],
    [['server', 'server', 'server'], []],
    [['server', 'server', 'server', 'server', 'agent'], ['warning nodes']],
    [['server', 'server', 'server', 'server', 'server'], []],
    [['agent', 'agent'], []], // atLeastOneServer reports that one
  ])('oddServerCount for roles %j', (roles, expected) => {
    const inv = inventory((r) => {
      r.nodes = roles.map((role, i) => ({ name: `pi-${i + 1}`, host: `10.0.0.${i + 11}`, role }));
    });
    expect(pathsOf(oddServerCount, inv)).toEqual(expected);
  });

  it('atLeastOneServer', () => {
    expect(
      pathsOf(
        atLeastOneServer,
        inventory((r) => (r.nodes[0].role = 'agent')),
      ),
    ).toEqual(['error nodes']);
  });

  it.each<[Record<string, string>, string[]]>([
    [{ version: 'v1.33.5+k3s1' }, []],
    [{ version: 'v1.30.14+k3s12' }, []],
    [{ channel: 'stable' }, []],
    [{ channel: 'v1.33' }, []],
    [{ version: 'v1.33.5' }, ['error k3s.version']],
    [{ version: 'v1.33.5-k3s1' }, ['error k3s.version']],
    [{ version: 'v1.33+k3s1' }, ['error k3s.version']],
    [{ channel: 'v1.33.5' }, ['error k3s.channel']],
    [{ version: 'v1.33.5+k3s1', channel: 'stable' }, ['error k3s.channel']],
  ])('k3sVersionFormat %j', (k3s, expected) => {
    expect(
      pathsOf(
        k3sVersionFormat,
        inventory((r) => (r.k3s = k3s)),
      ),
    ).toEqual(expected);
  });

  it('poolsParse reports each bad entry and repeated pool names', () => {
    const inv = inventory((r) => {
      r.network.metallb.pools = [
        { name: 'a', addresses: ['10.0.0.240/28', '10.0.1.0/23'] },
        { name: 'a', addresses: ['10.0.2.9-10.0.2.1'] },
      ];
    });
    expect(pathsOf(poolsParse, inv)).toEqual([
      'error network.metallb.pools[0].addresses[1]',
      'error network.metallb.pools[1].name',
      'error network.metallb.pools[1].addresses[0]',
    ]);
  });

  it('poolsDoNotOverlap checks entries across and within pools, and node addresses, skipping host names', () => {
    const inv = inventory((r) => {
      r.network.metallb.pools = [
        { name: 'a', addresses: ['10.0.0.240/28', '10.0.0.250-10.0.0.252'] },
        { name: 'b', addresses: ['10.0.0.10-10.0.0.11', '10.0.0.200/29'] },
      ];
    });
    expect(pathsOf(poolsDoNotOverlap, inv)).toEqual(['error network.metallb.pools[0].addresses[1]', 'error network.metallb.pools[1].addresses[0]']);
    expect(poolsDoNotOverlap(inv, ctx).map((i) => i.message)).toEqual([
      '10.0.0.250-10.0.0.252 overlaps 10.0.0.240/28 (pools[0].addresses[0]) — an address may belong to one pool only; shrink or remove one of them',
      '10.0.0.10-10.0.0.11 contains 10.0.0.11, the address of node pi-1 — MetalLB would hand them to services; keep node addresses out of the pool',
    ]);
  });

  it('fixedAddressesInPools wants IPv4 addresses inside a pool, each used once', () => {
    const inv = inventory((r) => {
      r.network.addresses = { ingress: '10.0.0.240', mediaServer: '10.0.0.240', kafka: ['10.0.1.1', 'kafka.lan'] };
    });
    expect(pathsOf(fixedAddressesInPools, inv)).toEqual([
      'error network.addresses.mediaServer',
      'error network.addresses.kafka[0]',
      'error network.addresses.kafka[1]',
    ]);
    const noPools = inventory((r) => {
      r.network.metallb.pools = [];
      r.network.addresses = { ingress: '10.0.0.240' };
    });
    expect(fixedAddressesInPools(noPools, ctx).map((i) => i.message)).toEqual([
      '10.0.0.240 is not inside any MetalLB pool — add a pool under network.metallb.pools that contains it',
    ]);
  });

  it.each<[boolean, boolean, boolean, number, string[]]>([
    [true, true, true, 0, ['error network.metallb.pools']],
    [true, false, true, 0, ['error network.metallb.pools']],
    [true, true, false, 0, ['error network.metallb.pools']],
    [true, false, false, 0, []],
    [false, true, true, 0, []],
    [true, true, true, 1, []],
  ])('poolsWhenNeeded: metallb %s, revue %s, monitoring %s, %d pools', (enabled, revue, monitoring, pools, expected) => {
    const inv = inventory((r) => {
      r.network = { metallb: { enabled, pools: pools ? [{ name: 'lan', addresses: ['10.0.0.240/28'] }] : [] } };
      r.workloads = { revue, monitoring };
    });
    expect(pathsOf(poolsWhenNeeded, inv)).toEqual(expected);
  });

  it('poolsIgnoredWhenDisabled', () => {
    expect(
      pathsOf(
        poolsIgnoredWhenDisabled,
        inventory((r) => (r.network.metallb.enabled = false)),
      ),
    ).toEqual(['warning network.metallb.enabled']);
    expect(pathsOf(poolsIgnoredWhenDisabled, inventory())).toEqual([]);
  });

  it('airgapFilesExist resolves relative paths from the inventory folder and only checks with fileExists', () => {
    const inv = inventory((r) => {
      r.k3s = { airgap: { binary: 'k3s', images: '/abs/images.tar.zst', installScript: '../install.sh' } };
    });
    const asked: string[] = [];
    const issues = airgapFilesExist(inv, { baseDir: '/inv/site', fileExists: (f) => (asked.push(f), f === '/inv/site/k3s') });
    expect(asked).toEqual(['/inv/site/k3s', '/abs/images.tar.zst', '/inv/install.sh']);
    expect(issues.map((i) => i.path)).toEqual(['k3s.airgap.images', 'k3s.airgap.installScript']);
    expect(airgapFilesExist(inv, { baseDir: '/inv' })).toEqual([]);
  });

  it('keyFilesExist checks the default, jump and per-node keys', () => {
    const inv = inventory((r) => {
      r.ssh = { keyPath: '/k/default', jump: { host: 'b', keyPath: '/k/jump' } };
      r.nodes[2].ssh = { keyPath: '/k/pi3' };
    });
    expect(pathsOf(keyFilesExist, inv, { baseDir: '/inv', fileExists: () => false })).toEqual([
      'error ssh.keyPath',
      'error ssh.jump.keyPath',
      'error nodes[2].ssh.keyPath',
    ]);
    expect(pathsOf(keyFilesExist, inv, { baseDir: '/inv', fileExists: () => true })).toEqual([]);
  });

  it('keyFilesExist: a folder or an unreadable file is named as such, and so is the known_hosts file', () => {
    const inv = inventory((r) => {
      r.ssh = { keyPath: '/k/dir', knownHostsFile: '/k/kh-dir', jump: { host: 'b', keyPath: '/k/locked' } };
    });
    const states: Record<string, 'file' | 'missing' | 'folder' | 'unreadable'> = { '/k/dir': 'folder', '/k/kh-dir': 'folder', '/k/locked': 'unreadable' };
    const issues = keyFilesExist(inv, { baseDir: '/inv', fileState: (f) => states[f] ?? 'file' });
    expect(issues.map((i) => [i.path, i.message])).toEqual([
      ['ssh.keyPath', '/k/dir is a folder — point ssh.keyPath at the private key file inside it, e.g. /k/dir/id_ed25519'],
      ['ssh.jump.keyPath', 'SSH key /k/locked cannot be read (permission denied) — it must belong to you (chmod 600 is right for a key)'],
      ['ssh.knownHostsFile', '/k/kh-dir is a folder — point ssh.knownHostsFile at a file, e.g. /k/kh-dir/known_hosts (created on first use)'],
    ]);
    // A known_hosts file that does not exist yet is fine: it is created on first trust.
    expect(
      keyFilesExist(
        inventory((r) => (r.ssh = { knownHostsFile: '/k/new' })),
        { baseDir: '/inv', fileState: () => 'missing' },
      ),
    ).toEqual([]);
  });

  it('airgapFilesExist names a folder and an unreadable file', () => {
    const inv = inventory((r) => {
      r.k3s = { airgap: { binary: '/a/k3s', images: '/a/images.tar.zst', installScript: '/a/install.sh' } };
    });
    const states: Record<string, 'folder' | 'unreadable'> = { '/a/k3s': 'folder', '/a/install.sh': 'unreadable' };
    expect(airgapFilesExist(inv, { baseDir: '/inv', fileState: (f) => states[f] ?? 'file' }).map((i) => [i.path, i.message])).toEqual([
      ['k3s.airgap.binary', '/a/k3s is a folder — point k3s.airgap.binary at the k3s-arm64 binary of the K3s release itself'],
      ['k3s.airgap.installScript', '/a/install.sh cannot be read (permission denied) — check its owner and mode'],
    ]);
  });

  it('envVariablesSet: every *Env field names a variable that is set (and not empty), when the environment is given', () => {
    const inv = inventory((r) => {
      r.ssh = { passwordEnv: 'PI_PASSWORD', sudoPasswordEnv: 'PI_SUDO' };
      r.nodes[1].ssh = { keyPassphraseEnv: 'PI2_PASSPHRASE' };
    });
    const issues = envVariablesSet(inv, { baseDir: '/inv', env: { PI_PASSWORD: 'x', PI_SUDO: '' } });
    expect(issues.map((i) => [i.severity, i.path, i.message])).toEqual([
      [
        'error',
        'ssh.sudoPasswordEnv',
        'sudoPasswordEnv names the environment variable PI_SUDO, which is empty — run export PI_SUDO=… in this shell before revue-pi, or remove sudoPasswordEnv',
      ],
      [
        'error',
        'nodes[1].ssh.keyPassphraseEnv',
        'keyPassphraseEnv names the environment variable PI2_PASSPHRASE, which is not set — run export PI2_PASSPHRASE=… in this shell before revue-pi, or remove keyPassphraseEnv',
      ],
    ]);
    expect(envVariablesSet(inv, { baseDir: '/inv', env: { PI_PASSWORD: 'x', PI_SUDO: 'y', PI2_PASSPHRASE: 'z' } })).toEqual([]);
    // Without the environment (render, plan --offline) nothing is asked of it.
    expect(envVariablesSet(inv, { baseDir: '/inv' })).toEqual([]);
  });

  it.each<[string, boolean]>([
    ['PI_PASSWORD', true],
    ['_X', true],
    ['SUDO2', true],
    ['raspberry', false],
    ['pi_password', false],
    ['Password1', false],
  ])('envFieldsHoldNames: %s is a name: %s', (value, ok) => {
    const inv = inventory((r) => {
      r.ssh = { passwordEnv: value };
      r.nodes[1].ssh = { sudoPasswordEnv: value };
    });
    const issues = envFieldsHoldNames(inv, ctx);
    expect(issues.map((i) => i.path)).toEqual(ok ? [] : ['ssh.passwordEnv', 'nodes[1].ssh.sudoPasswordEnv']);
    for (const issue of issues) expect(issue.message).not.toContain(value);
  });

  it('noNodeRoleLabels points at the label key', () => {
    const inv = inventory((r) => {
      r.nodes[1].labels = { 'node-role.kubernetes.io/worker': 'true', 'revue-pi/role': 'worker' };
    });
    expect(noNodeRoleLabels(inv, ctx)).toEqual([
      expect.objectContaining({ path: 'nodes[1].labels["node-role.kubernetes.io/worker"]', at: 'key', severity: 'error' }),
    ]);
  });

  it('wifiNeedsPromiscuous only with MetalLB on and the fix off', () => {
    const wifi = (r: Record<string, any>) => (r.nodes[2].wifiInterface = 'wlan0');
    expect(pathsOf(wifiNeedsPromiscuous, inventory(wifi))).toEqual(['warning nodes[2].wifiInterface']);
    expect(
      pathsOf(
        wifiNeedsPromiscuous,
        inventory((r) => (wifi(r), (r.pi = { wifiPromiscuous: true }))),
      ),
    ).toEqual([]);
    expect(
      pathsOf(
        wifiNeedsPromiscuous,
        inventory((r) => (wifi(r), (r.network.metallb.enabled = false))),
      ),
    ).toEqual([]);
  });

  it('promiscuousNeedsInterface warns when the fix is on but no node is on Wi-Fi', () => {
    const on = (r: Record<string, any>) => (r.pi = { wifiPromiscuous: true });
    expect(pathsOf(promiscuousNeedsInterface, inventory(on))).toEqual(['warning pi.wifiPromiscuous']);
    expect(
      pathsOf(
        promiscuousNeedsInterface,
        inventory((r) => (on(r), (r.nodes[1].wifiInterface = 'wlan0'))),
      ),
    ).toEqual([]);
    expect(pathsOf(promiscuousNeedsInterface, inventory())).toEqual([]);
  });

  it.each<[Record<string, string>, string[]]>([
    [{ zone: 'barn', 'example.com/zone': 'a.b-c_d', 'revue-pi/disk': '', 'a/b': 'x' }, []],
    [{ 'Example.com/zone': 'x' }, ['nodes[0].labels["Example.com/zone"]']],
    [{ 'zone/': 'x' }, ['nodes[0].labels["zone/"]']],
    [{ '-zone': 'x' }, ['nodes[0].labels["-zone"]']],
    [{ ['z'.repeat(64)]: 'x' }, [`nodes[0].labels.${'z'.repeat(64)}`]],
    [{ zone: 'the barn' }, ['nodes[0].labels.zone']],
    [{ zone: 'barn-' }, ['nodes[0].labels.zone']],
  ])('labelsAreValid %j', (labels, expected) => {
    const issues = labelsAreValid(
      inventory((r) => (r.nodes[0].labels = labels)),
      ctx,
    );
    expect(issues.map((i) => i.path)).toEqual(expected);
  });

  it.each<[string, boolean, string[]]>([
    ['revue.lan', true, []],
    ['localhost', true, ['error cluster.domain']],
    ['home.localhost', true, ['error cluster.domain']],
    ['home.localhost', false, []],
  ])('domainWithoutLocalhost: %s with Revue %s (its web UI switches host names on "localhost" in its URL)', (domain, revue, expected) => {
    expect(
      pathsOf(
        domainWithoutLocalhost,
        inventory((r) => ((r.cluster.domain = domain), (r.workloads = { revue }))),
      ),
    ).toEqual(expected);
  });
});
