import { describe, expect, it } from 'vitest';
import { renderK3sConfig, type FirstServerStart } from '../../../cluster/config.js';
import { decideFirstServerStart } from '../../../cluster/first-server.js';
import { freshK3sFacts, type K3sFacts } from '../../../cluster/facts.js';
import { checkClusterNode, describeClusterChange, planCluster, planClusterNode, tokenMatchesServer, versionsBehind } from '../../../cluster/plan.js';
import { sha256Hex, tokenFileContent } from '../../../cluster/token.js';
import type { Inventory, InventoryNode } from '../../../core/inventory/schema.js';
import { haInventory, inventory } from './helpers.js';

const TOKEN = '5ec7e7'.repeat(10) + 'abcd';

/** What the probe reads on a node that `up` converged. */
function converged(inv: Inventory, node: InventoryNode, over: Partial<K3sFacts> = {}): K3sFacts {
  const first = inv.nodes.find((n) => n.role === 'server')!;
  const unit = node.role === 'server' ? 'k3s' : 'k3s-agent';
  return {
    installedVersion: 'v1.36.4+k3s1',
    config: renderK3sConfig(inv, node, { firstServer: first, isFirstServer: node.name === first.name }),
    tokenFileSha256: sha256Hex(tokenFileContent(TOKEN)),
    unit,
    units: [unit],
    active: true,
    nodePassword: true,
    ...over,
  };
}

