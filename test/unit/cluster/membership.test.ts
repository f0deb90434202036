import { describe, expect, it } from 'vitest';
import { renderK3sConfig } from '../../../cluster/config.js';
import type { K3sFacts } from '../../../cluster/facts.js';
import { otherClusterMessage, otherClusterOf } from '../../../cluster/membership.js';
import { checkClusterNode } from '../../../cluster/plan.js';
import { serverSecretSha256, sha256Hex, tokenFileContent } from '../../../cluster/token.js';
import { haInventory, inventory } from './helpers.js';

const TOKEN = 'ab'.repeat(32);
const installed = (config: string, over: Partial<K3sFacts> = {}): K3sFacts => ({
  installedVersion: 'v1.36.4+k3s1',
  config,
  unit: 'k3s-agent',
  units: ['k3s-agent'],
  active: true,
  nodePassword: true,
  ...over,
});

describe('otherClusterOf', () => {
  const inv = inventory({ cluster: { name: 'lab', apiEndpoint: 'k8s.lab.example:6443' } });
  const [first, agent] = inv.nodes as [(typeof inv.nodes)[0], (typeof inv.nodes)[0]];

  it("an agent joining one of this inventory's servers (address, name or apiEndpoint) is ours; a fresh node is nobody's", () => {
    for (const server of ['https://192.168.1.101:6443', 'https://pi-1:6443', 'https://k8s.lab.example:6443'])
      expect(otherClusterOf(installed(`server: ${server}\n`), inv, agent, TOKEN)).toBeUndefined();
    expect(
      otherClusterOf({ unit: undefined, units: [], active: false, nodePassword: false, config: 'server: https://10.9.9.9:6443\n' }, inv, agent, TOKEN),
    ).toBeUndefined();
  });

  it('an agent joining another server, and a server whose datastore has another token, belong to another cluster', () => {
    expect(otherClusterOf(installed('server: https://10.9.9.9:6443\n'), inv, agent, TOKEN)).toBe('its K3s joins https://10.9.9.9:6443');
    // With this cluster's token it is ours, only pointed at an old address of the first server (config drift, fixed by up).
    expect(
      otherClusterOf(installed('server: https://10.9.9.9:6443\n', { tokenFileSha256: sha256Hex(tokenFileContent(TOKEN)) }), inv, agent, TOKEN),
    ).toBeUndefined();
    const server = installed(renderK3sConfig(inv, first, { firstServer: first, isFirstServer: true }), { unit: 'k3s', units: ['k3s'] });
    expect(otherClusterOf({ ...server, serverTokenSha256: serverSecretSha256(TOKEN) }, inv, first, TOKEN)).toBeUndefined();
    expect(otherClusterOf({ ...server, serverTokenSha256: serverSecretSha256('cd'.repeat(32)) }, inv, first, TOKEN)).toBe(
      'its K3s datastore was made with another cluster token',
    );
  });

  it('checkClusterNode refuses it with what to do, unless an agent says adopt: true', () => {
    const facts = installed('server: https://10.9.9.9:6443\n');
    expect(checkClusterNode(facts, inv, agent, { token: TOKEN })).toEqual([
      { severity: 'error', message: otherClusterMessage(agent, inv, 'its K3s joins https://10.9.9.9:6443') },
    ]);
    expect(otherClusterMessage(agent, inv, 'its K3s joins https://10.9.9.9:6443')).toBe(
      'node pi-2 already belongs to another K3s cluster (its K3s joins https://10.9.9.9:6443), not to cluster lab: revue-pi left it alone. ' +
        'If it is meant to move here, set adopt: true on it in the inventory (nodes[].adopt; up then rewrites its settings and token and restarts it, and it leaves the other cluster, where its Node object stays until removed there); otherwise take it out of this inventory.',
    );
    expect(checkClusterNode(facts, inv, { ...agent, adopt: true }, { token: TOKEN })).toEqual([]);
    const ha = haInventory();
    const s2 = ha.nodes[1]!;
    const foreignServer = installed('server: https://10.9.9.9:6443\n', { unit: 'k3s', units: ['k3s'] });
    expect(checkClusterNode(foreignServer, ha, { ...s2, adopt: true }, { token: TOKEN })[0]!.message).toBe(
      'node s2 already belongs to another K3s cluster (its K3s joins https://10.9.9.9:6443), not to cluster lab: revue-pi left it alone. ' +
        "A server cannot be moved between clusters (its datastore belongs to the other one): remove it from that cluster (revue-pi remove-node with that cluster's inventory), or wipe it with sudo /usr/local/bin/k3s-uninstall.sh, then run up again.",
    );
  });
});
