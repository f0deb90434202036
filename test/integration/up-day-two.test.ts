import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { RunReport } from '../../core/report.js';
import { DEFAULT_K3S_VERSION } from '../../core/inventory/schema.js';
import { installerRuns } from '../lab/k3s-standin/server.js';
import { describeLab } from '../lab/skip.js';
import { CLI, runCli } from './cli.js';
import { CLUSTER_ONLY, remakeAsSqliteServer, useLabCluster, type LabCluster } from './lab-cluster.js';
import { hasTmux, ShellTerminal } from './terminal.js';

/**
 * What issue 16 changes in `revue-pi up` on a cluster that already exists, on the lab's K3s STAND-IN (its README,
 * "Day-two contract"): new clusters start with cluster-init even with one server, an existing SQLite server is left
 * alone (and said so) until asked, and a wiped first server joins the servers that still run instead of founding a
 * second cluster.
 */
const report = (stdout: string) => JSON.parse(stdout) as RunReport;
const warningsOf = (r: RunReport, node: string) => r.nodes.find((n) => n.name === node)?.warnings ?? [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const terminals: ShellTerminal[] = [];
afterEach(() => {
  for (const t of terminals.splice(0)) t.stop();
});

async function members(suite: LabCluster, server: string) {
  const r = await suite.lab.node(server).exec('k3s kubectl get --raw /db/info');
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { members: { name: string; isLearner?: boolean }[] }).members;
}

async function votersSettled(suite: LabCluster, server: string, count: number) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const list = await members(suite, server);
    if ((list.length === count && list.every((m) => !m.isLearner)) || Date.now() > deadline) return list;
    await sleep(500);
  }
}

async function nodeNames(suite: LabCluster, server: string) {
  const r = await suite.lab.node(server).exec('k3s kubectl get nodes -o name');
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim().split('\n').sort();
}

