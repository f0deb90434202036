import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listBackups, runBackup } from '../../../cluster/day-two/backup-run.js';
import { inventory } from '../cluster/helpers.js';
import { RunLog } from '../../../core/log.js';
import type { InventoryNode } from '../../../core/inventory/schema.js';
import { FakeTransport, ok } from '../../fakes/fake-transport.js';
import { tempDir } from '../../fakes/temp-dir.js';

const INVENTORY = inventory({ cluster: { name: 'home' } }, [
  { name: 'pi-1', host: '192.168.1.11', role: 'server' },
  { name: 'pi-2', host: '192.168.1.12', role: 'server' },
  { name: 'pi-3', host: '192.168.1.13', role: 'server' },
]);
const TOKEN = 'K10' + 'c'.repeat(64) + '::server:s3cr3t-token-value\n';
const CONFIG = 'node-name: pi-2\ncluster-init: true\n';
const SNAP = 'revue-pi-pi-2-1796575337';
const SNAP_PATH = `/var/lib/rancher/k3s/server/db/snapshots/${SNAP}`;
const sha = (t: string) => createHash('sha256').update(t).digest('hex');
const probe = (datastore: string) =>
  ok(`@@revue-pi@@ datastore\n${datastore}\n\n@@revue-pi@@ version\nk3s version v1.33.5+k3s1 (abcdef)\ngo version go1.24\n\n`);

/** TEST DOUBLE of a server over SSH: its files, and the answers of k3s etcd-snapshot and sha256sum. */
function server(name: string, opts: { datastore?: string; saved?: string; badSum?: boolean; ls?: string } = {}): FakeTransport {
  const t = new FakeTransport(name, { [SNAP_PATH]: 'SNAPSHOT-BYTES', '/var/lib/rancher/k3s/server/token': TOKEN, '/etc/rancher/k3s/config.yaml': CONFIG });
  t.on('/var/lib/rancher/k3s/server/db/etcd/member', probe(opts.datastore ?? 'etcd'));
  t.on('k3s etcd-snapshot save --name revue-pi', {
    code: 0,
    stdout: '',
    stderr: opts.saved ?? `time="2026-12-06T16:42:17Z" level=info msg="Snapshot ${SNAP} saved."\n`,
  });
  t.on(
    /^sha256sum /,
    ok(
      `${opts.badSum ? '0'.repeat(64) : sha('SNAPSHOT-BYTES')}  ${SNAP_PATH}\n${sha(TOKEN)}  /var/lib/rancher/k3s/server/token\n${sha(CONFIG)}  /etc/rancher/k3s/config.yaml\n`,
    ),
  );
  t.on('k3s etcd-snapshot ls', ok(opts.ls ?? `Name Location Size Created\n${SNAP} file://${SNAP_PATH} 14 2026-12-06T16:42:17Z\n`));
  t.on(/^k3s etcd-snapshot delete /, ok(''));
  return t;
}

function setup(transports: Record<string, FakeTransport | Error>) {
  const stateDir = tempDir('backup-run');
  const log = new RunLog(stateDir, 'backup');
  const open = async (node: InventoryNode) => {
    const t = transports[node.name];
    if (!t || t instanceof Error) throw t ?? new Error(`no route to ${node.name}`);
    return t;
  };
  return {
    stateDir,
    log,
    run: (keep = 5, dryRun = false) => runBackup({ inventory: INVENTORY, stateDir, keep, dryRun, open, log, progress: () => undefined }),
  };
}

