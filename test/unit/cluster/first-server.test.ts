import { describe, expect, it } from 'vitest';
import { renderK3sConfig } from '../../../cluster/config.js';
import { freshK3sFacts, type K3sFacts } from '../../../cluster/facts.js';
import { configuredServer, decideFirstServerStart, staleMemberOf } from '../../../cluster/first-server.js';
import { describeClusterChange, planClusterNode } from '../../../cluster/plan.js';
import { haInventory } from './helpers.js';

const running = (config?: string): K3sFacts => ({
  installedVersion: 'v1.36.4+k3s1',
  unit: 'k3s',
  units: ['k3s'],
  active: true,
  nodePassword: true,
  datastore: 'etcd',
  ...(config ? { config } : {}),
});

describe('decideFirstServerStart', () => {
  const ha = haInventory();
  const [s1, s2, s3] = ha.nodes as [(typeof ha.nodes)[0], (typeof ha.nodes)[0], (typeof ha.nodes)[0]];
  const fresh = { node: s1, k3s: freshK3sFacts() };

  it('a new cluster (no listed server runs K3s): cluster-init', () => {
    expect(
      decideFirstServerStart(ha, fresh, [
        { node: s2, k3s: freshK3sFacts() },
        { node: s3, k3s: freshK3sFacts() },
      ]),
    ).toEqual({ kind: 'cluster-init' });
  });

  it('a wiped first server while s3 still runs the cluster: it joins s3 (the first that answers), never cluster-init', () => {
    const stopped = { ...running(), active: false };
    expect(
      decideFirstServerStart(ha, fresh, [
        { node: s2, k3s: stopped },
        { node: s3, k3s: running() },
      ]),
    ).toEqual({
      kind: 'join',
      server: 'https://192.168.1.13:6443',
      via: 's3',
    });
  });

  it('a wiped first server and a server that could not be probed: refused, naming it', () => {
    expect(
      decideFirstServerStart(ha, fresh, [
        { node: s2, k3s: undefined },
        { node: s3, k3s: freshK3sFacts() },
      ]),
    ).toEqual({
      kind: 'refused',
      message:
        'first server s1 has no K3s, and server s2 could not be probed, so revue-pi cannot tell whether the cluster still runs there: starting a new one on s1 (cluster-init) could split it in two. Make s2 reachable and run up again.',
    });
  });

  it('an installed first server keeps what it was started with: cluster-init, or the server it joined when rebuilt', () => {
    const founder = renderK3sConfig(ha, s1, { firstServer: s1, isFirstServer: true });
    expect(decideFirstServerStart(ha, { node: s1, k3s: running(founder) }, [{ node: s2, k3s: running() }])).toEqual({ kind: 'cluster-init' });
    const joined = renderK3sConfig(ha, s1, { firstServer: s1, isFirstServer: true, firstServerStart: { kind: 'join', server: 'https://192.168.1.13:6443' } });
    expect(decideFirstServerStart(ha, { node: s1, k3s: running(joined) }, [{ node: s2, k3s: running() }])).toEqual({
      kind: 'join',
      server: 'https://192.168.1.13:6443',
    });
    expect(configuredServer('server: [\n')).toBeUndefined();
  });
});

describe('staleMemberOf and the rejoin plan', () => {
  const ha = haInventory();
  const s1 = ha.nodes[0]!;
  const members = [
    { name: 's1-0a1b2c3d', host: '192.168.1.11', isLearner: false },
    { name: 's10-99887766', host: '192.168.1.30', isLearner: false },
    { name: 's2-11223344', host: '192.168.1.12', isLearner: false },
  ];

  it("finds the member K3s would call a duplicate node name (name up to the last '-')", () => {
    expect(staleMemberOf(members, s1)).toEqual(members[0]);
    expect(staleMemberOf(members.slice(1), s1)).toBeUndefined();
  });

  it('a wiped first server: remove its stale member on the live server, then install and join that server', () => {
    const start = { kind: 'join', server: 'https://192.168.1.13:6443', via: 's3' } as const;
    const plan = (staleMember?: { member: string } | null) =>
      planClusterNode(freshK3sFacts(), ha, s1, {
        firstServer: s1,
        token: 'x'.repeat(64),
        firstServerStart: start,
        ...(staleMember !== undefined ? { staleMember } : {}),
      }).map(describeClusterChange);
    expect(plan({ member: 's1-0a1b2c3d' })).toEqual([
      'remove Node s1 and its stale etcd member s1-0a1b2c3d on s3 (left when s1 was wiped; K3s refuses a new member under the same name) — asked for on its own right before, done only if you type the cluster name then (or pass --replace-node s1)',
      'write the cluster token file (/etc/rancher/k3s/revue-pi-token)',
      'write /etc/rancher/k3s/config.yaml: node settings from the inventory',
      'install K3s server v1.36.4+k3s1 and join https://192.168.1.13:6443',
    ]);
    expect(plan(null)[0]).toBe('write the cluster token file (/etc/rancher/k3s/revue-pi-token)');
    expect(plan()[0]).toBe(
      'remove Node s1 and its stale etcd member on s3, if it still lists one (left when s1 was wiped; K3s refuses a new member under the same name) — asked for on its own right before, done only if you type the cluster name then (or pass --replace-node s1)',
    );
  });
});
