import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { beforeAll, expect, it } from 'vitest';
import type { RemoveNodeResult } from '../../cluster/day-two/remove-node-run.js';
import { describeLab } from '../lab/skip.js';
import { runCli } from './cli.js';
import { CLUSTER_ONLY, useLabCluster } from './lab-cluster.js';

/**
 * `revue-pi remove-node` on the lab: three servers (embedded etcd) and two agents on the K3s STAND-IN, which honours
 * what K3s does for it (test/lab/k3s-standin/README.md, "Day-two contract"): drain with PodDisruptionBudgets, Node
 * deletion removing the etcd member, a majority of servers electing a new etcd leader, agents moving to another server.
 * The tests run in order: an agent (first blocked by a PDB), a powered-off agent, a server from 3, a server from 2.
 */
const SUBNET = '127.0.161.';

describeLab('revue-pi remove-node on a lab cluster of 3 servers and 2 agents', () => {
  const suite = useLabCluster([{ name: 's1' }, { name: 's2' }, { name: 's3' }, { name: 'a1' }, { name: 'a2' }], SUBNET, {
    ...CLUSTER_ONLY,
    nodes: [
      { name: 's2', role: 'server' },
      { name: 's3', role: 'server' },
    ],
  });
  const kubeconfig = () => join(suite.stateDir, 'kubeconfig');
  /** The inventory after the operator took `gone` out of it (as one does before removing a node). */
  const inventoryWithout = (...gone: string[]) =>
    suite.lab.writeInventory(
      {
        ...CLUSTER_ONLY,
        k3s: { installScriptUrl: suite.installer.url },
        nodes: [{ name: 's2', role: 'server' }, { name: 's3', role: 'server' }, ...gone.map((name) => ({ name, omit: true }))],
      },
      `inventory-without-${gone.join('-')}.yaml`,
    );
  const removeNode = (inventory: string, ...args: string[]) =>
    runCli(['remove-node', ...args, '-i', inventory, '--state-dir', suite.stateDir, '--kubeconfig', kubeconfig()], { timeoutMs: 300_000 });
  const kubectl = async (server: string, args: string) => {
    const r = await suite.lab.node(server).exec(`k3s kubectl ${args}`);
    return r;
  };
  const nodeNames = async (server: string) => {
    const r = await kubectl(server, 'get nodes -o name');
    expect(r.code, r.stderr).toBe(0);
    return r.stdout
      .trim()
      .split('\n')
      .map((l) => l.replace('node/', ''));
  };
  const members = async (server: string) =>
    (JSON.parse((await kubectl(server, 'get --raw /db/info')).stdout) as { members: { name: string; isLearner?: boolean }[] }).members;
  const k3sInstalled = (node: string) => existsSync(suite.lab.node(node).path('/usr/local/bin/k3s'));

  beforeAll(async () => {
    const up = await suite.up('--yes');
    expect(up.code, up.stderr + up.stdout.slice(-2000)).toBe(0);
    // etcd promotes a joined server from learner to voter a few seconds after it joined; removals count voters.
    const deadline = Date.now() + 60_000;
    while ((await members('s1')).some((m) => m.isLearner) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    expect((await members('s1')).map((m) => m.isLearner ?? false)).toEqual([false, false, false]);
  }, 600_000);

  it('without a terminal and without --yes it refuses before contacting anything (exit 2)', async () => {
    const logins = suite.lab.nodes.map((n) => n.sshLogins());
    const r = await removeNode(suite.inventory, 'a1');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('remove-node changes the cluster and wipes K3s on a1: run it at a terminal to be asked, or pass --yes');
    expect(suite.lab.nodes.map((n) => n.sshLogins())).toEqual(logins);
    expect((await removeNode(suite.inventory, 'Not_A_Node', '--yes')).code).toBe(2);
  });

  it('an agent: a PodDisruptionBudget blocks the drain (bounded, uncordoned, nothing removed); relaxed, the agent is drained, deleted and uninstalled', async () => {
    const pod = (name: string, node: string) =>
      `---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n  namespace: default\n  labels: {app: web}\n  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: u1, controller: true}]\nspec:\n  nodeName: ${node}\n  containers: [{name: web, image: nginx}]\n`;
    const pdb = (min: number) =>
      `---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: web\n  namespace: default\nspec:\n  minAvailable: ${min}\n  selector: {matchLabels: {app: web}}\n`;
    const apply = (text: string) => suite.lab.node('s1').exec(`printf '%s' '${text}' | k3s kubectl apply -f -`);
    expect((await apply(pod('web-1', 'a1') + pod('web-2', 'a2') + pdb(2))).code).toBe(0);
    const inventory = inventoryWithout('a1');

    const plan = await removeNode(inventory, 'a1', '--dry-run');
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain(`remove-node a1 from cluster lab (agent, ${SUBNET}5, Ready=True, reachable over SSH):`);
    expect(plan.stdout).toContain('  1. cordon and drain a1 on s1: evict default/web-1, respecting PodDisruptionBudgets, for at most 120 s');
    expect(plan.stdout).toContain(
      '  2. delete Node a1 on s1\n  3. uninstall K3s on a1 (/usr/local/bin/k3s-agent-uninstall.sh, and the other one if both are there)\n  4. forget a1 in the state directory (k3s-versions.json, page-sizes.json)',
    );

    const started = Date.now();
    const blocked = await removeNode(inventory, 'a1', '--yes', '--json', '--drain-timeout', '1');
    expect(blocked.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(60_000);
    const failed = JSON.parse(blocked.stdout) as RemoveNodeResult;
    expect(failed.steps.map((s) => [s.kind, s.status])).toEqual([
      ['drain', 'failed'],
      ['delete-node', 'not run'],
      ['uninstall', 'not run'],
      ['forget-state', 'not run'],
    ]);
    expect(failed.error).toContain("Cannot evict pod as it would violate the pod's disruption budget.");
    expect(failed.error).toContain('a1 is schedulable again and nothing was removed.');
    expect(await nodeNames('s1')).toContain('a1');
    expect((await kubectl('s1', 'get node a1 -o json')).stdout).not.toContain('"unschedulable"');
    expect((await suite.lab.node('a1').exec('systemctl is-active k3s-agent')).stdout).toBe('active\n');

    expect((await apply(pdb(1))).code).toBe(0);
    const versionsBefore = JSON.parse(readFileSync(join(suite.stateDir, 'k3s-versions.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(versionsBefore)).toContain('a1');
    const removed = await removeNode(inventory, 'a1', '--yes');
    expect(removed.code, removed.stderr + removed.stdout).toBe(0);
    expect(removed.stdout).toContain('Node a1 is removed from cluster lab.');
    expect(removed.stderr).toContain('1/4 cordon and drain a1 on s1');
    expect(await nodeNames('s2')).toEqual(['a2', 's1', 's2', 's3']);
    expect((await kubectl('s2', 'get pods -o name')).stdout).toBe('pod/web-2\n');
    expect((await kubectl('s2', '-n kube-system get secret a1.node-password.k3s')).code).toBe(1);
    expect(k3sInstalled('a1')).toBe(false);
    expect(existsSync(suite.lab.node('a1').path('/etc/systemd/system/k3s-agent.service'))).toBe(false);
    expect(existsSync(suite.lab.node('a1').path('/var/lib/rancher/k3s'))).toBe(false);
    const versionsAfter = JSON.parse(readFileSync(join(suite.stateDir, 'k3s-versions.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(versionsAfter).sort()).toEqual(
      Object.keys(versionsBefore)
        .filter((n) => n !== 'a1')
        .sort(),
    );
  });

  it('a powered-off agent: only the cluster-side steps (its Node goes; nothing is done on it)', async () => {
    await suite.lab.node('a2').powerOff();
    const inventory = inventoryWithout('a1', 'a2');
    const r = await removeNode(inventory, 'a2', '--yes', '--json');
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const result = JSON.parse(r.stdout) as RemoveNodeResult;
    expect(result.target).toMatchObject({ name: 'a2', role: 'agent', reachable: false, inCluster: true });
    expect(result.steps.map((s) => [s.kind, s.status])).toEqual([
      ['delete-node', 'done'],
      ['forget-state', 'done'],
    ]);
    expect(result.plan!.warnings.join('\n')).toContain('a2 does not answer over SSH');
    expect(await nodeNames('s2')).toEqual(['s1', 's2', 's3']);
    expect(k3sInstalled('a2')).toBe(true); // untouched: it was off
  });

  it('a server from 3: allowed (with a warning about 2); K3s stopped first, its etcd member gone, the cluster still answers, the kubeconfig re-pointed', async () => {
    const server = (yaml.load(readFileSync(kubeconfig(), 'utf8')) as { clusters: { name: string; cluster: { server: string } }[] }).clusters.find(
      (c) => c.name === 'lab',
    )!.cluster.server;
    expect(server).toBe(`https://${SUBNET}2:6443`);
    const inventory = inventoryWithout('a1', 'a2', 's1');
    const r = await removeNode(inventory, 's1', '--yes', '--json');
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const result = JSON.parse(r.stdout) as RemoveNodeResult;
    expect(result.via).toBe('s2');
    expect(result.steps.map((s) => [s.kind, s.status])).toEqual([
      ['drain', 'done'],
      ['stop-k3s', 'done'],
      ['delete-node', 'done'],
      ['check-member-gone', 'done'],
      ['uninstall', 'done'],
      ['repoint-kubeconfig', 'done'],
      ['forget-state', 'done'],
    ]);
    expect(result.plan!.warnings.join('\n')).toContain('after this, 2 servers (etcd voters) remain');
    expect((await members('s3')).map((m) => m.name.replace(/-[0-9a-f]{8}$/, ''))).toEqual(['s2', 's3']);
    expect(await nodeNames('s3')).toEqual(['s2', 's3']);
    expect(k3sInstalled('s1')).toBe(false);
    // Stopped before its Node was deleted: a new leader (s2 or s3) was elected and removed the member, not s1 itself.
    const journals = (await Promise.all(['s2', 's3'].map(async (n) => (await suite.lab.node(n).exec('journalctl -u k3s')).stdout))).join('\n');
    expect(journals).toMatch(/etcd leader s1-[0-9a-f]{8} does not answer; s[23]-[0-9a-f]{8} leads term 2/);
    expect(journals).toMatch(/Removing name=s1-[0-9a-f]{8} id=\d+ address=127\.0\.161\.2 from etcd/);
    expect((await suite.lab.node('s1').exec('journalctl -u k3s')).stdout).not.toContain('Removing name=');
    const after = (yaml.load(readFileSync(kubeconfig(), 'utf8')) as { clusters: { name: string; cluster: { server: string } }[] }).clusters.find(
      (c) => c.name === 'lab',
    )!.cluster.server;
    expect(after).toBe(`https://${SUBNET}3:6443`);
  });

  it('a server from 2: refused (the other could not answer alone), nothing touched', async () => {
    const inventory = inventoryWithout('a1', 'a2', 's1');
    const logins = suite.lab.node('s2').sshLogins();
    const r = await removeNode(inventory, 's2', '--yes');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'Refused: removing server s2 would leave 1 of the 2 voting etcd members running while it is stopped, and etcd needs 2 (a majority) to answer',
    );
    expect(r.stdout).toContain('A cluster of 2 servers cannot lose one: add a third server first');
    expect(await nodeNames('s3')).toEqual(['s2', 's3']);
    expect((await members('s2')).length).toBe(2);
    expect((await suite.lab.node('s2').exec('systemctl is-active k3s')).stdout).toBe('active\n');
    expect((await kubectl('s3', 'get node s2 -o json')).stdout).not.toContain('"unschedulable"');
    // The cluster was read on s3; s2 was only dialled (to see whether it answers), no command changed it.
    expect(suite.lab.node('s2').sshLogins() - logins).toBeLessThanOrEqual(1);
  });
});
