import { describe, expect, it } from 'vitest';
import { restoreConsent } from '../../../cli/commands/restore.js';
import type { NodeView } from '../../../cluster/day-two/cluster-view.js';
import { formatRestorePlan, planRestore, restoreSnapshotPath, type RestoreBackup, type RestoreInput } from '../../../cluster/day-two/restore.js';
import {
  START_AGENT_COMMAND,
  START_SERVER_COMMAND,
  STOP_AGENT_COMMAND,
  STOP_SERVER_COMMAND,
  buildClusterResetCommand,
  buildMoveDbAsideCommand,
  buildSnapshotChecksumProbe,
  buildUnitFailedProbe,
  memberNode,
  readySinceSnapshot,
  resetSucceeded,
  restoreProblems,
  serverRejoined,
} from '../../../cluster/day-two/restore-commands.js';

const BACKUP: RestoreBackup = {
  name: 'revue-pi-pi-1-1767225600',
  cluster: 'home',
  node: 'pi-1',
  createdAt: '2026-01-01T00:00:00Z',
  k3sVersion: 'v1.33.5+k3s1',
  snapshotSha256: 'a'.repeat(64),
};

function input(over: Partial<RestoreInput> = {}): RestoreInput {
  return {
    cluster: 'home',
    backup: BACKUP,
    nodes: [
      { name: 'pi-1', host: '10.0.0.1', role: 'server', reachable: true, datastore: 'etcd' },
      { name: 'pi-2', host: '10.0.0.2', role: 'server', reachable: true, datastore: 'etcd' },
      { name: 'pi-3', host: '10.0.0.3', role: 'server', reachable: true, datastore: 'etcd' },
      { name: 'pi-4', host: '10.0.0.4', role: 'agent', reachable: true },
    ],
    snapshotOnFirst: false,
    tokenMatches: true,
    asideSuffix: '20260102T030405Z',
    ...over,
  };
}

describe('restore commands', () => {
  it('are exactly the documented ones, every value quoted', () => {
    const path = restoreSnapshotPath(BACKUP.name);
    expect(path).toBe('/var/lib/rancher/k3s/server/db/snapshots/revue-pi-pi-1-1767225600');
    expect(buildClusterResetCommand(path).text).toBe(
      'timeout -k 10 600 k3s server --cluster-reset --cluster-reset-restore-path=/var/lib/rancher/k3s/server/db/snapshots/revue-pi-pi-1-1767225600',
    );
    expect(buildSnapshotChecksumProbe(path).text).toBe(`if [ -f ${path} ]; then sha256sum ${path}; fi`);
    expect(buildMoveDbAsideCommand('/var/lib/rancher/k3s/server/db-before-restore-x').text).toBe(
      'if [ -d /var/lib/rancher/k3s/server/db ]; then mv /var/lib/rancher/k3s/server/db /var/lib/rancher/k3s/server/db-before-restore-x && echo moved; else echo absent; fi',
    );
    expect([STOP_AGENT_COMMAND, STOP_SERVER_COMMAND, START_SERVER_COMMAND, START_AGENT_COMMAND].map((c) => c.text)).toEqual([
      'systemctl stop k3s-agent',
      'systemctl stop k3s',
      'systemctl start k3s',
      'systemctl start k3s-agent',
    ]);
    expect(buildUnitFailedProbe('k3s').text).toBe('if systemctl is-failed --quiet k3s; then journalctl -u k3s -n 5 --no-pager; exit 1; fi');
    expect(() => restoreSnapshotPath('../../etc/shadow')).toThrow(/not a snapshot name/);
  });

  it("read K3s's reset message, not the exit code alone", () => {
    expect(
      resetSucceeded(
        'level=info msg="Managed etcd cluster membership has been reset, restart without --cluster-reset flag now. Backup and delete ${datadir}/server/db on each peer etcd server and rejoin the nodes"',
      ),
    ).toBe(true);
    expect(resetSucceeded('level=fatal msg="starting kubernetes: preparing server: bootstrap data already found and encrypted with different token"')).toBe(
      false,
    );
  });
});

