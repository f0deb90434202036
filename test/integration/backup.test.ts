import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { BackupResult } from '../../cluster/day-two/backup-run.js';
import type { BackupManifest } from '../../cluster/day-two/backup.js';
import { describeLab } from '../lab/skip.js';
import { runCli } from './cli.js';
import { DEFAULT_K3S_VERSION } from '../../core/inventory/schema.js';
import { CLUSTER_ONLY, remakeAsSqliteServer, useLabCluster } from './lab-cluster.js';

/**
 * `revue-pi backup` on the lab: an HA cluster of three servers (embedded etcd) on the K3s STAND-IN, whose
 * `k3s etcd-snapshot` honours the contract in test/lab/k3s-standin/README.md ("Day-two contract"); and a single
 * SQLite server, which backup refuses with what to do instead.
 */
const mode = (path: string) => statSync(path).mode & 0o777;

describeLab('revue-pi backup on an HA lab cluster (3 servers, embedded etcd)', () => {
  const suite = useLabCluster([{ name: 's1' }, { name: 's2' }, { name: 's3' }], '127.0.160.', {
    ...CLUSTER_ONLY,
    nodes: [
      { name: 's2', role: 'server' },
      { name: 's3', role: 'server' },
    ],
  });
  const backup = (...args: string[]) => runCli(['backup', '-i', suite.inventory, '--state-dir', suite.stateDir, ...args], { timeoutMs: 180_000 });
  const folder = () => join(suite.stateDir, 'backups');
  const s1 = () => suite.lab.node('s1');
  const onS1Snapshots = async () => (await s1().exec('ls /var/lib/rancher/k3s/server/db/snapshots 2>/dev/null')).stdout.split('\n').filter(Boolean).sort();
  const marker = `lab-marker-${Date.now()}`;

  beforeAll(async () => {
    const up = await suite.up('--yes');
    expect(up.code, up.stderr + up.stdout.slice(-2000)).toBe(0);
    const cm = await s1().exec(
      `printf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  name: backup-marker\\n  namespace: default\\ndata:\\n  value: ${marker}\\n' > /tmp/cm.yaml && k3s kubectl apply -f /tmp/cm.yaml`,
    );
    expect(cm.stdout).toBe('configmap/backup-marker created\n');
  }, 600_000);

  it('--dry-run prints the plan and changes nothing, here or on the server', async () => {
    const r = await backup('--dry-run');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('revue-pi backup of cluster lab, on server s1 (127.0.160.2, embedded etcd):');
    expect(r.stdout).toContain('1. k3s etcd-snapshot save --name revue-pi');
    expect(r.stdout).toContain('(dry run: nothing was done)');
    expect(await onS1Snapshots()).toEqual([]);
    expect(() => readdirSync(folder())).toThrow();
  });

  it('backs up: the snapshot, the server token and config.yaml land in <state>/backups/<name>/ (0600 in 0700), checked, and listed', async () => {
    const r = await backup('--json');
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const result = JSON.parse(r.stdout) as BackupResult;
    const name = result.backup!.name;
    expect(name).toMatch(/^revue-pi-s1-\d{10}$/);
    expect(result).toMatchObject({ ok: true, server: 's1', datastore: 'etcd', pruned: { local: [], node: [] } });
    const dir = join(folder(), name);
    expect(readdirSync(dir).sort()).toEqual(['backup.json', 'config.yaml', 'snapshot', 'token']);
    expect([mode(folder()), mode(dir), ...['backup.json', 'config.yaml', 'snapshot', 'token'].map((f) => mode(join(dir, f)))]).toEqual([
      0o700, 0o700, 0o600, 0o600, 0o600, 0o600,
    ]);
    // The copies are the server's files; the snapshot holds the cluster's objects (the stand-in's: the store as JSON).
    const token = readFileSync(join(dir, 'token'), 'utf8');
    expect(token).toBe(readFileSync(s1().path('/var/lib/rancher/k3s/server/token'), 'utf8'));
    expect(token).toMatch(/^K10[0-9a-f]{64}::server:/);
    expect(readFileSync(join(dir, 'config.yaml'), 'utf8')).toBe(readFileSync(s1().path('/etc/rancher/k3s/config.yaml'), 'utf8'));
    expect(readFileSync(join(dir, 'snapshot'))).toEqual(readFileSync(s1().path(`/var/lib/rancher/k3s/server/db/snapshots/${name}`)));
    expect(readFileSync(join(dir, 'snapshot'), 'utf8')).toContain(marker);
    const manifest = JSON.parse(readFileSync(join(dir, 'backup.json'), 'utf8')) as BackupManifest;
    expect(manifest).toMatchObject({ createdBy: 'revue-pi', cluster: 'lab', name, node: 's1', k3sVersion: DEFAULT_K3S_VERSION });
    expect(Object.keys(manifest.files).sort()).toEqual(['config.yaml', 'snapshot', 'token']);
    // The token never shows.
    expect(r.stdout + r.stderr).not.toContain(token.trim().split('::server:')[1]!);

    const list = await backup('--list');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(
      new RegExp(
        `^NAME +NODE +CREATED +SNAPSHOT SIZE +K3S\\n${name} +s1 +\\d{4}-\\d\\d-\\d\\dT[\\d:]+Z +[\\d.]+ KiB +${DEFAULT_K3S_VERSION.replace(/[.+]/g, '\\$&')}\\n`,
      ),
    );
    const listed = JSON.parse((await backup('--list', '--json')).stdout) as { backups: BackupManifest[] };
    expect(listed.backups.map((b) => b.name)).toEqual([name]);
  });

  it('--keep prunes only what revue-pi made, here and on the server', async () => {
    // Not revue-pi's: a folder without its manifest here, a snapshot of another name on the server.
    mkdirSync(join(folder(), 'hand-made-copy'), { recursive: true });
    writeFileSync(join(folder(), 'hand-made-copy', 'snapshot'), 'mine\n');
    const manual = await s1().exec('k3s etcd-snapshot save --name manual');
    expect(manual.code, manual.stderr).toBe(0);
    const first = (JSON.parse((await backup('--list', '--json')).stdout) as { backups: BackupManifest[] }).backups[0]!.name;

    const names: string[] = [first];
    for (let i = 0; i < 2; i++) {
      await new Promise((r) => setTimeout(r, 1100)); // snapshot names carry the second
      const r = await backup('--keep', '2', '--json');
      expect(r.code, r.stderr + r.stdout).toBe(0);
      names.push((JSON.parse(r.stdout) as BackupResult).backup!.name);
    }
    const last = JSON.parse((await backup('--list', '--json')).stdout) as { backups: BackupManifest[] };
    expect(last.backups.map((b) => b.name).sort()).toEqual(names.slice(1).sort());
    expect(readdirSync(folder()).sort()).toEqual([...names.slice(1), 'hand-made-copy'].sort());
    const onServer = await onS1Snapshots();
    expect(onServer.filter((n) => n.startsWith('revue-pi-'))).toEqual(names.slice(1).sort());
    expect(onServer.filter((n) => n.startsWith('manual-s1-'))).toHaveLength(1);
  });
});