describeLab('up on a single server: cluster-init for new clusters; an existing SQLite server is left alone, migrated only on request', () => {
  const SUBNET = '127.0.181.';
  // other and stray make a second cluster for the last test; this suite's inventory leaves them out.
  const suite = useLabCluster([{ name: 'solo' }, { name: 'other' }, { name: 'stray' }], SUBNET, {
    ...CLUSTER_ONLY,
    nodes: [
      { name: 'solo', role: 'server' },
      { name: 'other', omit: true },
      { name: 'stray', omit: true },
    ],
  });
  const node = () => suite.lab.node('solo');
  const DB = '/var/lib/rancher/k3s/server/db';

  it('a new one-server cluster starts with cluster-init: embedded etcd, so backup and a second server work', async () => {
    const r = await suite.up();
    expect(r.code, r.stderr + r.stdout.slice(-2000)).toBe(0);
    expect(readFileSync(node().path('/etc/rancher/k3s/config.yaml'), 'utf8')).toContain('cluster-init: true\n');
    expect(existsSync(node().path(`${DB}/etcd/member`))).toBe(true);
    expect(existsSync(node().path(`${DB}/state.db`))).toBe(false);
  });

  it('a SQLite server made before (no cluster-init): up changes nothing and says what it cannot do; status says so too', async () => {
    // What revue-pi wrote for one server before: the same config.yaml without cluster-init, on a server with fresh data.
    await remakeAsSqliteServer(node(), suite.installer.url);
    expect(existsSync(node().path(`${DB}/state.db`))).toBe(true);
    const runs = installerRuns(node()).length;
    const restarts = (await node().exec('journalctl -u k3s --no-pager | grep -c "Starting k3s" || true')).stdout.trim();

    const r = await suite.up();
    expect(r.code, r.stderr + r.stdout.slice(-2000)).toBe(0);
    // The server was re-made (a new CA), so only the kubeconfig is merged again: no K3s change.
    expect(
      report(r.stdout)
        .nodes[0]!.steps.flatMap((s) => s.changes)
        .filter((c) => !c.startsWith('merged context')),
    ).toEqual([]);
    expect(warningsOf(report(r.stdout), 'solo').join('\n')).toContain(
      'node solo: SQLite datastore: backups and more servers need embedded etcd, and server solo keeps this cluster in SQLite',
    );
    expect(installerRuns(node()).length).toBe(runs);
    expect((await node().exec('journalctl -u k3s --no-pager | grep -c "Starting k3s" || true')).stdout.trim()).toBe(restarts);
    expect(readFileSync(node().path('/etc/rancher/k3s/config.yaml'), 'utf8')).not.toContain('cluster-init');

    const status = await runCli(['status', '-i', suite.inventory, '--json', '--state-dir', suite.stateDir, '--kubeconfig', join(suite.stateDir, 'kubeconfig')]);
    const s = JSON.parse(status.stdout) as { notes: string[]; nodes: { name: string; datastore: string | null }[] };
    expect(s.nodes[0]!.datastore).toBe('sqlite');
    expect(s.notes.join('\n')).toContain('set k3s.datastore: etcd in the inventory (or add servers to it) and run revue-pi up');
    const backup = await runCli(['backup', '-i', suite.inventory, '--state-dir', suite.stateDir], { timeoutMs: 120_000 });
    expect(backup.code).toBe(1);
    expect(backup.stderr).toContain('set k3s.datastore: etcd in the inventory and run revue-pi up');
  });

  it('k3s.datastore: etcd: up restarts it with cluster-init (said in the plan) and K3s moves SQLite into etcd', async () => {
    const inventory = suite.lab.writeInventory(
      {
        ...CLUSTER_ONLY,
        nodes: [
          { name: 'solo', role: 'server' },
          { name: 'other', omit: true },
          { name: 'stray', omit: true },
        ],
        k3s: { installScriptUrl: suite.installer.url, datastore: 'etcd' },
      },
      'inventory-etcd.yaml',
    );
    const r = await runCli(['up', '-i', inventory, '--yes', '--json', '--state-dir', suite.stateDir, '--kubeconfig', join(suite.stateDir, 'kubeconfig')]);
    expect(r.code, r.stderr + r.stdout.slice(-2000)).toBe(0);
    const steps = report(r.stdout).nodes[0]!.steps.flatMap((s) => s.changes);
    expect(steps).toContain(
      'write /etc/rancher/k3s/config.yaml: differs from the inventory in cluster-init (K3s moves its SQLite datastore into embedded etcd when it restarts)',
    );
    expect(existsSync(node().path(`${DB}/state.db.migrated`))).toBe(true);
    expect(existsSync(node().path(`${DB}/etcd/member`))).toBe(true);
  });

  it('a node of another cluster is refused, naming it and what to do; adopt: true moves an agent on purpose', async () => {
    const state = (name: string) => ['--state-dir', join(suite.stateDir, name), '--kubeconfig', join(suite.stateDir, name, 'kubeconfig')];
    // Cluster "elsewhere": other (server) and stray (agent), with a state directory of its own.
    const elsewhere = suite.lab.writeInventory(
      {
        ...CLUSTER_ONLY,
        cluster: { name: 'elsewhere' },
        k3s: { installScriptUrl: suite.installer.url },
        nodes: [
          { name: 'solo', omit: true },
          { name: 'other', role: 'server' },
          { name: 'stray', role: 'agent' },
        ],
      },
      'inventory-elsewhere.yaml',
    );
    const made = await runCli(['up', '-i', elsewhere, '--yes', '--json', ...state('elsewhere')]);
    expect(made.code, made.stderr + made.stdout.slice(-2000)).toBe(0);

    const withStray = (adopt: boolean, file: string) =>
      suite.lab.writeInventory(
        {
          ...CLUSTER_ONLY,
          k3s: { installScriptUrl: suite.installer.url },
          nodes: [
            { name: 'solo', role: 'server' },
            { name: 'other', omit: true },
            { name: 'stray', role: 'agent', ...(adopt ? { adopt: true } : {}) },
          ],
        },
        file,
      );
    const strayConfig = () => readFileSync(suite.lab.node('stray').path('/etc/rancher/k3s/config.yaml'), 'utf8');
    const before = strayConfig();
    const refused = await runCli(['up', '-i', withStray(false, 'inventory-stray.yaml'), '--yes', '--json', ...state('')]);
    expect(refused.code).toBe(1);
    expect(report(refused.stdout).nodes.find((n) => n.name === 'stray')!.error).toBe(
      `node stray already belongs to another K3s cluster (its K3s joins https://${suite.lab.node('other').address}:6443), not to cluster lab: revue-pi left it alone. ` +
        'If it is meant to move here, set adopt: true on it in the inventory (nodes[].adopt; up then rewrites its settings and token and restarts it, and it leaves the other cluster, where its Node object stays until removed there); otherwise take it out of this inventory.',
    );
    expect(strayConfig()).toBe(before);
    expect((await suite.lab.node('other').exec('k3s kubectl get node stray -o name')).stdout).toBe('node/stray\n');

    const adopted = await runCli(['up', '-i', withStray(true, 'inventory-stray-adopt.yaml'), '--yes', '--json', ...state('')]);
    expect(adopted.code, adopted.stderr + adopted.stdout.slice(-2000)).toBe(0);
    expect(strayConfig()).toContain(`server: https://${suite.lab.node('solo').address}:6443\n`);
    expect((await suite.lab.node('solo').exec('k3s kubectl get node stray -o name')).stdout).toBe('node/stray\n');
  });
});