describe('planRestore', () => {
  it('stops agents, then the other servers, then the first; uploads, resets, starts the first, rejoins the others one at a time, starts agents, checks', () => {
    const plan = planRestore(input());
    expect(formatRestorePlan('home', BACKUP, plan)).toBe(
      [
        'restore cluster home from backup revue-pi-pi-1-1767225600 (taken on pi-1 at 2026-01-01T00:00:00Z, K3s v1.33.5+k3s1):',
        '  1. stop K3s on agent pi-4 (systemctl stop k3s-agent)',
        '  2. stop K3s on server pi-2 (systemctl stop k3s)',
        '  3. stop K3s on server pi-3 (systemctl stop k3s)',
        '  4. stop K3s on server pi-1 (systemctl stop k3s)',
        '  5. upload the snapshot to pi-1:/var/lib/rancher/k3s/server/db/snapshots/revue-pi-pi-1-1767225600 (0600), checked by sha256',
        '  6. on pi-1: write /var/lib/rancher/k3s/server/revue-pi-restore.json (0600) naming the backup and run 20260102T030405Z, so that a re-run of an interrupted restore continues where it stopped',
        '  7. on pi-1: timeout -k 10 600 k3s server --cluster-reset --cluster-reset-restore-path=/var/lib/rancher/k3s/server/db/snapshots/revue-pi-pi-1-1767225600 — restores the snapshot as a one-member etcd cluster and exits',
        '  8. start K3s on pi-1 (systemctl start k3s); wait until it is Ready and EtcdIsVoter=True',
        '  9. on pi-2: move /var/lib/rancher/k3s/server/db to /var/lib/rancher/k3s/server/db-before-restore-20260102T030405Z',
        '  10. start K3s on pi-2; it rejoins as a new etcd member: wait until it is Ready and EtcdIsVoter=True',
        '  11. on pi-3: move /var/lib/rancher/k3s/server/db to /var/lib/rancher/k3s/server/db-before-restore-20260102T030405Z',
        '  12. start K3s on pi-3; it rejoins as a new etcd member: wait until it is Ready and EtcdIsVoter=True',
        '  13. start K3s on agent pi-4 (systemctl start k3s-agent)',
        '  14. check: every node Ready (pi-1, pi-2, pi-3, pi-4), etcd members = the servers (pi-1, pi-2, pi-3), all voters',
        '  15. on pi-1: remove /var/lib/rancher/k3s/server/revue-pi-restore.json (the restore is complete)',
        'Lost for good:',
        '  - everything cluster home stored after 2026-01-01T00:00:00Z (objects created, changed or deleted since backup revue-pi-pi-1-1767225600: Deployments, ConfigMaps, Secrets, volume claims…); what volumes hold on disk is not touched',
        '  - the etcd data of pi-2, pi-3: they rejoin empty from pi-1',
        'Kept aside:',
        "  - pi-1's etcd data before the reset: K3s moves it to /var/lib/rancher/k3s/server/db/etcd-old-<unix time>",
        "  - pi-2's /var/lib/rancher/k3s/server/db: moved to /var/lib/rancher/k3s/server/db-before-restore-20260102T030405Z (not deleted; remove it once the cluster is as you want)",
        "  - pi-3's /var/lib/rancher/k3s/server/db: moved to /var/lib/rancher/k3s/server/db-before-restore-20260102T030405Z (not deleted; remove it once the cluster is as you want)",
        "Warning: the cluster's API is down from the first stop until pi-1 runs again; containers keep running meanwhile, unmanaged.",
        '',
      ].join('\n'),
    );
  });

  it('uploads nothing when the snapshot is on the first server already; restores on the first server a snapshot taken on another', () => {
    const plan = planRestore(input({ snapshotOnFirst: true, backup: { ...BACKUP, node: 'pi-2' } }));
    if (plan.refused !== undefined) throw new Error(plan.refused);
    expect(plan.steps.map((s) => s.kind)).not.toContain('upload-snapshot');
    expect(plan.first).toBe('pi-1');
    expect(plan.warnings).toContain(
      "the snapshot was taken on pi-2; it is restored on pi-1, the inventory's first server (any server's snapshot holds the whole cluster).",
    );
  });

  it('refuses a token that does not match, saying why, before any step', () => {
    const plan = planRestore(input({ tokenMatches: false }));
    expect(plan.refused).toBe(
      'backup revue-pi-pi-1-1767225600 was saved with another server token than the one pi-1 runs with now (/var/lib/rancher/k3s/server/token). K3s encrypts its bootstrap data in etcd with that token, so a reset from this snapshot would stop with "bootstrap data already found and encrypted with different token" and leave the cluster down: nothing was changed. Restore a backup of this cluster, or rebuild it with the backup\'s token (the token file in the backup folder) first.',
    );
  });

  it('refuses a SQLite cluster clearly', () => {
    const plan = planRestore(input({ nodes: [{ name: 'solo', host: '10.0.0.9', role: 'server', reachable: true, datastore: 'sqlite' }] }));
    expect(plan.refused).toContain(
      "cluster home keeps its state in SQLite on solo (/var/lib/rancher/k3s/server/db/state.db), not in embedded etcd: K3s's --cluster-reset",
    );
  });

  it("refuses another cluster's backup, an unreachable node, a server without etcd", () => {
    expect(planRestore(input({ backup: { ...BACKUP, cluster: 'lab' } })).refused).toBe(
      "backup revue-pi-pi-1-1767225600 is of cluster lab, not home (the inventory's cluster.name): revue-pi restores a cluster only from its own backups.",
    );
    const nodes = input().nodes.map((n) => (n.name === 'pi-4' ? { ...n, reachable: false, unreachableReason: 'connect ECONNREFUSED 10.0.0.4:22' } : n));
    expect(planRestore(input({ nodes })).refused).toMatch(
      /^restore stops and restarts K3s on every node, and pi-4 \(connect ECONNREFUSED 10\.0\.0\.4:22\) does not answer/,
    );
    const fresh = input().nodes.map((n) => (n.name === 'pi-3' ? { ...n, datastore: 'none' as const } : n));
    expect(planRestore(input({ nodes: fresh })).refused).toMatch(/^pi-3 \(no K3s server data\) is not an embedded-etcd server of cluster home/);
  });
});

