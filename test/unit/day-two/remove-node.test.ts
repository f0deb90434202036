import { describe, expect, it } from 'vitest';
import type { EtcdMember } from '../../../cluster/day-two/etcd.js';
import {
  CLUSTER_READ_COMMAND,
  buildDeleteNodeCommand,
  buildDrainCommand,
  buildUncordonCommand,
  buildUninstallScript,
  drainFailureSummary,
  formatPlan,
  isApiUnavailable,
  isNodeName,
  parseClusterView,
  planRemoval,
  type ClusterView,
  type RemovalInput,
} from '../../../cluster/day-two/remove-node.js';

/** Trimmed from `kubectl get nodes,pods,poddisruptionbudgets.policy,persistentvolumes -A -o json` on a K3s HA cluster. */
const CLUSTER_JSON = JSON.stringify({
  apiVersion: 'v1',
  kind: 'List',
  items: [
    ...['s1', 's2', 's3'].map((n, i) => ({
      kind: 'Node',
      metadata: {
        name: n,
        labels: { 'node-role.kubernetes.io/control-plane': 'true', 'node-role.kubernetes.io/etcd': 'true' },
        annotations: { 'etcd.k3s.cattle.io/node-name': `${n}-0000000${i}`, 'k3s.io/internal-ip': `10.0.0.${i + 1}` },
      },
      spec: {},
      status: {
        addresses: [{ type: 'InternalIP', address: `10.0.0.${i + 1}` }],
        conditions: [
          { type: 'Ready', status: 'True' },
          { type: 'EtcdIsVoter', status: 'True' },
        ],
      },
    })),
    {
      kind: 'Node',
      metadata: { name: 'a1', labels: {}, annotations: { 'k3s.io/internal-ip': '10.0.0.21' } },
      spec: { unschedulable: true },
      status: { conditions: [{ type: 'Ready', status: 'Unknown' }] },
    },
    {
      kind: 'Pod',
      metadata: { name: 'web-1', namespace: 'shop', ownerReferences: [{ kind: 'ReplicaSet', controller: true }] },
      spec: { nodeName: 'a1', volumes: [{ name: 'tmp', emptyDir: {} }] },
      status: { phase: 'Running' },
    },
    {
      kind: 'Pod',
      metadata: { name: 'speaker-x', namespace: 'metallb-system', ownerReferences: [{ kind: 'DaemonSet', controller: true }] },
      spec: { nodeName: 'a1' },
      status: { phase: 'Running' },
    },
    {
      kind: 'Pod',
      metadata: { name: 'job-1', namespace: 'shop', ownerReferences: [{ kind: 'Job', controller: true }] },
      spec: { nodeName: 'a1' },
      status: { phase: 'Succeeded' },
    },
    {
      kind: 'Pod',
      metadata: { name: 'kube-vip', namespace: 'kube-system', annotations: { 'kubernetes.io/config.mirror': 'x' } },
      spec: { nodeName: 's1' },
      status: { phase: 'Running' },
    },
    { kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'shop' }, spec: { minAvailable: 1 } },
    {
      kind: 'PersistentVolume',
      metadata: { name: 'pvc-1234' },
      spec: {
        claimRef: { namespace: 'shop', name: 'data-mongo-0' },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['a1'] }] }] } },
      },
    },
  ],
});

const voters = (...names: string[]): EtcdMember[] => names.map((n, i) => ({ name: `${n}-0000000${i}`, host: `10.0.0.${i + 1}`, isLearner: false }));

function input(extra: Partial<RemovalInput> = {}, view: ClusterView = withReady({ a1: 'True' })): RemovalInput {
  return {
    name: 'a1',
    cluster: 'home',
    view,
    members: voters('s1', 's2', 's3'),
    via: { name: 's2', host: '10.0.0.2' },
    inInventory: false,
    reachable: true,
    drainTimeoutSeconds: 120,
    hosts: [extra.name ?? 'a1'],
    stateFiles: ['k3s-versions.json'],
    ...extra,
  };
}

/** The view with the named nodes' Ready condition set. */
function withReady(ready: Record<string, 'True' | 'Unknown'>, view = parseClusterView(CLUSTER_JSON)): ClusterView {
  return { ...view, nodes: view.nodes.map((n) => (ready[n.name] ? { ...n, ready: ready[n.name] } : n)) };
}