describe('planClusterNode', () => {
  const inv = inventory();
  const [first, agent] = inv.nodes as [InventoryNode, InventoryNode];
  const ctx = { firstServer: first, token: TOKEN };

  it('fresh first server: token, config, install that starts the cluster', () => {
    expect(planClusterNode(freshK3sFacts(), inv, first, ctx).map(describeClusterChange)).toEqual([
      'write the cluster token file (/etc/rancher/k3s/revue-pi-token)',
      'write /etc/rancher/k3s/config.yaml: node settings from the inventory',
      'install K3s server v1.36.4+k3s1 and start the cluster',
    ]);
  });

  it('fresh agent: install and join the first server', () => {
    const changes = planClusterNode(freshK3sFacts(), inv, agent, ctx);
    expect(changes.map(describeClusterChange)).toEqual([
      'write the cluster token file (/etc/rancher/k3s/revue-pi-token)',
      'write /etc/rancher/k3s/config.yaml: node settings from the inventory',
      'install K3s agent v1.36.4+k3s1 and join https://192.168.1.101:6443',
    ]);
    expect(changes[1]).toMatchObject({ kind: 'write-config', content: renderK3sConfig(inv, agent, { firstServer: first, isFirstServer: false }) });
  });

  it('converged nodes: nothing (the idempotency check)', () => {
    for (const node of inv.nodes) expect(planClusterNode(converged(inv, node), inv, node, ctx)).toEqual([]);
  });

  it('hand-edited config.yaml: rewrite naming the keys, then restart only that node', () => {
    const facts = converged(inv, agent, { config: converged(inv, agent).config!.replace('disk=ssd', 'disk=hdd') + 'kubelet-arg: [max-pods=50]\n' });
    expect(planClusterNode(facts, inv, agent, ctx).map(describeClusterChange)).toEqual([
      'write /etc/rancher/k3s/config.yaml: differs from the inventory in kubelet-arg, node-label',
      'restart k3s-agent: config.yaml changed',
    ]);
  });

  it('a changed label or taint on a registered node: config.yaml rewritten for the next registration, no restart (the API sets them)', () => {
    const facts = converged(inv, agent, { config: converged(inv, agent).config!.replace('disk=ssd', 'disk=hdd').replace('db:NoSchedule', 'db:NoExecute') });
    const changes = planClusterNode(facts, inv, agent, ctx);
    expect(changes.map(describeClusterChange)).toEqual([
      'write /etc/rancher/k3s/config.yaml: differs from the inventory in node-label, node-taint (K3s reads them only when a node registers: set through the API, no restart)',
    ]);
    expect(changes[0]).toMatchObject({ kind: 'write-config', drift: ['node-label', 'node-taint'] });
    // Not registered yet (no node password): the labels reach it at registration, so a restart is what applies them.
    expect(planClusterNode({ ...facts, nodePassword: false }, inv, agent, ctx).map((c) => c.kind)).toEqual(['write-config', 'restart']);
    // Stopped: it is started again, labels or not.
    expect(planClusterNode({ ...facts, active: false }, inv, agent, ctx).map((c) => c.kind)).toEqual(['write-config', 'restart']);
  });

  it('a wrong token on a node: rewrite and restart', () => {
    const facts = converged(inv, agent, { tokenFileSha256: 'b'.repeat(64) });
    expect(planClusterNode(facts, inv, agent, ctx)).toEqual([
      { kind: 'write-token', path: '/etc/rancher/k3s/revue-pi-token', reason: 'the cluster token file differs: rewrite it' },
      { kind: 'restart', unit: 'k3s-agent', reason: 'token changed' },
    ]);
  });

  it('installed but stopped (an earlier run failed): start it again', () => {
    expect(planClusterNode(converged(inv, agent, { active: false }), inv, agent, ctx).map(describeClusterChange)).toEqual([
      'restart k3s-agent: k3s-agent is not running',
    ]);
  });

  it('binary present but unit missing (installer died half way): install again', () => {
    expect(planClusterNode(converged(inv, agent, { unit: undefined, units: [], active: false }), inv, agent, ctx).map(describeClusterChange)).toEqual([
      'install K3s agent v1.36.4+k3s1 and join https://192.168.1.101:6443',
    ]);
  });

  it('a different installed version is not upgraded', () => {
    const facts = converged(inv, agent, { installedVersion: 'v1.31.1+k3s1' });
    expect(planClusterNode(facts, inv, agent, ctx)).toEqual([]);
    expect(checkClusterNode(facts, inv, agent)).toEqual([
      {
        severity: 'warning',
        message:
          "node pi-2 runs K3s v1.31.1+k3s1, not v1.36.4+k3s1 as the inventory asks: left as it is (up does not change a node's K3s version). To upgrade the cluster, run: revue-pi upgrade -i inventory.yaml --to v1.36.4+k3s1",
      },
    ]);
    expect(checkClusterNode(facts, inv, agent, { inventoryPath: 'clusters/home.yaml' })[0]!.message).toContain(
      'run: revue-pi upgrade -i clusters/home.yaml --to v1.36.4+k3s1',
    );
    const newer = converged(inv, agent, { installedVersion: 'v1.37.1+k3s1' });
    expect(checkClusterNode(newer, inv, agent, { inventoryPath: 'home.yaml' })[0]!.message).toBe(
      "node pi-2 runs K3s v1.37.1+k3s1, not v1.36.4+k3s1 as the inventory asks: left as it is (up does not change a node's K3s version). K3s cannot be downgraded: set k3s.version in home.yaml to v1.37.1+k3s1 (or newer, then run revue-pi upgrade -i home.yaml).",
    );
  });

  it('no token yet (plan of a new cluster): token file planned only where none exists', () => {
    expect(planClusterNode(freshK3sFacts(), inv, agent, { firstServer: first, token: undefined })[0]).toMatchObject({ kind: 'write-token' });
    expect(planClusterNode(converged(inv, agent), inv, agent, { firstServer: first, token: undefined })).toEqual([]);
  });

  it('adding servers changes nothing on the first server: it started with cluster-init already', () => {
    const grown = haInventory();
    const s1 = grown.nodes[0]!;
    const single = inventory({}, [grown.nodes[0], grown.nodes[3]]);
    const facts = converged(single, single.nodes[0]!, { datastore: 'etcd' });
    expect(planClusterNode(facts, grown, s1, { firstServer: s1, token: TOKEN })).toEqual([]);
  });

  it('an existing SQLite single server is left as it is; adding servers or k3s.datastore: etcd migrates it (said so)', () => {
    const grown = haInventory();
    const s1 = grown.nodes[0]!;
    const single = inventory({}, [grown.nodes[0], grown.nodes[3]]);
    const sqliteConfig = renderK3sConfig(single, single.nodes[0]!, { firstServer: s1, isFirstServer: true, firstServerStart: { kind: 'sqlite' } });
    const facts = converged(single, single.nodes[0]!, { datastore: 'sqlite', config: sqliteConfig });
    const start = (inv: Inventory) => decideFirstServerStart(inv, { node: s1, k3s: facts }, []);
    expect(start(single)).toEqual({ kind: 'sqlite' });
    expect(planClusterNode(facts, single, s1, { firstServer: s1, token: TOKEN, firstServerStart: { kind: 'sqlite' } })).toEqual([]);
    const migrate = [
      'write /etc/rancher/k3s/config.yaml: differs from the inventory in cluster-init (K3s moves its SQLite datastore into embedded etcd when it restarts)',
      'restart k3s: config.yaml changed',
    ];
    expect(start(grown)).toEqual({ kind: 'cluster-init' });
    expect(planClusterNode(facts, grown, s1, { firstServer: s1, token: TOKEN, firstServerStart: { kind: 'cluster-init' } }).map(describeClusterChange)).toEqual(
      migrate,
    );
    const asked = inventory({ k3s: { datastore: 'etcd' } }, [grown.nodes[0], grown.nodes[3]]);
    expect(start(asked)).toEqual({ kind: 'cluster-init' });
    expect(
      planClusterNode(facts, asked, s1, { firstServer: s1, token: TOKEN, firstServerStart: start(asked) as FirstServerStart }).map(describeClusterChange),
    ).toEqual(migrate);
  });
});