describeLab('revue-pi backup on a single SQLite server: refused, with what to do', () => {
  const suite = useLabCluster([{ name: 'solo' }], '127.0.162.', CLUSTER_ONLY);

  beforeAll(async () => {
    const up = await suite.up('--yes');
    expect(up.code, up.stderr + up.stdout.slice(-2000)).toBe(0);
    // up starts even one server with cluster-init now (issue 16): a SQLite server is one made before that.
    await remakeAsSqliteServer(suite.lab.node('solo'), suite.installer.url);
  }, 600_000);

  it('says SQLite cannot be snapshotted, how to copy it by hand or move to etcd, exits 1 and writes nothing', async () => {
    const r = await runCli(['backup', '-i', suite.inventory, '--state-dir', suite.stateDir], { timeoutMs: 120_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Cluster lab keeps its state in SQLite (solo:/var/lib/rancher/k3s/server/db/state.db), not in embedded etcd');
    expect(r.stderr).toContain('copy /var/lib/rancher/k3s/server/db/ and /var/lib/rancher/k3s/server/token');
    expect(r.stderr).toContain('set k3s.datastore: etcd in the inventory and run revue-pi up');
    expect(() => readdirSync(join(suite.stateDir, 'backups'))).toThrow();
    expect((await suite.lab.node('solo').exec('ls /var/lib/rancher/k3s/server/db')).stdout).toBe('state.db\n');
  });
});