describe('runBackup with a test double of the servers', () => {
  it('skips a server it cannot reach, snapshots on the next, copies three checked files (0600 in 0700) and keeps the token out of the log', async () => {
    const pi2 = server('pi-2');
    const { stateDir, log, run } = setup({ 'pi-1': new Error('Could not connect to node pi-1'), 'pi-2': pi2 });
    const r = await run();
    expect(r).toMatchObject({
      ok: true,
      exitCode: 0,
      server: 'pi-2',
      datastore: 'etcd',
      backup: { name: SNAP, node: 'pi-2', createdAt: '2026-12-06T16:42:17Z' },
      pruned: { local: [], node: [] },
    });
    const dir = join(stateDir, 'backups', SNAP);
    expect(readdirSync(dir).sort()).toEqual(['backup.json', 'config.yaml', 'snapshot', 'token']);
    expect(readFileSync(join(dir, 'token'), 'utf8')).toBe(TOKEN);
    expect(readFileSync(join(dir, 'snapshot'), 'utf8')).toBe('SNAPSHOT-BYTES');
    expect([join(stateDir, 'backups'), dir].map((p) => statSync(p).mode & 0o777)).toEqual([0o700, 0o700]);
    expect(readdirSync(dir).map((f) => statSync(join(dir, f)).mode & 0o777)).toEqual([0o600, 0o600, 0o600, 0o600]);
    expect(listBackups(stateDir).map((b) => [b.name, b.k3sVersion])).toEqual([[SNAP, 'v1.33.5+k3s1']]);
    expect(pi2.runs.map((x) => x.script.split('\n')[0]!).filter((s) => !s.startsWith('dump_file'))).toEqual([
      'k3s etcd-snapshot save --name revue-pi',
      `sha256sum ${SNAP_PATH} /var/lib/rancher/k3s/server/token /etc/rancher/k3s/config.yaml`,
      'k3s etcd-snapshot ls',
    ]);
    expect(pi2.runs.every((x) => x.opts?.sudo === true)).toBe(true);
    expect(pi2.closed).toBe(true);
    log.write(`the token would read ${TOKEN}`);
    expect(readFileSync(log.path!, 'utf8')).not.toContain('s3cr3t-token-value');
  });

  it('prunes its older backups here and its older snapshots of that server there', async () => {
    const older = ['revue-pi-pi-2-1796575100', 'revue-pi-pi-2-1796575200'];
    const { stateDir } = setup({});
    // Two earlier backups (same fake files, other names).
    for (const name of older) {
      const t = server('pi-1', { saved: `msg="Snapshot ${name} saved."` });
      t.files.set(`/var/lib/rancher/k3s/server/db/snapshots/${name}`, Buffer.from('SNAPSHOT-BYTES'));
      t.on(
        /^sha256sum /,
        ok(
          `${sha('SNAPSHOT-BYTES')}  /var/lib/rancher/k3s/server/db/snapshots/${name}\n${sha(TOKEN)}  /var/lib/rancher/k3s/server/token\n${sha(CONFIG)}  /etc/rancher/k3s/config.yaml\n`,
        ),
        { before: true },
      );
      const r = await runBackup({
        inventory: INVENTORY,
        stateDir,
        keep: 5,
        dryRun: false,
        open: async () => t,
        log: new RunLog(stateDir, 'b'),
        progress: () => undefined,
      });
      expect(r.ok, r.error).toBe(true);
    }
    const ls = `Name Location Size Created\n${[...older, SNAP].map((n) => `${n} file:///x/${n} 14 2026-12-06T16:40:00Z`).join('\n')}\nmanual-pi-2-1796575000 file:///x/m 14 2026-12-06T16:30:00Z\n`;
    const pi2 = server('pi-2', { ls });
    const r = await runBackup({
      inventory: INVENTORY,
      stateDir,
      keep: 2,
      dryRun: false,
      open: async (n) => (n.name === 'pi-2' ? pi2 : Promise.reject(new Error('down'))),
      log: new RunLog(stateDir, 'b'),
      progress: () => undefined,
    });
    expect(r.pruned).toEqual({ local: ['revue-pi-pi-2-1796575100'], node: ['revue-pi-pi-2-1796575100'] });
    expect(
      listBackups(stateDir)
        .map((b) => b.name)
        .sort(),
    ).toEqual(['revue-pi-pi-2-1796575200', SNAP]);
    expect(pi2.ran('k3s etcd-snapshot delete')).toEqual(['k3s etcd-snapshot delete revue-pi-pi-2-1796575100']);
  });

  it('a SQLite server: refused with what to do, nothing run', async () => {
    const pi1 = server('pi-1', { datastore: 'sqlite' });
    const { stateDir, run } = setup({ 'pi-1': pi1 });
    const r = await run();
    expect(r).toMatchObject({ ok: false, exitCode: 1, datastore: 'sqlite' });
    expect(r.error).toMatch(/^Cluster home keeps its state in SQLite \(pi-1:\/var\/lib\/rancher\/k3s\/server\/db\/state\.db\)/);
    expect(pi1.ran('etcd-snapshot')).toEqual([]);
    expect(() => readdirSync(join(stateDir, 'backups'))).toThrow();
  });

  it('a learner reports no snapshot: an error saying to wait for EtcdIsVoter, nothing saved', async () => {
    const { stateDir, run } = setup({ 'pi-1': server('pi-1', { saved: 'time="…" level=warning msg="Unable to take snapshot: not supported for learner"' }) });
    const r = await run();
    expect(r.error).toContain('k3s etcd-snapshot save on server pi-1 reported no snapshot');
    expect(r.error).toContain('EtcdIsVoter=True');
    expect(listBackups(stateDir)).toEqual([]);
  });

  it('a copy that does not match the server file: nothing saved', async () => {
    const { stateDir, run } = setup({ 'pi-1': server('pi-1', { badSum: true }) });
    const r = await run();
    expect(r.error).toContain(`the copy of ${SNAP_PATH} from server pi-1 does not match the file there`);
    expect(readdirSync(join(stateDir))).not.toContain('backups');
  });

  it('--dry-run: the plan, and not one command that changes anything', async () => {
    const pi1 = server('pi-1');
    const { run } = setup({ 'pi-1': pi1 });
    const r = await run(3, true);
    expect(r.ok).toBe(true);
    expect(r.plan![0]).toBe('revue-pi backup of cluster home, on server pi-1 (192.168.1.11, embedded etcd):');
    expect(pi1.runs).toHaveLength(1); // the probe
  });
});
