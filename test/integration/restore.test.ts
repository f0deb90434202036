import { spawn } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { BackupResult } from '../../cluster/day-two/backup-run.js';
import type { RestoreResult } from '../../cluster/day-two/restore-run.js';
import { describeLab } from '../lab/skip.js';
import { CLI, runCli, type CliResult } from './cli.js';
import { ShellTerminal, hasTmux } from './terminal.js';
import { CLUSTER_ONLY, useLabCluster } from './lab-cluster.js';

/**
 * `revue-pi restore` on the lab: three servers (embedded etcd) and an agent on the K3s STAND-IN, whose
 * `k3s server --cluster-reset --cluster-reset-restore-path` honours the contract in test/lab/k3s-standin/README.md
 * ("Cluster reset and restore"). The tests run in order: refusals that change nothing, the dry run, then a backup's data
 * changed and deleted and put back by the restore.
 */
const SUBNET = '127.0.150.';

describeLab('revue-pi restore on a lab cluster of 3 servers and 1 agent', () => {
  const suite = useLabCluster([{ name: 's1' }, { name: 's2' }, { name: 's3' }, { name: 'a1' }], SUBNET, {
    ...CLUSTER_ONLY,
    nodes: [
      { name: 's2', role: 'server' },
      { name: 's3', role: 'server' },
    ],
  });
  const restore = (...args: string[]) => runCli(['restore', ...args, '-i', suite.inventory, '--state-dir', suite.stateDir], { timeoutMs: 600_000 });
  const kubectl = (args: string, on = 's1') => suite.lab.node(on).exec(`k3s kubectl ${args}`);
  const members = async (on = 's1') =>
    (JSON.parse((await kubectl('get --raw /db/info', on)).stdout) as { members: { name: string; isLearner?: boolean }[] }).members;
  /** After a restore: one etcd voter per server (no learner), every server Ready and a voter, the agent Ready. */
  const expectEveryServerAVoterAndEveryNodeReady = async () => {
    const list = await members();
    expect(list.map((m) => m.name.replace(/-[0-9a-f]{8}$/, '')).sort()).toEqual(['s1', 's2', 's3']);
    expect(list.filter((m) => m.isLearner)).toEqual([]);
    const nodes = JSON.parse((await kubectl('get nodes -o json')).stdout) as {
      items: { metadata: { name: string }; status: { conditions: { type: string; status: string }[] } }[];
    };
    const conditions = Object.fromEntries(nodes.items.map((n) => [n.metadata.name, n.status.conditions.map((c) => `${c.type}=${c.status}`).join(',')]));
    expect(conditions).toEqual({
      s1: 'Ready=True,EtcdIsVoter=True',
      s2: 'Ready=True,EtcdIsVoter=True',
      s3: 'Ready=True,EtcdIsVoter=True',
      a1: 'Ready=True',
    });
  };
  const configMap = async (name: string) => {
    const r = await kubectl(`get configmap ${name} -n default -o json`);
    return r.code === 0 ? (JSON.parse(r.stdout) as { data: Record<string, string> }).data : undefined;
  };
  const applyConfigMap = async (name: string, value: string) => {
    const r = await suite.lab
      .node('s1')
      .exec(
        `printf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  name: ${name}\\n  namespace: default\\ndata:\\n  value: ${value}\\n' > /tmp/${name}.yaml && k3s kubectl apply -f /tmp/${name}.yaml`,
      );
    expect(r.code, r.stderr).toBe(0);
  };
  const active = async () =>
    Promise.all(
      ['s1', 's2', 's3', 'a1'].map(async (n) =>
        (await suite.lab.node(n).exec('systemctl is-active k3s k3s-agent 2>/dev/null | grep -c ^active')).stdout.trim(),
      ),
    );
  const sudoLog = () => ['s1', 's2', 's3', 'a1'].map((n) => readFileSync(suite.lab.node(n).path('/var/log/sudo.log'), 'utf8').length);
  let backupName = '';

  beforeAll(async () => {
    const up = await suite.up('--yes');
    expect(up.code, up.stderr + up.stdout.slice(-2000)).toBe(0);
    const deadline = Date.now() + 60_000;
    while ((await members()).some((m) => m.isLearner) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    await applyConfigMap('restore-marker', 'before-backup');
    const b = await runCli(['backup', '-i', suite.inventory, '--state-dir', suite.stateDir, '--json'], { timeoutMs: 180_000 });
    expect(b.code, b.stderr + b.stdout).toBe(0);
    backupName = (JSON.parse(b.stdout) as BackupResult).backup!.name;
  }, 600_000);

  it('without a terminal and without --yes: exit 2 before contacting any node', async () => {
    const before = sudoLog();
    const r = await restore(backupName);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('restore replaces everything in cluster lab with the snapshot');
    expect(r.stderr).toContain('Nothing was contacted. Run it at a terminal, or pass --yes');
    expect(sudoLog()).toEqual(before);
    expect(await active()).toEqual(['1', '1', '1', '1']);
  });

  it('an unknown backup: exit 2, naming the backups there', async () => {
    const r = await restore('revue-pi-s1-1000000000', '--yes');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`there is no backup revue-pi-s1-1000000000 in ${join(suite.stateDir, 'backups')}. Backups there: ${backupName}.`);
  });

  it('a backup saved with another token is refused, saying why, and nothing changes', async () => {
    // A backup folder as another cluster's would be: its own token, the manifest's sha256 matching it.
    const other = join(suite.stateDir, 'other-token-backup');
    cpSync(join(suite.stateDir, 'backups', backupName), other, { recursive: true });
    const token = `K10${'ab'.repeat(32)}::server:${'0'.repeat(64)}\n`;
    writeFileSync(join(other, 'token'), token, { mode: 0o600 });
    const manifest = JSON.parse(readFileSync(join(other, 'backup.json'), 'utf8')) as { files: Record<string, { sha256: string; size: number }> };
    manifest.files.token = { ...manifest.files.token!, sha256: createHash('sha256').update(token).digest('hex'), size: token.length };
    writeFileSync(join(other, 'backup.json'), JSON.stringify(manifest), { mode: 0o600 });

    const r = await restore(other, '--yes');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`Refused: backup ${backupName} was saved with another server token than the one s1 runs with now`);
    expect(r.stdout).toContain('bootstrap data already found and encrypted with different token');
    expect(await active()).toEqual(['1', '1', '1', '1']);
    expect(await configMap('restore-marker')).toEqual({ value: 'before-backup' });
  });

  it('at a terminal it shows the plan and asks for the cluster name on its own; another answer changes nothing', async () => {
    expect(hasTmux, 'tmux gives up a real terminal: apt-get install -y tmux').toBe(true);
    const out = join(suite.stateDir, 'restore-tee.out');
    const quoted = [process.execPath, CLI, 'restore', backupName, '-i', suite.inventory, '--state-dir', suite.stateDir].map((a) => `'${a}'`).join(' ');
    const t = ShellTerminal.start(`{ ${quoted}; echo $? >"$STATUS"; } 2>&1 | tee '${out}'`, { cwd: suite.stateDir, env: { HOME: suite.stateDir } });
    try {
      const screen = await t.waitFor('To restore, type the cluster name (lab):', 120_000);
      expect(screen).toContain('Lost for good:');
      t.type('yes');
      t.press('Enter');
      expect(await t.status()).toBe(1);
    } finally {
      t.stop();
    }
    expect(readFileSync(out, 'utf8')).toContain('not confirmed: nothing was changed.');
    expect(await active()).toEqual(['1', '1', '1', '1']);
  });

  it('--dry-run prints the plan, with what is lost and kept, and changes nothing', async () => {
    const r = await restore(backupName, '--dry-run');
    expect(r.code, r.stderr).toBe(0);
    const path = `/var/lib/rancher/k3s/server/db/snapshots/${backupName}`;
    const run = /naming the backup and run (\d{8}T\d{6}Z)/.exec(r.stdout)?.[1] ?? 'no run stamp in the plan';
    expect(r.stdout).toContain(
      [
        '  1. stop K3s on agent a1 (systemctl stop k3s-agent)',
        '  2. stop K3s on server s2 (systemctl stop k3s)',
        '  3. stop K3s on server s3 (systemctl stop k3s)',
        '  4. stop K3s on server s1 (systemctl stop k3s)',
        `  5. on s1: write /var/lib/rancher/k3s/server/revue-pi-restore.json (0600) naming the backup and run ${run}, so that a re-run of an interrupted restore continues where it stopped`,
        `  6. on s1: timeout -k 10 600 k3s server --cluster-reset --cluster-reset-restore-path=${path} — restores the snapshot as a one-member etcd cluster and exits`,
        '  7. start K3s on s1 (systemctl start k3s); wait until it is Ready and EtcdIsVoter=True',
      ].join('\n'),
    );
    expect(r.stdout).toMatch(/ {2}8\. on s2: move \/var\/lib\/rancher\/k3s\/server\/db to \/var\/lib\/rancher\/k3s\/server\/db-before-restore-\d{8}T\d{6}Z\n/);
    expect(r.stdout).toContain('Lost for good:\n  - everything cluster lab stored after');
    expect(r.stdout).toContain('(dry run: nothing was changed)');
    expect(await active()).toEqual(['1', '1', '1', '1']);
  });

  it('restores: data changed and deleted since the backup is back, 3 servers voters and Ready, the agent Ready', async () => {
    await kubectl('delete configmap restore-marker -n default');
    await applyConfigMap('after-backup', 'gone-after-restore');
    expect(await configMap('restore-marker')).toBeUndefined();

    const r = await restore(backupName, '--yes', '--json');
    expect(r.code, r.stderr + r.stdout.slice(-3000)).toBe(0);
    // The data first: what a restore is for.
    expect(await configMap('restore-marker')).toEqual({ value: 'before-backup' });
    expect(await configMap('after-backup')).toBeUndefined();
    const result = JSON.parse(r.stdout) as RestoreResult;
    expect(result.steps.map((s) => `${s.kind}${s.node ? ` ${s.node}` : ''}:${s.status}`)).toEqual([
      'stop-agent a1:done',
      'stop-server s2:done',
      'stop-server s3:done',
      'stop-server s1:done',
      'record-run s1:done',
      'cluster-reset s1:done',
      'start-first-server s1:done',
      'move-db-aside s2:done',
      'start-server s2:done',
      'move-db-aside s3:done',
      'start-server s3:done',
      'start-agent a1:done',
      'check:done',
      'clear-record s1:done',
    ]);
    await expectEveryServerAVoterAndEveryNodeReady();
    // Moved aside, not deleted: s1's old etcd data (by K3s), s2's and s3's db/ (by revue-pi); the reset flag is gone.
    expect((await suite.lab.node('s1').exec('ls /var/lib/rancher/k3s/server/db')).stdout).toMatch(/^etcd\netcd-old-\d+\nsnapshots\n$/);
    for (const s of ['s2', 's3']) expect((await suite.lab.node(s).exec('ls -d /var/lib/rancher/k3s/server/db-before-restore-*/etcd')).code).toBe(0);
    // The API answers on the other servers too, with the restored data.
    expect((await kubectl('get configmap restore-marker -n default -o name', 's3')).stdout).toBe('configmap/restore-marker\n');
  }, 420_000);

  it('killed once s2 was moved aside and starting, then run again: it finishes without resetting s1 a second time or moving a db twice', async () => {
    await kubectl('delete configmap restore-marker -n default');
    await applyConfigMap('after-backup', 'gone-after-restore');
    // Each reset from a snapshot moves s1's db/etcd to db/etcd-old-<unix time> (K3s Restore()): their count counts resets.
    const resets = async () => Number((await suite.lab.node('s1').exec('ls -d /var/lib/rancher/k3s/server/db/etcd-old-* 2>/dev/null | wc -l')).stdout.trim());
    const resetsBefore = await resets();
    const asideBefore = (await suite.lab.node('s2').exec('ls -d /var/lib/rancher/k3s/server/db-before-restore-*')).stdout;

    // SIGKILL (no clean-up) as soon as it announces s2's start: s1 is reset and running, s2's db/ is moved aside.
    const killed = await new Promise<CliResult>((resolve) => {
      const child = spawn(process.execPath, [CLI, 'restore', backupName, '--yes', '-i', suite.inventory, '--state-dir', suite.stateDir], {
        env: { ...process.env, CI: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => {
        stderr += d;
        if (/\d+\/\d+ start K3s on s2; it rejoins/.test(stderr)) child.kill('SIGKILL');
      });
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(killed.code, killed.stderr).toBe(null);
    expect(await resets()).toBe(resetsBefore + 1);
    const s2Aside = (await suite.lab.node('s2').exec('ls -d /var/lib/rancher/k3s/server/db-before-restore-*')).stdout;
    expect(s2Aside.length).toBeGreaterThan(asideBefore.length);
    expect((await suite.lab.node('s1').exec('cat /var/lib/rancher/k3s/server/revue-pi-restore.json')).stdout).toContain('"reset":"done"');

    // The plan of the re-run says what is done and what remains.
    const plan = await restore(backupName, '--dry-run');
    expect(plan.code, plan.stderr + plan.stdout).toBe(0);
    expect(plan.stdout).toMatch(/Already done by an interrupted run of this restore \(run \d{8}T\d{6}Z\):\n {2}- s1 was reset from snapshot /);
    expect(plan.stdout).toContain("  - s2's /var/lib/rancher/k3s/server/db was moved to /var/lib/rancher/k3s/server/db-before-restore-");
    expect(plan.stdout).toContain('What remains:\n  1. start K3s on s1 (systemctl start k3s)');
    expect(plan.stdout).not.toContain('--cluster-reset');

    const r = await restore(backupName, '--yes', '--json');
    expect(r.code, r.stderr + r.stdout.slice(-3000)).toBe(0);
    const result = JSON.parse(r.stdout) as RestoreResult;
    expect(result.steps.map((s) => `${s.kind}${s.node ? ` ${s.node}` : ''}:${s.status}`)).toEqual([
      'start-first-server s1:done',
      'start-server s2:done',
      'stop-server s3:done',
      'move-db-aside s3:done',
      'start-server s3:done',
      'start-agent a1:done',
      'check:done',
      'clear-record s1:done',
    ]);
    expect(await configMap('restore-marker')).toEqual({ value: 'before-backup' });
    expect(await configMap('after-backup')).toBeUndefined();
    // s1 was reset once in all, s2's db moved once (no second aside folder), the record is gone.
    expect(await resets()).toBe(resetsBefore + 1);
    expect((await suite.lab.node('s2').exec('ls -d /var/lib/rancher/k3s/server/db-before-restore-*')).stdout).toBe(s2Aside);
    expect((await suite.lab.node('s1').exec('test -e /var/lib/rancher/k3s/server/revue-pi-restore.json')).code).not.toBe(0);
    await expectEveryServerAVoterAndEveryNodeReady();
    expect((await kubectl('get configmap restore-marker -n default -o name', 's3')).stdout).toBe('configmap/restore-marker\n');
  }, 600_000);

  it("the stand-in's reset honours K3s: a plain --cluster-reset refuses while db/reset-flag is there; another token cannot read the snapshot", async () => {
    const s1 = suite.lab.node('s1');
    const flagged = await s1.exec(
      'touch /var/lib/rancher/k3s/server/db/reset-flag && k3s server --cluster-reset; echo "exit $?"; rm -f /var/lib/rancher/k3s/server/db/reset-flag',
    );
    expect(flagged.stdout).toContain(
      'cluster-reset was successfully performed, please remove the cluster-reset flag and start k3s normally, if you need to perform another cluster reset, you must first manually delete the /var/lib/rancher/k3s/server/db/reset-flag file',
    );
    expect(flagged.stdout).toContain('exit 1');
    // On s3, stopped: a reset from the backup's snapshot with a token of another cluster.
    const s3 = suite.lab.node('s3');
    writeFileSync(s3.path('/root/snapshot'), readFileSync(join(suite.stateDir, 'backups', backupName, 'snapshot')));
    const other = await s3.exec(
      `systemctl stop k3s && k3s server --cluster-reset --cluster-reset-restore-path=/root/snapshot --token ${'f'.repeat(64)}; echo "exit $?"`,
    );
    expect(other.stdout).toContain(
      'level=fatal msg="starting kubernetes: preparing server: failed to bootstrap cluster data: bootstrap data already found and encrypted with different token"',
    );
    expect(other.stdout).toContain('exit 1');
    expect(other.stdout).not.toContain('Managed etcd cluster membership has been reset');
  });
});
