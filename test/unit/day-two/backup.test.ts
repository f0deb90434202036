import { describe, expect, it } from 'vitest';
import {
  backupsToPrune,
  buildChecksumCommand,
  buildSnapshotDeleteCommand,
  buildSnapshotSaveCommand,
  describeBackupPlan,
  formatBackupList,
  isSnapshotName,
  nodeSnapshotsToPrune,
  parseChecksums,
  parseManifest,
  parseSavedSnapshot,
  parseSnapshotList,
  type BackupManifest,
} from '../../../cluster/day-two/backup.js';

/** `k3s etcd-snapshot save --name revue-pi` logs through logrus on stderr (pkg/cli/etcdsnapshot save()). */
const SAVED = 'time="2026-12-06T16:42:17Z" level=info msg="Snapshot revue-pi-pi-1-1796575337 saved."\n';
/** `k3s etcd-snapshot ls`: tabwriter(0, 0, 1, ' '), a header since the ETCDSnapshotFile listing; older releases had none. */
const LS = `Name                          Location                                                                      Size    Created
etcd-snapshot-pi-1-1796529600 file:///var/lib/rancher/k3s/server/db/snapshots/etcd-snapshot-pi-1-1796529600 5472288 2026-12-06T00:00:00Z
revue-pi-pi-1-1796575300      file:///var/lib/rancher/k3s/server/db/snapshots/revue-pi-pi-1-1796575300      5484576 2026-12-06T16:41:40Z
revue-pi-pi-1-1796575337      file:///var/lib/rancher/k3s/server/db/snapshots/revue-pi-pi-1-1796575337      5484576 2026-12-06T16:42:17Z
revue-pi-pi-2-1796575000      file:///var/lib/rancher/k3s/server/db/snapshots/revue-pi-pi-2-1796575000      5484576 2026-12-06T16:36:40Z
revue-pi-pi-1-1796575200      file:///var/lib/rancher/k3s/server/db/snapshots/revue-pi-pi-1-1796575200      5480000 2026-12-06T16:40:00Z
`;

const manifest = (name: string, extra: Partial<BackupManifest> = {}): BackupManifest => ({
  createdBy: 'revue-pi',
  cluster: 'home',
  name,
  node: 'pi-1',
  createdAt: '2026-12-06T16:42:17Z',
  files: { snapshot: { size: 5484576, sha256: 'a'.repeat(64), from: `/var/lib/rancher/k3s/server/db/snapshots/${name}` } },
  ...extra,
});

describe('backup: commands and what they print', () => {
  it('takes an on-demand snapshot named revue-pi (K3s appends node and time)', () => {
    expect(buildSnapshotSaveCommand().text).toBe('k3s etcd-snapshot save --name revue-pi');
    expect(parseSavedSnapshot(SAVED)).toBe('revue-pi-pi-1-1796575337');
    // A learner takes none and the CLI prints nothing; a name that is not revue-pi's is not taken for one.
    expect(parseSavedSnapshot('')).toBeUndefined();
    expect(parseSavedSnapshot('msg="Snapshot on-demand-pi-1-1796575337 saved."')).toBeUndefined();
  });

  it.each([
    ['revue-pi-pi-1-1796575337', true],
    ['revue-pi-node-with-dashes-1796575337', true],
    ['revue-pi-pi-1-1796575337; rm -rf /', false],
    ['on-demand-pi-1-1796575337', false],
    ['revue-pi-pi-1', false],
    ['../revue-pi-pi-1-1796575337', false],
  ])('isSnapshotName(%j) is %s', (name, ok) => {
    expect(isSnapshotName(name)).toBe(ok);
  });

  it('checks the three copies with one sha256sum and reads its lines', () => {
    expect(buildChecksumCommand('revue-pi-pi-1-1796575337').text).toBe(
      'sha256sum /var/lib/rancher/k3s/server/db/snapshots/revue-pi-pi-1-1796575337 /var/lib/rancher/k3s/server/token /etc/rancher/k3s/config.yaml',
    );
    const sums = parseChecksums(
      `${'1'.repeat(64)}  /var/lib/rancher/k3s/server/token\n${'2'.repeat(64)} */etc/rancher/k3s/config.yaml\nsha256sum: /nope: No such file or directory\n`,
    );
    expect([...sums]).toEqual([
      ['/var/lib/rancher/k3s/server/token', '1'.repeat(64)],
      ['/etc/rancher/k3s/config.yaml', '2'.repeat(64)],
    ]);
  });

  it('reads `k3s etcd-snapshot ls` with or without its header', () => {
    const list = parseSnapshotList(LS);
    expect(list).toHaveLength(5);
    expect(list[1]).toEqual({
      name: 'revue-pi-pi-1-1796575300',
      location: 'file:///var/lib/rancher/k3s/server/db/snapshots/revue-pi-pi-1-1796575300',
      size: 5484576,
      created: '2026-12-06T16:41:40Z',
    });
    expect(parseSnapshotList(LS.split('\n').slice(1).join('\n'))).toEqual(list);
  });

  it('prunes on a node only revue-pi snapshots of that node, keeping the newest', () => {
    expect(nodeSnapshotsToPrune(parseSnapshotList(LS), 'pi-1', 2)).toEqual(['revue-pi-pi-1-1796575200']);
    expect(nodeSnapshotsToPrune(parseSnapshotList(LS), 'pi-1', 1)).toEqual(['revue-pi-pi-1-1796575200', 'revue-pi-pi-1-1796575300']);
    expect(nodeSnapshotsToPrune(parseSnapshotList(LS), 'pi-1', 5)).toEqual([]);
    expect(nodeSnapshotsToPrune(parseSnapshotList(LS), 'pi', 0)).toEqual([]); // pi-1's are not pi's
    expect(buildSnapshotDeleteCommand(['revue-pi-pi-1-1796575200', 'revue-pi-pi-1-1796575300']).text).toBe(
      'k3s etcd-snapshot delete revue-pi-pi-1-1796575200 revue-pi-pi-1-1796575300',
    );
    expect(() => buildSnapshotDeleteCommand(['etcd-snapshot-pi-1-1796529600'])).toThrow(/not a snapshot name revue-pi made/);
  });
});