describe('waiting and the final check', () => {
  const node = (over: Partial<NodeView>): NodeView => ({ name: 'pi-2', role: 'server', unschedulable: false, ...over });
  it('counts Ready only when posted after the snapshot (a Ready restored with it does not), and a server only once a voter', () => {
    expect(readySinceSnapshot(node({ ready: 'True', readyHeartbeat: '2025-12-31T23:59:59Z' }), BACKUP.createdAt)).toBe(false);
    // Same second as the snapshot's name (K3s truncates it): may be a heartbeat restored with the snapshot.
    expect(readySinceSnapshot(node({ ready: 'True', readyHeartbeat: '2026-01-01T00:00:00.700Z' }), BACKUP.createdAt)).toBe(false);
    expect(readySinceSnapshot(node({ ready: 'True', readyHeartbeat: '2026-01-01T00:00:05Z' }), BACKUP.createdAt)).toBe(true);
    expect(readySinceSnapshot(node({ ready: 'True' }), BACKUP.createdAt)).toBe(false);
    expect(serverRejoined(node({ ready: 'True', readyHeartbeat: '2026-01-01T00:00:05Z', etcdVoter: 'False' }), BACKUP.createdAt)).toBe(false);
    expect(serverRejoined(node({ ready: 'True', readyHeartbeat: '2026-01-01T00:00:05Z', etcdVoter: 'True' }), BACKUP.createdAt)).toBe(true);
    expect(serverRejoined(undefined, BACKUP.createdAt)).toBe(false);
  });

  it('finds nodes not Ready, members that are not the servers, learners', () => {
    const fresh = '2026-01-01T01:00:00Z';
    const nodes = ['pi-1', 'pi-2', 'pi-3', 'pi-4'].map((name) => node({ name, ready: 'True', readyHeartbeat: fresh }));
    const members = ['pi-1-0a0b0c0d', 'pi-2-11112222', 'pi-3-33334444'].map((name) => ({ name, host: '', isLearner: false }));
    const check = { servers: ['pi-1', 'pi-2', 'pi-3'], agents: ['pi-4'], snapshotTime: BACKUP.createdAt };
    expect(restoreProblems({ ...check, nodes, members })).toEqual([]);
    expect(
      restoreProblems({
        ...check,
        nodes: nodes.map((n) => (n.name === 'pi-4' ? { ...n, ready: 'Unknown' as const } : n)),
        members: [members[0]!, { ...members[1]!, isLearner: true }],
      }),
    ).toEqual([
      'node pi-4 is not Ready (Ready=Unknown)',
      'etcd members are pi-1-0a0b0c0d, pi-2-11112222, not one for each server (pi-1, pi-2, pi-3)',
      'etcd member pi-2-11112222 still a learner',
    ]);
    expect(memberNode('pi-1-0a0b0c0d')).toBe('pi-1');
  });
});

describe('restoreConsent', () => {
  it('asks at a terminal, takes --yes, and refuses (exit 2) with neither', () => {
    expect(restoreConsent({}, true, 'home')).toEqual({ kind: 'ask' });
    expect(restoreConsent({ yes: true }, false, 'home')).toEqual({ kind: 'given' });
    expect(restoreConsent({ dryRun: true }, false, 'home')).toEqual({ kind: 'given' });
    const refused = restoreConsent({}, false, 'home');
    expect(refused.kind).toBe('refuse');
    expect(restoreConsent({ json: true }, true, 'home').kind).toBe('refuse');
  });
});