describe('reading the cluster for remove-node', () => {
  it('reads nodes (role, address, Ready, etcd member, cordoned), pods (controller, mirror, done, emptyDir) and local volumes', () => {
    expect(CLUSTER_READ_COMMAND.text).toBe('k3s kubectl get nodes,pods,poddisruptionbudgets.policy,persistentvolumes -A -o json --request-timeout=20s');
    const view = parseClusterView(CLUSTER_JSON);
    expect(view.nodes).toEqual([
      { name: 's1', role: 'server', address: '10.0.0.1', ready: 'True', etcdMember: 's1-00000000', etcdVoter: 'True', unschedulable: false },
      { name: 's2', role: 'server', address: '10.0.0.2', ready: 'True', etcdMember: 's2-00000001', etcdVoter: 'True', unschedulable: false },
      { name: 's3', role: 'server', address: '10.0.0.3', ready: 'True', etcdMember: 's3-00000002', etcdVoter: 'True', unschedulable: false },
      { name: 'a1', role: 'agent', address: '10.0.0.21', ready: 'Unknown', unschedulable: true },
    ]);
    expect(view.pods.map((p) => [p.namespace, p.name, p.controller, p.mirror, p.done, p.emptyDir])).toEqual([
      ['shop', 'web-1', 'ReplicaSet', false, false, true],
      ['metallb-system', 'speaker-x', 'DaemonSet', false, false, false],
      ['shop', 'job-1', 'Job', false, true, false],
      ['kube-system', 'kube-vip', undefined, true, false, false],
    ]);
    expect(view.localVolumes).toEqual([{ name: 'pvc-1234', node: 'a1', claim: 'shop/data-mongo-0' }]);
    expect(() => parseClusterView('Error from server: etcdserver: request timed out')).toThrow(/not JSON: Error from server/);
  });
});

