import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { UpgradeResult } from '../../cluster/day-two/upgrade-run.js';
import { installerRuns } from '../lab/k3s-standin/server.js';
import { describeLab } from '../lab/skip.js';
import { CLI, runCli, type CliResult } from './cli.js';
import { hasTmux, ShellTerminal } from './terminal.js';
import { CLUSTER_ONLY, remakeAsSqliteServer, useLabCluster } from './lab-cluster.js';

/**
 * `revue-pi upgrade` on the lab: three servers (embedded etcd) and two agents on the K3s STAND-IN, which honours what K3s
 * does when a new version is installed over a running node (test/lab/k3s-standin/README.md, "Upgrade contract"): the
 * installer restarts it with the new binary, its Node then reports the new kubeletVersion, and a restarted etcd member is
 * Unhealthy (EtcdIsVoter=False, /readyz failing) until its etcd has started. In order: refusals (minor skip, downgrade)
 * before any change; up naming the upgrade command; an upgrade killed after its first server; the re-run finishing it.
 */
const SUBNET = '127.0.140.';
const OLD = 'v1.35.2+k3s1';
const NEW = 'v1.36.4+k3s1';
const SERVERS = ['s1', 's2', 's3'];
const ALL = [...SERVERS, 'a1', 'a2'];

describeLab('revue-pi upgrade on a lab cluster of 3 servers and 2 agents', () => {
  const suite = useLabCluster([{ name: 's1' }, { name: 's2' }, { name: 's3' }, { name: 'a1' }, { name: 'a2' }], SUBNET, {
    ...CLUSTER_ONLY,
    k3s: { version: OLD },
    nodes: [
      { name: 's2', role: 'server' },
      { name: 's3', role: 'server' },
    ],
  });
  const kubeconfig = () => join(suite.stateDir, 'kubeconfig');
  const terminals: ShellTerminal[] = [];
  afterEach(() => {
    for (const t of terminals.splice(0)) t.stop();
  });
  let newInventory = '';
  const upgrade = (inventory: string, ...args: string[]) =>
    runCli(['upgrade', '-i', inventory, ...args, '--state-dir', suite.stateDir, '--kubeconfig', kubeconfig()], { timeoutMs: 600_000 });
  type NodeJson = {
    metadata: { name: string; labels: Record<string, string> };
    spec: { unschedulable?: boolean };
    status: { nodeInfo: { kubeletVersion: string }; conditions: { type: string; status: string }[] };
  };
  const nodes = async (): Promise<NodeJson[]> => {
    const r = await suite.lab.node('s1').exec('k3s kubectl get nodes -o json');
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { items: NodeJson[] }).items;
  };
  const versions = async () => Object.fromEntries((await nodes()).map((n) => [n.metadata.name, n.status.nodeInfo.kubeletVersion]));
  const installs = () => ALL.map((n) => installerRuns(suite.lab.node(n)).length);
  const backups = () => (existsSync(join(suite.stateDir, 'backups')) ? readdirSync(join(suite.stateDir, 'backups')).filter((f) => !f.startsWith('.')) : []);
  /** The stand-in leader's EtcdIsVoter changes (etcd.statusLog in the store's copy every etcd server keeps). */
  const statusLog = () =>
    (
      JSON.parse(readFileSync(suite.lab.node('s3').path('/var/lib/rancher/k3s/server/standin-store.json'), 'utf8')) as {
        etcd: { statusLog?: { at: number; node: string; status: string; reason: string }[] };
      }
    ).etcd.statusLog ?? [];

  beforeAll(async () => {
    const up = await suite.up();
    expect(up.code, up.stderr + up.stdout.slice(-2000)).toBe(0);
    newInventory = suite.lab.writeInventory(
      {
        ...CLUSTER_ONLY,
        k3s: { version: NEW, installScriptUrl: suite.installer.url },
        nodes: [
          { name: 's2', role: 'server' },
          { name: 's3', role: 'server' },
        ],
      },
      'inventory-new.yaml',
    );
    // Upgrades count voters: wait for etcd to promote the joined servers.
    const deadline = Date.now() + 60_000;
    while ((await nodes()).some((n) => SERVERS.includes(n.metadata.name) && n.status.conditions.find((c) => c.type === 'EtcdIsVoter')?.status !== 'True')) {
      if (Date.now() > deadline) throw new Error('the servers did not become etcd voters');
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(Object.values(await versions())).toEqual(ALL.map(() => OLD));
  }, 600_000);

  it('refuses a skipped minor version and a downgrade after reading the cluster, before any change (exit 2)', async () => {
    const before = installs();
    const skip = await upgrade(suite.inventory, '--to', 'v1.37.0+k3s1', '--yes');
    expect(skip.code).toBe(2);
    expect(skip.stdout).toContain(
      `Refused: v1.37.0+k3s1 (given with --to) skips a minor version: s1 runs ${OLD}, s2 runs ${OLD}, s3 runs ${OLD}, a1 runs ${OLD}, a2 runs ${OLD}. Kubernetes upgrades one minor version at a time`,
    );
    expect(skip.stdout).toContain(`Upgrade to the newest v1.36 release first (revue-pi upgrade -i ${suite.inventory} --to v1.36.N+k3sM)`);
    const down = await upgrade(suite.inventory, '--to', 'v1.34.1+k3s1', '--yes', '--json');
    expect(down.code).toBe(2);
    expect((JSON.parse(down.stdout) as UpgradeResult).error).toBe(
      `s1 runs ${OLD}, newer than v1.34.1+k3s1 (given with --to): that would be a downgrade, which K3s does not support. Pick a version at least as new, or go back by restoring an etcd snapshot taken before the upgrade (revue-pi backup --list). Nothing was changed.`.replace(
        `s1 runs ${OLD}`,
        ALL.map((n) => `${n} runs ${OLD}`).join(', '),
      ),
    );
    // Nothing ran: no installer, no snapshot, nothing cordoned.
    expect(installs()).toEqual(before);
    expect(backups()).toEqual([]);
    expect((await nodes()).filter((n) => n.spec.unschedulable)).toEqual([]);
    // Without a terminal and without --yes: refused before contacting anything.
    const logins = suite.lab.nodes.map((n) => n.sshLogins());
    const ask = await upgrade(newInventory);
    expect(ask.code).toBe(2);
    expect(ask.stderr).toContain('upgrade restarts K3s on every node, one after the other: run it at a terminal to be asked, or pass --yes');
    expect(suite.lab.nodes.map((n) => n.sshLogins())).toEqual(logins);
  });

  it('up with the new k3s.version changes no node and names the upgrade command; the dry run prints the plan', async () => {
    const up = await runCli(['up', '-i', newInventory, '--yes', '--json', '--state-dir', suite.stateDir, '--kubeconfig', kubeconfig()]);
    expect(up.stdout + up.stderr).toContain(
      `node s2 runs K3s ${OLD}, not ${NEW} as the inventory asks: left as it is (up does not change a node's K3s version). To upgrade the cluster, run: revue-pi upgrade -i ${newInventory} --to ${NEW}`,
    );
    expect(Object.values(await versions())).toEqual(ALL.map(() => OLD));
    const plan = await upgrade(newInventory, '--dry-run');
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain(`revue-pi upgrade of cluster lab to ${NEW} (k3s.version), embedded etcd:\n  1. etcd snapshot on a server`);
    expect(plan.stdout).toContain(`  4. s3 ${OLD} → ${NEW}: cordon, drain`);
    expect(plan.stdout).toContain(`  5. a1 ${OLD} → ${NEW}: cordon`);
    expect(plan.stdout).toContain('(dry run: nothing was changed)');
    expect(backups()).toEqual([]);
  });

  it('at a terminal, up offers the upgrade after its run; yes hands over to revue-pi upgrade, which asks again (Enter: nothing changes)', async () => {
    expect(hasTmux, 'tmux gives a real terminal: apt-get install -y tmux').toBe(true);
    const quoted = [process.execPath, CLI, 'up', '-i', newInventory, '--state-dir', suite.stateDir, '--kubeconfig', kubeconfig()]
      .map((a) => `'${a}'`)
      .join(' ');
    const t = ShellTerminal.start(`{ ${quoted}; echo $? >"$STATUS"; } 2>&1`, { cwd: suite.stateDir, env: { HOME: suite.stateDir } });
    terminals.push(t);
    const offered = await t.waitFor('Upgrade now with revue-pi upgrade', 120_000);
    expect(offered.replace(/\s+/g, ' ')).toContain(`s1, s2, s3, a1, a2 run an older K3s than k3s.version (${NEW}).`);
    t.type('y');
    t.press('Enter');
    // The upgrade took the cluster's lock (up had let go of it), read the cluster and asks with its own plan.
    const asked = await t.waitFor(`to ${NEW}, as planned above?`, 120_000);
    expect(asked).toContain(`revue-pi upgrade of cluster lab to ${NEW}`);
    t.press('Enter');
    expect(await t.status()).toBe(1);
    expect(Object.values(await versions())).toEqual(ALL.map(() => OLD));
    expect(backups()).toEqual([]);
  });

  it('killed after its first server, then run again: it continues there and every node ends at the new version, uncordoned', async () => {
    // Kill it (SIGKILL: no clean-up) as soon as it reports s1 done.
    const killed = await new Promise<CliResult>((resolve) => {
      const child = spawn(process.execPath, [CLI, 'upgrade', '-i', newInventory, '--yes', '--state-dir', suite.stateDir, '--kubeconfig', kubeconfig()], {
        env: { ...process.env, CI: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => {
        stderr += d;
        if (stderr.includes(`✓ s1 upgraded to ${NEW}`)) child.kill('SIGKILL');
      });
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(killed.code, killed.stderr).toBe(null);
    const half = await versions();
    expect(half.s1).toBe(NEW);
    expect([half.a1, half.a2]).toEqual([OLD, OLD]);
    expect(backups().length).toBe(1);

    const resumed = await upgrade(newInventory, '--yes', '--json');
    expect(resumed.code, resumed.stderr + resumed.stdout.slice(-3000)).toBe(0);
    const result = JSON.parse(resumed.stdout) as UpgradeResult;
    if (result.plan?.refused !== undefined) throw new Error(result.plan.refused);
    expect(result.plan!.upToDate).toContain('s1');
    expect(result.nodes.map((n) => n.name)).not.toContain('s1');
    expect(result.nodes.every((n) => n.status === 'done')).toBe(true);
    expect(Object.values(await versions())).toEqual(ALL.map(() => NEW));
    const after = await nodes();
    expect(after.filter((n) => n.spec.unschedulable).map((n) => n.metadata.name)).toEqual([]);
    expect(after.filter((n) => n.metadata.labels['upgrade.revue-pi.io/cordoned'] !== undefined).map((n) => n.metadata.name)).toEqual([]);
    for (const n of ALL) expect((await suite.lab.node(n).exec('k3s --version')).stdout).toContain(`k3s version ${NEW}`);
    expect(backups().length).toBe(2);
    expect(readFileSync(kubeconfig(), 'utf8')).toContain(`server: https://${SUBNET}2:6443`);

    // Servers strictly one at a time, each only once the previous was a healthy etcd voter again: the stand-in's leader
    // saw every restarted server Unhealthy, and the next server was cordoned only after it was True again.
    const log = statusLog();
    const servers = result.nodes.filter((n) => n.role === 'server');
    let previous = 's1';
    for (const s of servers) {
      const cordonedAt = Date.parse(s.startedAt!);
      const changes = log.filter((e) => e.node === previous && e.at < cordonedAt);
      expect(
        changes.some((e) => e.reason === 'Unhealthy'),
        `${previous} was never seen Unhealthy after its restart`,
      ).toBe(true);
      expect(changes.at(-1), `${s.name} was cordoned while ${previous} was not a healthy voter`).toMatchObject({ status: 'True', reason: 'MemberNotLearner' });
      previous = s.name;
    }
    // Again: nothing to do.
    const again = await upgrade(newInventory, '--yes');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`nothing to do: every node runs ${NEW}.`);
  });
});

describeLab('revue-pi upgrade on a single SQLite server and an agent', () => {
  const LONE = '127.0.141.';
  const suite = useLabCluster([{ name: 'pi' }, { name: 'ag' }], LONE, {
    ...CLUSTER_ONLY,
    k3s: { version: OLD },
    nodes: [{ name: 'ag', role: 'agent' }],
  });

  beforeAll(async () => {
    const up = await suite.up();
    expect(up.code, up.stderr + up.stdout.slice(-2000)).toBe(0);
    // up makes every new cluster on embedded etcd: re-make the server as an older revue-pi left it (SQLite), and let the
    // agent register with it again.
    await remakeAsSqliteServer(suite.lab.node('pi'), suite.installer.url, OLD);
    const restarted = await suite.lab.node('ag').exec('systemctl restart k3s-agent');
    expect(restarted.code, restarted.stderr).toBe(0);
    const ready = await suite.lab
      .node('pi')
      .exec(
        `for i in $(seq 1 60); do [ "$(k3s kubectl get nodes 2>/dev/null | grep -c ' Ready ')" = 2 ] && exit 0; sleep 1; done; k3s kubectl get nodes; exit 1`,
      );
    expect(ready.code, ready.stdout + ready.stderr).toBe(0);
  }, 600_000);

  it('says what it cannot guarantee (no snapshot, the API down during the restart), then upgrades both nodes', async () => {
    const kubeconfig = join(suite.stateDir, 'kubeconfig');
    const r = await runCli(['upgrade', '-i', suite.inventory, '--to', NEW, '--yes', '--state-dir', suite.stateDir, '--kubeconfig', kubeconfig], {
      timeoutMs: 600_000,
    });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain(`revue-pi upgrade of cluster lab to ${NEW} (--to), SQLite:\n  servers, one at a time:\n  1. pi ${OLD} → ${NEW}`);
    expect(r.stdout).toContain(
      'Not guaranteed: cluster lab keeps its state in SQLite on its single server, not in embedded etcd: no snapshot can be taken first',
    );
    expect(r.stdout).toContain("Not guaranteed: the cluster's API is down while that server restarts with the new version");
    expect(r.stdout).toContain(`Cluster lab runs ${NEW} on every node`);
    expect(existsSync(join(suite.stateDir, 'backups'))).toBe(false);
    const list = await suite.lab.node('pi').exec('k3s kubectl get nodes -o json');
    const items = (JSON.parse(list.stdout) as { items: { metadata: { name: string }; status: { nodeInfo: { kubeletVersion: string } } }[] }).items;
    expect(Object.fromEntries(items.map((n) => [n.metadata.name, n.status.nodeInfo.kubeletVersion]))).toEqual({ ag: NEW, pi: NEW });
  });
});
