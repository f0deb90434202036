import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runRemoveNode } from '../../../cluster/day-two/remove-node-run.js';
import { RunLog } from '../../../core/log.js';
import type { InventoryNode } from '../../../core/inventory/schema.js';
import { FakeTransport, fail, ok } from '../../fakes/fake-transport.js';
import { inventory } from '../cluster/helpers.js';
import { tempDir } from '../../fakes/temp-dir.js';

/** The cluster s2 reads (three voting servers); the inventory no longer lists s1, the node being removed. */
const NODES = ['s1', 's2', 's3'].map((n, i) => ({
  kind: 'Node',
  metadata: { name: n, labels: { 'node-role.kubernetes.io/etcd': 'true' }, annotations: { 'etcd.k3s.cattle.io/node-name': `${n}-aaaaaaa${i}` } },
  spec: {},
  status: { addresses: [{ type: 'InternalIP', address: `10.0.0.${i + 1}` }], conditions: [{ type: 'Ready', status: 'True' }] },
}));
const CLUSTER = JSON.stringify({ kind: 'List', items: NODES });
const membersJson = (...names: string[]) => JSON.stringify({ members: names.map((n) => ({ name: n, peerURLs: [`https://10.0.0.${Number(n[1])}:2380`] })) });
const PROBE = `@@revue-pi@@ cluster\n${CLUSTER}\n\n@@revue-pi@@ etcd\n${membersJson('s1-aaaaaaa0', 's2-aaaaaaa1', 's3-aaaaaaa2')}\n\n@@revue-pi@@ datastore\netcd\n\n`;
const INVENTORY = inventory({ cluster: { name: 'home' } }, [
  { name: 's2', host: '10.0.0.2', role: 'server' },
  { name: 's3', host: '10.0.0.3', role: 'server' },
]);

/** TEST DOUBLES: s2 (runs the cluster side) and s1 (the node removed); unscripted commands fail the test. */
function cluster(opts: { drain?: ReturnType<typeof ok>; deleteAnswers?: ReturnType<typeof ok>[] } = {}) {
  const s2 = new FakeTransport('s2');
  s2.on('k3s kubectl get nodes,pods', ok(PROBE));
  s2.on(/^k3s kubectl drain s1 /, opts.drain ?? ok('node/s1 cordoned\nnode/s1 drained\n'));
  s2.on(/^k3s kubectl uncordon s1$/, ok('node/s1 uncordoned\n'));
  for (const a of opts.deleteAnswers ?? [ok('node "s1" deleted\n')]) s2.on(/^k3s kubectl delete node s1 /, a, { times: 1 });
  s2.on(/^k3s kubectl get --raw \/db\/info/, ok(membersJson('s1-aaaaaaa0', 's2-aaaaaaa1', 's3-aaaaaaa2')), { times: 1 });
  s2.on(/^k3s kubectl get --raw \/db\/info/, ok(membersJson('s2-aaaaaaa1', 's3-aaaaaaa2')));
  const s1 = new FakeTransport('s1');
  s1.on('systemctl stop k3s', ok(''));
  s1.on('k3s-agent-uninstall.sh', ok('uninstalled: /usr/local/bin/k3s-uninstall.sh\n'));
  const stateDir = tempDir('remove-node-run');
  const kubeconfigPath = join(stateDir, 'kubeconfig');
  writeFileSync(kubeconfigPath, 'apiVersion: v1\nclusters:\n- name: home\n  cluster: {server: "https://10.0.0.1:6443"}\n');
  writeFileSync(join(stateDir, 'k3s-versions.json'), '{"s1":{"version":"v1"},"s2":{"version":"v1"}}');
  const opened: string[] = [];
  const open = async (node: InventoryNode) => {
    opened.push(`${node.name}@${node.host}`);
    return node.name === 's1' ? s1 : s2;
  };
  const run = (extra: Partial<Parameters<typeof runRemoveNode>[0]> = {}) =>
    runRemoveNode({
      inventory: INVENTORY,
      name: 's1',
      stateDir,
      kubeconfigPath,
      drainTimeoutSeconds: 30,
      dryRun: false,
      open,
      log: new RunLog(stateDir, 'remove-node'),
      progress: () => undefined,
      apiWaitMs: 2000,
      memberWaitMs: 3000,
      pollMs: 10,
      ...extra,
    });
  return { s1, s2, stateDir, kubeconfigPath, opened, run };
}

const firstLines = (t: FakeTransport) => t.runs.map((r) => r.script.split('\n')[0]!);