describe('planRemoval', () => {
  it('an agent it can reach: drain (its pods, not DaemonSets or finished ones), delete, uninstall, forget; what is lost is listed', () => {
    const plan = planRemoval(input());
    expect(plan.refused).toBeUndefined();
    if (plan.refused !== undefined) return;
    expect(plan.steps).toEqual([
      { kind: 'drain', node: 'a1', via: 's2', timeoutSeconds: 120, pods: ['shop/web-1'] },
      { kind: 'delete-node', node: 'a1', via: 's2' },
      { kind: 'uninstall', node: 'a1', role: 'agent' },
      { kind: 'forget-state', node: 'a1', files: ['k3s-versions.json'] },
    ]);
    expect(plan.destructive).toEqual([
      'the emptyDir volumes of shop/web-1 (scratch space, deleted with their pods)',
      'Node a1',
      'K3s on a1 with its data (/var/lib/rancher/k3s, /etc/rancher/k3s)',
      "PersistentVolume pvc-1234 (claim shop/data-mongo-0), which lives on a1's disk: its data goes with the node, and its pod stays Pending",
    ]);
    expect(plan.warnings).toEqual([]);
  });

  it('an agent that does not answer: only its Node goes, and it says what to do if it comes back', () => {
    const plan = planRemoval(
      input({ reachable: false, unreachableReason: 'connect ECONNREFUSED 10.0.0.21:22', stateFiles: [] }, parseClusterView(CLUSTER_JSON)),
    );
    if (plan.refused !== undefined) throw new Error(plan.refused);
    expect(plan.steps).toEqual([{ kind: 'delete-node', node: 'a1', via: 's2' }]);
    expect(plan.warnings[0]).toBe(
      'a1 does not answer over SSH (connect ECONNREFUSED 10.0.0.21:22): only the cluster-side steps are done. It is not drained (its pods go with its Node; their controllers start them elsewhere) and K3s is not uninstalled on it: if it comes back, run `sudo /usr/local/bin/k3s-agent-uninstall.sh` on it before it rejoins.',
    );
  });

  it('a server from 3: drain, stop K3s first, delete (member goes), check the member, uninstall, re-point the kubeconfig that named it; warns about 2', () => {
    const plan = planRemoval(input({ name: 's1', hosts: ['s1', '10.0.0.1'], kubeconfig: { path: '/h/.kube/config', server: 'https://10.0.0.1:6443' } }));
    if (plan.refused !== undefined) throw new Error(plan.refused);
    expect(plan.steps.map((s) => s.kind)).toEqual(['drain', 'stop-k3s', 'delete-node', 'check-member-gone', 'uninstall', 'repoint-kubeconfig', 'forget-state']);
    expect(plan.steps[2]).toEqual({ kind: 'delete-node', node: 's1', via: 's2', member: 's1-00000000' });
    expect(plan.steps[5]).toEqual({ kind: 'repoint-kubeconfig', path: '/h/.kube/config', from: 'https://10.0.0.1:6443', to: 'https://10.0.0.2:6443' });
    expect(plan.target).toMatchObject({ role: 'server', etcdMember: 's1-00000000', etcdVoter: true });
    expect(plan.warnings).toEqual([
      'after this, 2 servers (etcd voters) remain: an even number tolerates no more failures than 1 would (etcd needs 2 of 2), so losing either of the 2 stops the cluster. Add a server, or remove one more, to get an odd number.',
    ]);
  });

  it('does not re-point a kubeconfig that names another address (an apiEndpoint, another server)', () => {
    const plan = planRemoval(input({ name: 's1', hosts: ['s1', '10.0.0.1'], kubeconfig: { path: '/k', server: 'https://10.0.0.100:6443' } }));
    if (plan.refused !== undefined) throw new Error(plan.refused);
    expect(plan.steps.map((s) => s.kind)).not.toContain('repoint-kubeconfig');
  });

  it.each([
    [
      '2 servers',
      { name: 's1', members: voters('s1', 's2'), hosts: ['s1'] },
      withReady({}),
      /would leave 1 of the 2 voting etcd members running while it is stopped, and etcd needs 2 \(a majority\) to answer: the cluster would stop\. A cluster of 2 servers cannot lose one: add a third server first/,
    ],
    [
      '3 servers, one other already down',
      { name: 's1', hosts: ['s1'] },
      withReady({ s3: 'Unknown' }),
      /would leave 1 of the 3 voting etcd members running .* etcd needs 2 .* Bring the other servers back/,
    ],
    [
      'the only etcd member',
      { name: 's1', members: voters('s1'), hosts: ['s1'] },
      withReady({}),
      /is the only etcd member of cluster home: removing it would leave no server/,
    ],
    ['a SQLite server', { name: 's1', members: undefined, hosts: ['s1'] }, withReady({}), /is the only server of cluster home \(SQLite datastore, no etcd\)/],
    [
      'a running server unreachable over SSH',
      { name: 's1', reachable: false, hosts: ['s1'] },
      withReady({}),
      /does not answer over SSH \(unreachable\) but its K3s still reports Ready: revue-pi cannot stop it first/,
    ],
    [
      'a node nobody knows',
      { name: 'zz', hosts: ['zz'] },
      withReady({}),
      /node zz is neither in cluster home \(its nodes: s1, s2, s3, a1\) nor in the inventory: nothing to remove/,
    ],
  ])('refuses: %s', (_what, extra, view, refusal) => {
    const plan = planRemoval(input(extra as Partial<RemovalInput>, view));
    expect(plan.refused).toMatch(refusal);
  });

  it('refuses to drain away pods that have no controller (they would be gone for good)', () => {
    const view = withReady({ a1: 'True' });
    view.pods.push({ namespace: 'default', name: 'debug', node: 'a1', mirror: false, done: false, emptyDir: false });
    expect(planRemoval(input({}, view)).refused).toBe(
      'pods with no controller run on a1 (default/debug): draining would delete them for good, and revue-pi does not force that. Move or delete them yourself, then run again.',
    );
  });

  it('a reachable node that is not Ready (K3s stopped by an interrupted removal): not drained, the rest goes on', () => {
    const plan = planRemoval(input({ name: 's1', hosts: ['s1'] }, withReady({ s1: 'Unknown' })));
    if (plan.refused !== undefined) throw new Error(plan.refused);
    expect(plan.steps.map((s) => s.kind)).toEqual(['stop-k3s', 'delete-node', 'check-member-gone', 'uninstall', 'forget-state']);
    expect(plan.warnings).toContain('s1 is not Ready (Unknown): it is not drained; its pods go with its Node and their controllers start them elsewhere.');
  });

  it('a server that is down (NotReady) and unreachable, from 3: allowed, cluster side only', () => {
    const plan = planRemoval(input({ name: 's3', reachable: false, hosts: ['s3'] }, withReady({ s3: 'Unknown' })));
    if (plan.refused !== undefined) throw new Error(plan.refused);
    expect(plan.steps.map((s) => s.kind)).toEqual(['delete-node', 'check-member-gone', 'forget-state']);
  });

  it('warns on an even count left (5 → 4), not on an odd one (5 → 4 is even; 4 → 3 is not)', () => {
    const five = voters('s1', 's2', 's3', 's4', 's5');
    const view = parseClusterView(CLUSTER_JSON);
    const nodes = five.map((m, i) => ({
      name: m.name.slice(0, 2),
      role: 'server' as const,
      address: m.host,
      ready: 'True' as const,
      etcdMember: m.name,
      unschedulable: false,
      i,
    }));
    const fiveView = { ...view, nodes };
    const p5 = planRemoval(input({ name: 's5', members: five, hosts: ['s5'] }, fiveView));
    expect(p5.warnings.join()).toContain(
      'after this, 4 servers (etcd voters) remain: an even number tolerates no more failures than 3 would (etcd needs 3 of 4). Add a server',
    );
    const p4 = planRemoval(input({ name: 's4', members: five.slice(0, 4), hosts: ['s4'] }, { ...view, nodes: nodes.slice(0, 4) }));
    expect(p4.warnings.filter((w) => w.includes('even'))).toEqual([]);
  });

  it('a learner may go even with 2 voters (it counts toward no quorum)', () => {
    const members = [...voters('s1', 's2'), { name: 's3-00000002', host: '10.0.0.3', isLearner: true }];
    const plan = planRemoval(input({ name: 's3', members, hosts: ['s3'] }));
    expect(plan.refused).toBeUndefined();
    expect(plan.target).toMatchObject({ etcdVoter: false });
  });

  it('a node already gone from the cluster but in the inventory and reachable: uninstall it (a re-run after an interruption)', () => {
    const view = parseClusterView(CLUSTER_JSON);
    const plan = planRemoval(input({ inInventory: true, hosts: ['a1', '10.0.0.21'] }, { ...view, nodes: view.nodes.filter((n) => n.name !== 'a1') }));
    if (plan.refused !== undefined) throw new Error(plan.refused);
    expect(plan.steps.map((s) => s.kind)).toEqual(['uninstall', 'forget-state']);
    expect(plan.warnings).toEqual(['node a1 is still in the inventory: take it out there, or the next revue-pi up installs it again.']);
  });

  it('prints the plan: the node, numbered steps, what is deleted, warnings', () => {
    expect(formatPlan('home', planRemoval(input({ reachable: false, stateFiles: [] }, parseClusterView(CLUSTER_JSON))))).toBe(
      'remove-node a1 from cluster home (agent, 10.0.0.21, Ready=Unknown, unreachable over SSH):\n' +
        '  1. delete Node a1 on s2\n' +
        'Deleted for good:\n' +
        '  - Node a1\n' +
        "  - PersistentVolume pvc-1234 (claim shop/data-mongo-0), which lives on a1's disk: its data goes with the node, and its pod stays Pending\n" +
        'Warning: a1 does not answer over SSH (unreachable): only the cluster-side steps are done. It is not drained (its pods go with its Node; their controllers start them elsewhere) and K3s is not uninstalled on it: if it comes back, run `sudo /usr/local/bin/k3s-agent-uninstall.sh` on it before it rejoins.\n',
    );
  });
});

