import { posix } from 'node:path';
import { sh, type ShellScript } from '../../core/remote/shell.js';
import { K3S_CONFIG_PATH, SERVER_TOKEN_PATH } from '../../core/k3s-paths.js';

/**
 * `revue-pi backup`, the deciding half: the commands it runs on a server (K3s's own `k3s etcd-snapshot`, contract in
 * test/lab/k3s-standin/README.md), what it reads back from them, the folder a backup becomes on the workstation, and
 * which backups a retention keeps. Pure; backup-run.ts does the work.
 */

/** Snapshots revue-pi takes are named `revue-pi-<node>-<unix seconds>` (K3s appends the node and the time to --name). */
export const SNAPSHOT_BASE_NAME = 'revue-pi';
export const SNAPSHOT_DIR = '/var/lib/rancher/k3s/server/db/snapshots';
export const DEFAULT_KEEP = 5;
/** `<state dir>/backups/<snapshot name>/`: one folder per backup, each with this manifest. */
export const BACKUPS_FOLDER = 'backups';
export const MANIFEST_FILE = 'backup.json';

/** What a backup folder holds besides the manifest: the snapshot, the server token (etcd's data is encrypted with it) and config.yaml. */
export const BACKUP_FILES = [
  { file: 'snapshot', what: 'etcd snapshot' },
  { file: 'token', what: 'server token', remote: SERVER_TOKEN_PATH },
  { file: 'config.yaml', what: 'K3s config.yaml', remote: K3S_CONFIG_PATH },
] as const;

export function buildSnapshotSaveCommand(): ShellScript {
  return sh`k3s etcd-snapshot save --name ${SNAPSHOT_BASE_NAME}`;
}

/** The name `k3s etcd-snapshot save` reports (logrus on stderr: `msg="Snapshot <name> saved."`); undefined when none. */
export function parseSavedSnapshot(output: string): string | undefined {
  const match = /Snapshot (\S+) saved\./.exec(output);
  return match && isSnapshotName(match[1]!) ? match[1] : undefined;
}

/** A name revue-pi gave (and only such a name ever reaches a command line). */
export function isSnapshotName(name: string): boolean {
  return /^revue-pi-[a-z0-9]([-a-z0-9]*[a-z0-9])?-\d{9,11}$/.test(name);
}

export function snapshotPath(name: string): string {
  return posix.join(SNAPSHOT_DIR, name);
}

/** sha256 of the three files, to check the copies (the token's hash is no secret: it is a hash of 256 bits). */
export function buildChecksumCommand(snapshot: string): ShellScript {
  return sh`sha256sum ${[snapshotPath(snapshot), SERVER_TOKEN_PATH, K3S_CONFIG_PATH]}`;
}

/** path → sha256 from `sha256sum` output. */
export function parseChecksums(stdout: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line.trim());
    if (match) sums.set(match[2]!, match[1]!);
  }
  return sums;
}

export const SNAPSHOT_LIST_COMMAND = sh`k3s etcd-snapshot ls`;

export interface NodeSnapshot {
  name: string;
  location: string;
  size: number;
  created: string;
}

/** `k3s etcd-snapshot ls`: `Name Location Size Created` columns (older releases print no header). */
export function parseSnapshotList(stdout: string): NodeSnapshot[] {
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols.length === 4 && cols[0] !== 'Name' && /^\d+$/.test(cols[2]!))
    .map(([name, location, size, created]) => ({ name: name!, location: location!, size: Number(size), created: created! }));
}

/** The snapshots revue-pi made on `node` beyond the `keep` newest (K3s never prunes on-demand snapshots). */
export function nodeSnapshotsToPrune(list: NodeSnapshot[], node: string, keep: number): string[] {
  // Exactly `revue-pi-<node>-<digits>`: node pi's prefix also starts node pi-1's names.
  const ours = list.filter(
    (s) => isSnapshotName(s.name) && s.name.startsWith(`${SNAPSHOT_BASE_NAME}-${node}-`) && /^\d+$/.test(s.name.slice(`${SNAPSHOT_BASE_NAME}-${node}-`.length)),
  );
  return ours
    .sort((a, b) => snapshotTime(b.name) - snapshotTime(a.name) || b.name.localeCompare(a.name))
    .slice(keep)
    .map((s) => s.name)
    .sort();
}

export function buildSnapshotDeleteCommand(names: string[]): ShellScript {
  for (const n of names) if (!isSnapshotName(n)) throw new Error(`not a snapshot name revue-pi made: ${n}`);
  return sh`k3s etcd-snapshot delete ${names}`;
}

/** Unix seconds at the end of a snapshot name. */
export function snapshotTime(name: string): number {
  return Number(/-(\d+)$/.exec(name)?.[1] ?? 0);
}