describe('checkClusterNode', () => {
  const inv = inventory();
  const [first, agent] = inv.nodes as [InventoryNode, InventoryNode];

  it('refuses a role change with the uninstall script to run', () => {
    const facts = converged(inv, first);
    expect(checkClusterNode(facts, inv, { ...agent, name: 'pi-1' })).toEqual([
      {
        severity: 'error',
        message:
          'node pi-1 already runs K3s as a server (k3s.service) but the inventory gives it role: agent: run /usr/local/bin/k3s-uninstall.sh on it first (this wipes its K3s data), or set its role back to server.',
      },
    ]);
  });

  it('says what a SQLite single server cannot do and how to move it, once the inventory has one server', () => {
    const single = inventory({}, [{ name: 'pi-1', host: '192.168.1.101', role: 'server' }]);
    const facts = converged(single, single.nodes[0]!, { datastore: 'sqlite' });
    expect(checkClusterNode(facts, single, single.nodes[0]!)).toEqual([
      {
        severity: 'warning',
        message:
          'node pi-1: SQLite datastore: backups and more servers need embedded etcd, and server pi-1 keeps this cluster in SQLite (it was made before revue-pi started new clusters with cluster-init). ' +
          'It keeps working as it is; to move it, back it up by hand first (K3s docs, "Backup and Restore with SQLite": stop k3s on pi-1, copy /var/lib/rancher/k3s/server/db/ and /var/lib/rancher/k3s/server/token), ' +
          'then set k3s.datastore: etcd in the inventory (or add servers to it) and run revue-pi up: it restarts K3s on pi-1 with cluster-init, and K3s moves the data into etcd.',
      },
    ]);
    expect(checkClusterNode(converged(single, single.nodes[0]!, { datastore: 'etcd' }), single, single.nodes[0]!)).toEqual([]);
  });

  it('does not compare versions when following a channel', () => {
    const channel = inventory({ k3s: { channel: 'stable' } });
    expect(checkClusterNode(converged(channel, channel.nodes[1]!, { installedVersion: 'v1.34.1+k3s1' }), channel, channel.nodes[1]!)).toEqual([]);
  });
});