describe('remove-node commands', () => {
  it('builds each command exactly', () => {
    expect(buildDrainCommand('pi-3', 90).text).toBe('k3s kubectl drain pi-3 --ignore-daemonsets --delete-emptydir-data --timeout=90s');
    expect(buildUncordonCommand('pi-3').text).toBe('k3s kubectl uncordon pi-3');
    expect(buildDeleteNodeCommand('pi-3').text).toBe('k3s kubectl delete node pi-3 --ignore-not-found --request-timeout=30s');
    const script = buildUninstallScript().text;
    expect(script.indexOf('k3s-agent-uninstall.sh')).toBeLessThan(script.indexOf('/usr/local/bin/k3s-uninstall.sh'));
    expect(script).toContain('if [ -e /usr/local/bin/k3s ] || [ -e /etc/systemd/system/k3s.service ] || [ -e /etc/systemd/system/k3s-agent.service ]; then');
  });

  it.each([
    ['pi-3', true],
    ['Pi-3', false],
    ['pi_3', false],
    ['pi-3; reboot', false],
    ['-pi', false],
  ])('isNodeName(%j) is %s', (name, okName) => {
    expect(isNodeName(name)).toBe(okName);
  });

  it('tells an API that cannot answer yet (retry) from a real refusal', () => {
    expect(isApiUnavailable('Error from server: etcdserver: request timed out')).toBe(true);
    expect(isApiUnavailable('The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?')).toBe(true);
    expect(isApiUnavailable('Error from server (Forbidden): nodes "pi-3" is forbidden')).toBe(false);
  });

  it('sums up a failed drain by its final error and each PodDisruptionBudget refusal (kubectl repeats them every 5 s)', () => {
    const output = [
      'node/a1 cordoned',
      'evicting pod default/web-1',
      'error when evicting pods/"web-1" -n "default" (will retry after 5s): Cannot evict pod as it would violate the pod\'s disruption budget.',
      'evicting pod default/web-1',
      'error when evicting pods/"web-1" -n "default" (will retry after 5s): Cannot evict pod as it would violate the pod\'s disruption budget.',
      'evicting pod default/web-1',
      'error: unable to drain node "a1" due to error: error when evicting pods/"web-1" -n "default": global timeout reached: 1s, continuing command...',
      'There are pending nodes to be drained:',
      ' a1',
      'error when evicting pods/"web-1" -n "default": global timeout reached: 1s',
    ].join('\n');
    expect(drainFailureSummary(output)).toBe(
      'error: unable to drain node "a1" due to error: error when evicting pods/"web-1" -n "default": global timeout reached: 1s; pods/"web-1" -n "default" refused: Cannot evict pod as it would violate the pod\'s disruption budget.',
    );
    expect(drainFailureSummary('something else\nentirely')).toBe('something else\nentirely');
  });
});
