import { describe, expect, it } from 'vitest';
import { formatRestorePlan, planRestore, type RestoreBackup, type RestoreInput, type RestoreNodeInput } from '../../../cluster/day-two/restore.js';
import {
  CLEAR_RECORD_COMMAND,
  buildAsideFoldersProbe,
  buildResetFlagProbe,
  formatRestoreRecord,
  parseAsideFolders,
  parseResetFlag,
  parseRestoreRecord,
  type RestoreRecord,
} from '../../../cluster/day-two/restore-record.js';

const BACKUP: RestoreBackup = {
  name: 'revue-pi-pi-1-1767225600',
  cluster: 'home',
  node: 'pi-1',
  createdAt: '2026-01-01T00:00:00Z',
  snapshotSha256: 'a'.repeat(64),
};
const RUN = '20260102T030405Z';
const RECORD: RestoreRecord = { backup: BACKUP.name, snapshotSha256: BACKUP.snapshotSha256, run: RUN, reset: 'done' };

function node(name: string, over: Partial<RestoreNodeInput> = {}): RestoreNodeInput {
  return {
    name,
    host: `10.0.0.${name.slice(-1)}`,
    role: name === 'pi-4' ? 'agent' : 'server',
    reachable: true,
    ...(name === 'pi-4' ? {} : { datastore: 'etcd' }),
    ...over,
  };
}

/** A re-run a day later (its own stamp 20260103T000000Z), the first run being RUN. */
function input(over: Partial<RestoreInput> = {}): RestoreInput {
  return {
    cluster: 'home',
    backup: BACKUP,
    nodes: [node('pi-1'), node('pi-2'), node('pi-3'), node('pi-4')],
    snapshotOnFirst: true,
    tokenMatches: true,
    asideSuffix: '20260103T000000Z',
    ...over,
  };
}

const steps = (i: RestoreInput) => {
  const plan = planRestore(i);
  if (plan.refused !== undefined) throw new Error(plan.refused);
  return plan.steps.map((s) => `${s.kind}${'node' in s ? ` ${s.node}` : ''}`);
};

describe('the restore record', () => {
  it('reads back what it writes; anything else is unreadable; none is none', () => {
    expect(parseRestoreRecord(formatRestoreRecord(RECORD))).toEqual(RECORD);
    expect(formatRestoreRecord(RECORD)).toBe(
      `{"backup":"revue-pi-pi-1-1767225600","snapshotSha256":"${'a'.repeat(64)}","run":"20260102T030405Z","reset":"done"}\n`,
    );
    expect(parseRestoreRecord(undefined)).toBeUndefined();
    expect(parseRestoreRecord('not json')).toBe('unreadable');
    expect(parseRestoreRecord(JSON.stringify({ ...RECORD, run: '../../etc' }))).toBe('unreadable');
    expect(parseRestoreRecord(JSON.stringify({ ...RECORD, reset: 'maybe' }))).toBe('unreadable');
  });

  it('probes K3s reset flag and the aside folders with quoted paths, and parses them', () => {
    expect(buildResetFlagProbe().text).toBe('if [ -e /var/lib/rancher/k3s/server/db/reset-flag ]; then echo reset-flag; fi');
    expect(buildAsideFoldersProbe().text).toBe(`for d in /var/lib/rancher/k3s/server/db-before-restore-*; do if [ -d "$d" ]; then echo "$d"; fi; done`);
    expect(CLEAR_RECORD_COMMAND.text).toBe('rm -f /var/lib/rancher/k3s/server/revue-pi-restore.json');
    expect(parseResetFlag('reset-flag\n')).toBe(true);
    expect(parseResetFlag('')).toBe(false);
    expect(parseAsideFolders('/var/lib/rancher/k3s/server/db-before-restore-20260102T030405Z\n/var/lib/rancher/k3s/server/db-before-restore-*\n')).toEqual([
      '20260102T030405Z',
      '*',
    ]);
  });
});