describe('runRemoveNode with test doubles of the servers', () => {
  it('removes a server in K3s order: drain, stop it, delete its Node on another, member gone, uninstall; then the kubeconfig and state forget it', async () => {
    const { s1, s2, stateDir, kubeconfigPath, opened, run } = cluster();
    const r = await run();
    expect(r.error).toBeUndefined();
    expect(r).toMatchObject({ ok: true, exitCode: 0, via: 's2' });
    // The node not in the inventory is reached at the address the cluster gives it.
    expect(opened).toEqual(['s2@10.0.0.2', 's1@10.0.0.1']);
    expect(firstLines(s2).slice(1)).toEqual([
      'k3s kubectl drain s1 --ignore-daemonsets --delete-emptydir-data --timeout=30s',
      'k3s kubectl delete node s1 --ignore-not-found --request-timeout=30s',
      'k3s kubectl get --raw /db/info --request-timeout=15s',
      'k3s kubectl get --raw /db/info --request-timeout=15s',
    ]);
    expect(firstLines(s1)).toEqual(['systemctl stop k3s', 'ran=']);
    expect(r.steps.map((s) => [s.kind, s.status])).toEqual([
      ['drain', 'done'],
      ['stop-k3s', 'done'],
      ['delete-node', 'done'],
      ['check-member-gone', 'done'],
      ['uninstall', 'done'],
      ['repoint-kubeconfig', 'done'],
      ['forget-state', 'done'],
    ]);
    expect(readFileSync(kubeconfigPath, 'utf8')).toContain('server: https://10.0.0.2:6443');
    expect(JSON.parse(readFileSync(join(stateDir, 'k3s-versions.json'), 'utf8'))).toEqual({ s2: { version: 'v1' } });
    expect([s1.closed, s2.closed]).toEqual([true, true]);
  });

  it('a drain that fails: uncordons, removes nothing, names the PodDisruptionBudget refusal', async () => {
    const drainOut =
      'error when evicting pods/"web" -n "shop" (will retry after 5s): Cannot evict pod as it would violate the pod\'s disruption budget.\nerror: unable to drain node "s1" due to error: error when evicting pods/"web" -n "shop": global timeout reached: 30s, continuing command...\n';
    const { s1, s2, run } = cluster({ drain: fail(1, drainOut) });
    const r = await run();
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(
      /^draining s1 failed \(exit 1\): error: unable to drain node "s1" .*; pods\/"web" -n "shop" refused: Cannot evict pod as it would violate the pod's disruption budget\.\.\ns1 is schedulable again and nothing was removed\./,
    );
    expect(s2.ran('uncordon')).toEqual(['k3s kubectl uncordon s1']);
    expect(s2.ran('delete node')).toEqual([]);
    expect(s1.runs).toEqual([]);
  });

  it('retries the delete while the API is electing a leader, then goes on', async () => {
    const { s2, run } = cluster({ deleteAnswers: [fail(1, 'Error from server: etcdserver: request timed out\n'), ok('node "s1" deleted\n')] });
    const r = await run();
    expect(r.ok, r.error).toBe(true);
    expect(s2.ran('delete node')).toHaveLength(2);
  });

  it('a refusal that is not about the API stops at once, saying K3s on the node may already be stopped', async () => {
    const { s1, run } = cluster({ deleteAnswers: [fail(1, 'Error from server (Forbidden): nodes "s1" is forbidden\n')] });
    const r = await run();
    expect(r.error).toMatch(
      /^deleting Node s1 failed on s2 \(exit 1\): Error from server \(Forbidden\).*K3s on s1 may be stopped already: run remove-node again once the cluster answers\. Done before: drain, stop-k3s\.$/s,
    );
    expect(firstLines(s1)).toEqual(['systemctl stop k3s']);
  });

  it('declined at the prompt, or a dry run: nothing but the reads', async () => {
    for (const extra of [{ confirm: async () => false }, { dryRun: true }]) {
      const { s1, s2, run } = cluster();
      const r = await run(extra);
      expect(r.steps.every((s) => s.status === 'not run')).toBe(true);
      expect(firstLines(s2)).toEqual([
        'dump_file() { [ -r "$1" ] || return 0; l=; while IFS= read -r l; do printf \'|%s\\n\' "$l"; done < "$1"; [ -z "$l" ] || printf \'~%s\\n\' "$l"; }',
      ]);
      expect(s1.runs).toEqual([]);
      expect(r.exitCode).toBe('dryRun' in extra ? 0 : 1);
    }
  });

  it('no other server answers: nothing changed, each reason named', async () => {
    const { run } = cluster();
    const r = await run({ open: async (n) => Promise.reject(new Error(`Could not connect to node ${n.name}`)) });
    expect(r.error).toBe(
      'no server of cluster home other than s1 answered, so nothing was changed: s2: Could not connect to node s2; s3: Could not connect to node s3.',
    );
  });
});