describeLab('up on an HA cluster after its first server was wiped: it joins the live servers, one cluster', () => {
  const SUBNET = '127.0.180.';
  const suite = useLabCluster([{ name: 's1' }, { name: 's2' }, { name: 's3' }, { name: 'a1' }, { name: 'a2' }], SUBNET, {
    ...CLUSTER_ONLY,
    nodes: [
      { name: 's2', role: 'server' },
      { name: 's3', role: 'server' },
    ],
  });

  beforeAll(async () => {
    const r = await suite.up();
    expect(r.code, r.stderr + r.stdout.slice(-2000)).toBe(0);
    expect((await votersSettled(suite, 's1', 3)).map((m) => m.isLearner ?? false)).toEqual([false, false, false]);
  }, 600_000);

  it('wiped with the uninstall script, s1 is not joined without --replace-node s1 (no terminal to ask): nothing deleted, the report names the flag', async () => {
    const before = (await members(suite, 's2')).map((m) => m.name);
    const stale = before.find((m) => m.startsWith('s1-'))!;
    const wipe = await suite.lab.node('s1').exec('/usr/local/bin/k3s-uninstall.sh');
    expect(wipe.code, wipe.stderr).toBe(0);

    // --yes answers the plan, never this deletion: it is asked for on its own, and no terminal can ask here.
    const r = await suite.up();
    expect(r.code, r.stderr + r.stdout.slice(-2000)).toBe(1);
    const kept =
      `server s1 was wiped, and the cluster still holds its old Node and etcd member ${stale} on s2; K3s refuses it a new member under the same name ("duplicate node name found") until they are deleted, ` +
      'and up deletes them only with your consent: nothing was deleted and s1 was not joined. ' +
      `To delete them and join s1, run: revue-pi up -i ${suite.inventory} --replace-node s1 (add --yes where no terminal can ask), or run up at a terminal and type the cluster name when it asks.`;
    const nodes = report(r.stdout).nodes;
    expect(nodes.find((n) => n.name === 's1')!.error).toBe(kept);
    expect(nodes.filter((n) => n.name !== 's1').map((n) => n.error)).toEqual(['s2', 's3', 'a1', 'a2'].map(() => `first server s1 failed: ${kept}`));
    expect((await members(suite, 's2')).map((m) => m.name)).toEqual(before);
    expect(await nodeNames(suite, 's2')).toContain('node/s1');
    expect(existsSync(suite.lab.node('s1').path('/etc/rancher/k3s/config.yaml'))).toBe(false);
    expect(existsSync(suite.lab.node('s1').path('/usr/local/bin/k3s'))).toBe(false);
  });

  it('at a terminal, the plan lists that deletion as asked for on its own; up then asks for it right before, and Enter keeps it', async () => {
    expect(hasTmux, 'tmux gives a real terminal: apt-get install -y tmux').toBe(true);
    const before = (await members(suite, 's2')).map((m) => m.name);
    const stale = before.find((m) => m.startsWith('s1-'))!;
    const args = ['up', '-i', suite.inventory, '--state-dir', suite.stateDir, '--kubeconfig', join(suite.stateDir, 'kubeconfig')];
    const quoted = [process.execPath, CLI, ...args].map((a) => `'${a}'`).join(' ');
    const t = ShellTerminal.start(`{ ${quoted}; echo $? >"$STATUS"; } 2>&1`, { cwd: suite.stateDir, env: { HOME: suite.stateDir } });
    terminals.push(t);
    const plan = await t.waitFor('Apply these changes?', 90_000);
    expect(plan).toContain(
      'remove Node s1 and its stale etcd member on s2, if it still lists one (left when s1 was wiped; K3s refuses a new member under the same name) — asked for on its own right before, done only if you type the cluster name then (or pass --replace-node s1)',
    );
    t.type('y');
    t.press('Enter');
    const asked = await t.waitFor(`To delete Node s1 and etcd member ${stale} on s2, type the cluster name (lab):`, 90_000);
    expect(asked).toContain(`Server s1 was wiped, and the cluster still holds its old Node s1 and its etcd member ${stale}, on server s2.`);
    t.press('Enter');
    expect(await t.status()).toBe(1);
    expect(t.screen()).toContain(`run: revue-pi up -i ${suite.inventory} --replace-node s1`);
    expect((await members(suite, 's2')).map((m) => m.name)).toEqual(before);
    expect(existsSync(suite.lab.node('s1').path('/etc/rancher/k3s/config.yaml'))).toBe(false);
  });

  it('with --replace-node s1, s1 re-joins s2 (no cluster-init) after its stale etcd member is removed: one member list of 3 voters', async () => {
    const before = (await members(suite, 's2')).map((m) => m.name);
    // Wiped in the test before (and left so by the run without consent).
    expect(existsSync(suite.lab.node('s1').path('/usr/local/bin/k3s'))).toBe(false);

    const plan = await runCli(['plan', '-i', suite.inventory, '--json', '--state-dir', suite.stateDir, '--kubeconfig', join(suite.stateDir, 'kubeconfig')]);
    expect(plan.code, plan.stderr).toBe(0);
    const stale = before.find((m) => m.startsWith('s1-'))!;
    expect(
      report(plan.stdout)
        .nodes.find((n) => n.name === 's1')!
        .steps.filter((s) => s.phase === 'cluster')
        .flatMap((s) => s.changes),
    ).toEqual([
      `remove Node s1 and its stale etcd member ${stale} on s2 (left when s1 was wiped; K3s refuses a new member under the same name) — asked for on its own right before, done only if you type the cluster name then (or pass --replace-node s1)`,
      'write the cluster token file (/etc/rancher/k3s/revue-pi-token)',
      'write /etc/rancher/k3s/config.yaml: node settings from the inventory',
      `install K3s server ${DEFAULT_K3S_VERSION} and join https://${suite.lab.node('s2').address}:6443`,
    ]);

    const r = await suite.up('--replace-node', 's1');
    expect(r.code, r.stderr + r.stdout.slice(-2000)).toBe(0);
    expect(
      report(r.stdout)
        .nodes.find((n) => n.name === 's1')!
        .steps.flatMap((s) => s.changes)[0],
    ).toBe(
      `removed Node s1 and its stale etcd member ${stale} on s2 (left when s1 was wiped; K3s refuses a new member under the same name), with your consent (--replace-node s1)`,
    );
    const config = readFileSync(suite.lab.node('s1').path('/etc/rancher/k3s/config.yaml'), 'utf8');
    expect(config).toContain(`server: https://${suite.lab.node('s2').address}:6443\n`);
    expect(config).not.toContain('cluster-init');
    // One cluster: every server lists the same 3 voters (s1 under a new member name) and the same nodes.
    const after = await votersSettled(suite, 's2', 3);
    expect(after.map((m) => m.isLearner ?? false)).toEqual([false, false, false]);
    expect(after.map((m) => m.name)).not.toContain(stale);
    expect(after.filter((m) => m.name.startsWith('s1-'))).toHaveLength(1);
    for (const server of ['s1', 's3']) expect((await members(suite, server)).map((m) => m.name).sort()).toEqual(after.map((m) => m.name).sort());
    expect(await nodeNames(suite, 's1')).toEqual(await nodeNames(suite, 's3'));
    expect(await nodeNames(suite, 's1')).toEqual(['node/a1', 'node/a2', 'node/s1', 'node/s2', 'node/s3']);

    // Converged: a second run changes nothing (the joined first server keeps its server: line).
    const again = await suite.up();
    expect(again.code, again.stderr).toBe(0);
    expect(report(again.stdout).nodes.map((n) => [n.name, n.status])).toEqual([
      ['s1', 'unchanged'],
      ['s2', 'unchanged'],
      ['s3', 'unchanged'],
      ['a1', 'unchanged'],
      ['a2', 'unchanged'],
    ]);
  });

  it('labels and taints of a joined node change through the API: no K3s restart; only what revue-pi set is removed', async () => {
    const servers = [
      { name: 's2', role: 'server' },
      { name: 's3', role: 'server' },
    ];
    const withA1 = (a1: Record<string, unknown>, file: string) =>
      suite.lab.writeInventory({ ...CLUSTER_ONLY, k3s: { installScriptUrl: suite.installer.url }, nodes: [...servers, { name: 'a1', ...a1 }] }, file);
    const starts = async () => (await suite.lab.node('a1').exec('journalctl -u k3s-agent --no-pager | grep -c "Starting k3s agent" || true')).stdout.trim();
    const a1 = async () => {
      const r = await suite.lab.node('s2').exec('k3s kubectl get node a1 -o json');
      expect(r.code, r.stderr).toBe(0);
      const n = JSON.parse(r.stdout) as { metadata: { labels: Record<string, string> }; spec: { taints?: { key: string; value?: string; effect: string }[] } };
      return { labels: n.metadata.labels, taints: n.spec.taints ?? [] };
    };
    const upWith = (inventory: string) =>
      runCli(['up', '-i', inventory, '--yes', '--json', '--state-dir', suite.stateDir, '--kubeconfig', join(suite.stateDir, 'kubeconfig')]);
    const before = await starts();
    const runs = installerRuns(suite.lab.node('a1')).length;

    const first = await upWith(withA1({ labels: { tier: 'one', zone: 'a' }, taints: ['dedicated=db:NoSchedule'] }, 'inventory-labels-1.yaml'));
    expect(first.code, first.stderr + first.stdout.slice(-2000)).toBe(0);
    expect(
      report(first.stdout)
        .nodes.find((n) => n.name === 'a1')!
        .steps.filter((s) => s.phase === 'cluster')
        .flatMap((s) => s.changes),
    ).toEqual([
      'write /etc/rancher/k3s/config.yaml: differs from the inventory in node-label, node-taint (K3s reads them only when a node registers: set through the API, no restart)',
      'set labels tier=one, zone=a through the API (no restart)',
      'set taint dedicated=db:NoSchedule through the API (no restart)',
    ]);
    expect(await a1()).toMatchObject({ labels: { tier: 'one', zone: 'a' }, taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] });

    // Someone else's label stays; the inventory's changed value, removed label and removed taint follow the inventory.
    expect((await suite.lab.node('s2').exec('k3s kubectl label node a1 team=ops')).code).toBe(0);
    const second = await upWith(withA1({ labels: { tier: 'two' } }, 'inventory-labels-2.yaml'));
    expect(second.code, second.stderr + second.stdout.slice(-2000)).toBe(0);
    const now = await a1();
    expect([now.labels['tier'], now.labels['zone'], now.labels['team'], now.taints]).toEqual(['two', undefined, 'ops', []]);
    expect(await starts()).toBe(before);
    expect(installerRuns(suite.lab.node('a1')).length).toBe(runs);

    const again = await upWith(withA1({ labels: { tier: 'two' } }, 'inventory-labels-2.yaml'));
    expect(again.code, again.stderr).toBe(0);
    expect(report(again.stdout).nodes.map((n) => n.status)).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged', 'unchanged']);
  });

  it('a node taken out of the inventory: up leaves it in the cluster and names the remove-node command; plan says so too', async () => {
    const without = suite.lab.writeInventory(
      {
        ...CLUSTER_ONLY,
        k3s: { installScriptUrl: suite.installer.url },
        nodes: [
          { name: 's2', role: 'server' },
          { name: 's3', role: 'server' },
          { name: 'a1', labels: { tier: 'two' } },
          { name: 'a2', omit: true },
        ],
      },
      'inventory-without-a2.yaml',
    );
    const args = ['-i', without, '--state-dir', suite.stateDir, '--kubeconfig', join(suite.stateDir, 'kubeconfig')];
    const planned = await runCli(['plan', '--json', ...args]);
    expect(planned.code, planned.stderr).toBe(0);
    expect(report(planned.stdout).k3s?.notInInventory).toEqual(['a2']);
    const r = await runCli(['up', '--yes', ...args]);
    expect(r.code, r.stderr + r.stdout.slice(-2000)).toBe(0);
    expect(r.stdout).toContain(
      `Not in the inventory, left in the cluster; to remove (asks first):\n  revue-pi remove-node a2 -i ${without} --state-dir ${suite.stateDir}\n`,
    );
    expect(r.stdout + r.stderr).toContain('cluster lab still has node a2, which the inventory no longer lists; up leaves it as it is.');
    expect(await nodeNames(suite, 's2')).toContain('node/a2');
    expect((await suite.lab.node('a2').exec('systemctl is-active k3s-agent')).stdout).toBe('active\n');
  });
});