/** The manifest revue-pi writes in each backup folder: what makes a folder one of its backups (and prunable). */
export interface BackupManifest {
  createdBy: 'revue-pi';
  cluster: string;
  /** The snapshot's name, also the folder's. */
  name: string;
  /** The server it was taken on. */
  node: string;
  /** ISO time the snapshot was taken (from its name). */
  createdAt: string;
  k3sVersion?: string;
  files: Record<string, { size: number; sha256: string; from: string }>;
}

export function renderManifest(m: BackupManifest): string {
  return JSON.stringify(m, null, 2) + '\n';
}

/** A manifest read from disk; undefined when the folder is not a backup revue-pi made (left alone, never pruned). */
export function parseManifest(text: string | undefined): BackupManifest | undefined {
  if (text === undefined) return undefined;
  try {
    const m = JSON.parse(text) as Partial<BackupManifest>;
    if (
      m.createdBy !== 'revue-pi' ||
      typeof m.name !== 'string' ||
      !isSnapshotName(m.name) ||
      typeof m.node !== 'string' ||
      typeof m.createdAt !== 'string' ||
      !m.files
    )
      return undefined;
    return m as BackupManifest;
  } catch {
    return undefined;
  }
}

/** The backups beyond the `keep` newest (by the time in the snapshot name), oldest last in the input's terms. */
export function backupsToPrune(backups: BackupManifest[], keep: number): BackupManifest[] {
  return [...backups].sort((a, b) => snapshotTime(b.name) - snapshotTime(a.name) || b.name.localeCompare(a.name)).slice(keep);
}

/** The table `backup --list` prints, newest first. */
export function formatBackupList(backups: BackupManifest[], folder: string): string {
  if (backups.length === 0) return `No backups in ${folder} yet: run revue-pi backup.\n`;
  const rows = [['NAME', 'NODE', 'CREATED', 'SNAPSHOT SIZE', 'K3S']];
  for (const b of [...backups].sort((x, y) => snapshotTime(y.name) - snapshotTime(x.name))) {
    rows.push([b.name, b.node, b.createdAt, formatSize(b.files.snapshot?.size ?? 0), b.k3sVersion ?? '?']);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const table = rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 2))).join('')).join('\n');
  return `${table}\n\nIn ${folder} (each folder: snapshot, token, config.yaml, ${MANIFEST_FILE}; files 0600).\n`;
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * What a SQLite (single-server, no `cluster-init`) cluster is told: `k3s etcd-snapshot` needs embedded etcd, so revue-pi
 * cannot take a consistent copy while K3s runs. The K3s docs' way (datastore/backup-restore) and the way to etcd.
 */
export function sqliteRefusal(cluster: string, server: string): string {
  return [
    `Cluster ${cluster} keeps its state in SQLite (${server}:/var/lib/rancher/k3s/server/db/state.db), not in embedded etcd, so \`k3s etcd-snapshot\` cannot back it up and revue-pi took no backup.`,
    'What to do:',
    `  - by hand (K3s docs, "Backup and Restore with SQLite"): on ${server}, \`sudo systemctl stop k3s\`, copy /var/lib/rancher/k3s/server/db/ and /var/lib/rancher/k3s/server/token somewhere safe, then \`sudo systemctl start k3s\` (the cluster's API is down meanwhile);`,
    `  - or move the cluster to embedded etcd (after that copy): set k3s.datastore: etcd in the inventory and run revue-pi up, which restarts K3s on ${server} with cluster-init (K3s migrates SQLite into etcd at start); revue-pi backup works from then on.`,
  ].join('\n');
}

/** The dry run: what `backup` would do, one line each. */
export function describeBackupPlan(p: {
  cluster: string;
  server: string;
  host: string;
  folder: string;
  keep: number;
  pruneLocal: string[];
  existing: number;
}): string[] {
  const lines = [
    `revue-pi backup of cluster ${p.cluster}, on server ${p.server} (${p.host}, embedded etcd):`,
    `  1. ${buildSnapshotSaveCommand()}   → ${SNAPSHOT_DIR}/${SNAPSHOT_BASE_NAME}-${p.server}-<unix time> on ${p.server}`,
    `  2. copy it with ${SERVER_TOKEN_PATH} and ${K3S_CONFIG_PATH} to ${p.folder}/${SNAPSHOT_BASE_NAME}-${p.server}-<unix time>/ (files 0600, folders 0700), checked by sha256`,
    `  3. keep the ${p.keep} newest backups revue-pi made (${p.existing} now): ${p.pruneLocal.length > 0 ? `delete ${p.pruneLocal.join(', ')} here` : 'nothing to delete here'}, and revue-pi's snapshots beyond ${p.keep} on ${p.server} (k3s etcd-snapshot delete)`,
  ];
  return lines;
}