describe('planRestore resumes an interrupted restore', () => {
  it('a fresh restore writes the record before the reset and removes it last', () => {
    expect(steps(input())).toEqual([
      'stop-agent pi-4',
      'stop-server pi-2',
      'stop-server pi-3',
      'stop-server pi-1',
      'record-run pi-1',
      'cluster-reset pi-1',
      'start-first-server pi-1',
      'move-db-aside pi-2',
      'start-server pi-2',
      'move-db-aside pi-3',
      'start-server pi-3',
      'start-agent pi-4',
      'check',
      'clear-record pi-1',
    ]);
  });

  it('killed after pi-2 was moved aside: the first server is not reset again, pi-2 is only started, pi-3 is stopped, moved and started; the text says so', () => {
    const nodes = [node('pi-1'), node('pi-2', { datastore: 'none', asideRuns: [RUN] }), node('pi-3', { asideRuns: ['20251201T000000Z'] }), node('pi-4')];
    const plan = planRestore(input({ nodes, record: RECORD }));
    expect(formatRestorePlan('home', BACKUP, plan)).toBe(
      [
        'restore cluster home from backup revue-pi-pi-1-1767225600 (taken on pi-1 at 2026-01-01T00:00:00Z):',
        'Already done by an interrupted run of this restore (run 20260102T030405Z):',
        '  - pi-1 was reset from snapshot revue-pi-pi-1-1767225600: it is not reset again, only started and waited for',
        "  - pi-2's /var/lib/rancher/k3s/server/db was moved to /var/lib/rancher/k3s/server/db-before-restore-20260102T030405Z: it is not moved again, only started and waited for",
        'What remains:',
        '  1. start K3s on pi-1 (systemctl start k3s); wait until it is Ready and EtcdIsVoter=True',
        '  2. start K3s on pi-2; it rejoins as a new etcd member: wait until it is Ready and EtcdIsVoter=True',
        '  3. stop K3s on server pi-3 (systemctl stop k3s)',
        '  4. on pi-3: move /var/lib/rancher/k3s/server/db to /var/lib/rancher/k3s/server/db-before-restore-20260102T030405Z',
        '  5. start K3s on pi-3; it rejoins as a new etcd member: wait until it is Ready and EtcdIsVoter=True',
        '  6. start K3s on agent pi-4 (systemctl start k3s-agent)',
        '  7. check: every node Ready (pi-1, pi-2, pi-3, pi-4), etcd members = the servers (pi-1, pi-2, pi-3), all voters',
        '  8. on pi-1: remove /var/lib/rancher/k3s/server/revue-pi-restore.json (the restore is complete)',
        'Lost for good:',
        '  - everything cluster home stored after 2026-01-01T00:00:00Z (objects created, changed or deleted since backup revue-pi-pi-1-1767225600: Deployments, ConfigMaps, Secrets, volume claims…); what volumes hold on disk is not touched',
        '  - the etcd data of pi-2, pi-3: they rejoin empty from pi-1',
        'Kept aside:',
        "  - pi-1's etcd data before the reset: K3s moves it to /var/lib/rancher/k3s/server/db/etcd-old-<unix time>",
        "  - pi-2's /var/lib/rancher/k3s/server/db: moved to /var/lib/rancher/k3s/server/db-before-restore-20260102T030405Z (not deleted; remove it once the cluster is as you want)",
        "  - pi-3's /var/lib/rancher/k3s/server/db: moved to /var/lib/rancher/k3s/server/db-before-restore-20260102T030405Z (not deleted; remove it once the cluster is as you want)",
        '',
      ].join('\n'),
    );
  });

  it('a server that already rejoined (moved aside, etcd data again) is only started; nothing is moved twice', () => {
    const nodes = [node('pi-1'), node('pi-2', { asideRuns: [RUN] }), node('pi-3', { datastore: 'none', asideRuns: [RUN] }), node('pi-4')];
    const plan = planRestore(input({ nodes, record: RECORD }));
    if (plan.refused !== undefined) throw new Error(plan.refused);
    expect(plan.done[1]).toBe(
      "pi-2's /var/lib/rancher/k3s/server/db was moved to /var/lib/rancher/k3s/server/db-before-restore-20260102T030405Z and it has rejoined (it has etcd data again): it is not moved again, only started and waited for",
    );
    expect(steps(input({ nodes, record: RECORD }))).toEqual([
      'start-first-server pi-1',
      'start-server pi-2',
      'start-server pi-3',
      'start-agent pi-4',
      'check',
      'clear-record pi-1',
    ]);
  });

  it("K3s's reset flag counts as the reset done even when the record was not marked (killed right after the reset)", () => {
    const r = steps(input({ record: { ...RECORD, reset: 'started' }, resetFlagOnFirst: true }));
    expect(r).not.toContain('cluster-reset pi-1');
    expect(r[0]).toBe('start-first-server pi-1');
    const plan = planRestore(input({ record: { ...RECORD, reset: 'started' }, resetFlagOnFirst: true }));
    if (plan.refused !== undefined) throw new Error(plan.refused);
    expect(plan.done[0]).toBe(
      "pi-1 was reset from snapshot revue-pi-pi-1-1767225600 (K3s's db/reset-flag is there): it is not reset again, only started and waited for",
    );
  });

  it('a reset that did not finish (record started, no flag) is done again, with the first run stamp and no second record', () => {
    const nodes = [node('pi-1', { datastore: 'none' }), node('pi-2'), node('pi-3'), node('pi-4')];
    const plan = planRestore(input({ nodes, record: { ...RECORD, reset: 'started' } }));
    if (plan.refused !== undefined) throw new Error(plan.refused);
    expect(plan.run).toBe(RUN);
    expect(plan.done).toEqual([
      'pi-1 holds the record of this restore (run 20260102T030405Z), but its reset did not finish: it is reset again (nothing has rejoined it yet)',
    ]);
    expect(plan.steps.map((s) => s.kind)).toEqual([
      'stop-agent',
      'stop-server',
      'stop-server',
      'stop-server',
      'cluster-reset',
      'start-first-server',
      'move-db-aside',
      'start-server',
      'move-db-aside',
      'start-server',
      'start-agent',
      'check',
      'clear-record',
    ]);
  });

  it('refuses another snapshot while one is half-done, saying what to do; and an unreadable record', () => {
    const other: RestoreBackup = { ...BACKUP, name: 'revue-pi-pi-1-1767300000' };
    expect(planRestore(input({ backup: other, record: RECORD })).refused).toBe(
      'a restore of cluster home from backup revue-pi-pi-1-1767225600 (run 20260102T030405Z) is half-done: pi-1 was already reset from that snapshot (its record: /var/lib/rancher/k3s/server/revue-pi-restore.json). Restoring revue-pi-pi-1-1767300000 over it would mix the two, so nothing was changed. Finish that restore first with revue-pi restore revue-pi-pi-1-1767225600 (a re-run continues where it stopped), then restore revue-pi-pi-1-1767300000.',
    );
    expect(planRestore(input({ record: 'unreadable' })).refused).toBe(
      'pi-1 has a /var/lib/rancher/k3s/server/revue-pi-restore.json that revue-pi cannot read: that file marks a restore under way, so nothing was changed. If no restore is under way (look at the file), delete it and run restore again.',
    );
  });

  it('without a record, a server with no etcd data is still refused (aside folders of another run do not count)', () => {
    const nodes = [node('pi-1'), node('pi-2', { datastore: 'none', asideRuns: [RUN] }), node('pi-3'), node('pi-4')];
    expect(planRestore(input({ nodes })).refused).toMatch(/^pi-2 \(no K3s server data\) is not an embedded-etcd server of cluster home/);
    const other = [node('pi-1'), node('pi-2', { datastore: 'none', asideRuns: ['20251201T000000Z'] }), node('pi-3'), node('pi-4')];
    expect(planRestore(input({ nodes: other, record: RECORD })).refused).toMatch(/^pi-2 \(no K3s server data\)/);
  });
});