describe('backup: the folders revue-pi made, and retention', () => {
  it('takes a folder for its own only with a valid manifest', () => {
    expect(parseManifest(JSON.stringify(manifest('revue-pi-pi-1-1796575337')))).toEqual(manifest('revue-pi-pi-1-1796575337'));
    expect(parseManifest(undefined)).toBeUndefined();
    expect(parseManifest('{')).toBeUndefined();
    expect(parseManifest(JSON.stringify({ ...manifest('revue-pi-pi-1-1796575337'), createdBy: 'someone' }))).toBeUndefined();
    expect(parseManifest(JSON.stringify(manifest('../etc-1796575337')))).toBeUndefined();
  });

  it('keeps the newest N by the time in their names', () => {
    const all = ['revue-pi-pi-1-1796575300', 'revue-pi-pi-2-1796575400', 'revue-pi-pi-1-1796575100', 'revue-pi-pi-1-1796575200'].map((n) => manifest(n));
    expect(backupsToPrune(all, 2).map((b) => b.name)).toEqual(['revue-pi-pi-1-1796575200', 'revue-pi-pi-1-1796575100']);
    expect(backupsToPrune(all, 4)).toEqual([]);
  });

  it('lists backups newest first, and says where and how to make one when there are none', () => {
    const text = formatBackupList(
      [manifest('revue-pi-pi-1-1796575200', { createdAt: '2026-12-06T16:40:00Z' }), manifest('revue-pi-pi-1-1796575337', { k3sVersion: 'v1.33.5+k3s1' })],
      '/s/backups',
    );
    expect(text).toBe(
      'NAME                      NODE  CREATED               SNAPSHOT SIZE  K3S\n' +
        'revue-pi-pi-1-1796575337  pi-1  2026-12-06T16:42:17Z  5.2 MiB        v1.33.5+k3s1\n' +
        'revue-pi-pi-1-1796575200  pi-1  2026-12-06T16:40:00Z  5.2 MiB        ?\n' +
        '\nIn /s/backups (each folder: snapshot, token, config.yaml, backup.json; files 0600).\n',
    );
    expect(formatBackupList([], '/s/backups')).toBe('No backups in /s/backups yet: run revue-pi backup.\n');
  });

  it('describes the dry run step by step', () => {
    expect(
      describeBackupPlan({
        cluster: 'home',
        server: 'pi-1',
        host: '192.168.1.11',
        folder: '/s/backups',
        keep: 2,
        existing: 3,
        pruneLocal: ['revue-pi-pi-1-1', 'revue-pi-pi-1-2'],
      }),
    ).toEqual([
      'revue-pi backup of cluster home, on server pi-1 (192.168.1.11, embedded etcd):',
      '  1. k3s etcd-snapshot save --name revue-pi   → /var/lib/rancher/k3s/server/db/snapshots/revue-pi-pi-1-<unix time> on pi-1',
      '  2. copy it with /var/lib/rancher/k3s/server/token and /etc/rancher/k3s/config.yaml to /s/backups/revue-pi-pi-1-<unix time>/ (files 0600, folders 0700), checked by sha256',
      "  3. keep the 2 newest backups revue-pi made (3 now): delete revue-pi-pi-1-1, revue-pi-pi-1-2 here, and revue-pi's snapshots beyond 2 on pi-1 (k3s etcd-snapshot delete)",
    ]);
  });
});