describe('tokenMatchesServer', () => {
  it('prefers the server token secret, then the token file, else cannot tell (true)', () => {
    expect(tokenMatchesServer({ ...freshK3sFacts(), serverTokenSha256: sha256Hex(`${TOKEN}\n`) }, TOKEN)).toBe(true);
    expect(tokenMatchesServer({ ...freshK3sFacts(), serverTokenSha256: sha256Hex('other\n') }, TOKEN)).toBe(false);
    expect(tokenMatchesServer({ ...freshK3sFacts(), tokenFileSha256: sha256Hex(tokenFileContent('other')) }, TOKEN)).toBe(false);
    expect(tokenMatchesServer(freshK3sFacts(), TOKEN)).toBe(true);
  });
});

describe('planCluster', () => {
  it("plans every node against the inventory's first server", () => {
    const inv = inventory();
    const plans = planCluster(
      inv,
      inv.nodes.map((node) => ({ node, k3s: node.name === 'pi-3' ? freshK3sFacts() : converged(inv, node) })),
      TOKEN,
    );
    expect([...plans].map(([name, changes]) => [name, changes.map((c) => c.kind)])).toEqual([
      ['pi-1', []],
      ['pi-2', []],
      ['pi-3', ['write-token', 'write-config', 'install']],
    ]);
  });

  it('a wiped first server while s2 runs the cluster: it joins s2, after its stale member goes, which is marked as asked for on its own', () => {
    const ha = haInventory();
    const plans = planCluster(
      ha,
      ha.nodes.map((node) => ({ node, k3s: node.name === 's1' ? freshK3sFacts() : converged(ha, node) })),
      TOKEN,
    );
    expect(plans.get('s1')!.map(describeClusterChange)).toEqual([
      'remove Node s1 and its stale etcd member on s2, if it still lists one (left when s1 was wiped; K3s refuses a new member under the same name) — asked for on its own right before, done only if you type the cluster name then (or pass --replace-node s1)',
      'write the cluster token file (/etc/rancher/k3s/revue-pi-token)',
      'write /etc/rancher/k3s/config.yaml: node settings from the inventory',
      'install K3s server v1.36.4+k3s1 and join https://192.168.1.12:6443',
    ]);
  });
});

describe('versionsBehind', () => {
  const at = (...versions: (string | undefined)[]) => versions.map((v, i) => ({ name: `pi-${i + 1}`, ...(v ? { installedVersion: v } : {}) }));

  it('names the nodes on an older release than k3s.version; nodes not installed yet do not count', () => {
    expect(versionsBehind(inventory(), at('v1.35.2+k3s1', 'v1.36.4+k3s1', undefined))).toEqual({ version: 'v1.36.4+k3s1', nodes: ['pi-1'] });
  });

  it('offers nothing when every node runs it, when one is newer, for a channel, air-gapped, or an unreadable version', () => {
    expect(versionsBehind(inventory(), at('v1.36.4+k3s1', 'v1.36.4+k3s1'))).toBeUndefined();
    expect(versionsBehind(inventory(), at('v1.35.2+k3s1', 'v1.37.0+k3s1'))).toBeUndefined();
    expect(versionsBehind(inventory({ k3s: { channel: 'stable' } }), at('v1.35.2+k3s1'))).toBeUndefined();
    expect(
      versionsBehind(
        inventory({ k3s: { version: 'v1.36.4+k3s1', airgap: { binary: '/srv/k3s', images: '/srv/images.tar.zst', installScript: '/srv/install.sh' } } }),
        at('v1.35.2+k3s1'),
      ),
    ).toBeUndefined();
    expect(versionsBehind(inventory(), at('v1.35.2+k3s1', 'v1.35-custom'))).toBeUndefined();
  });
});
