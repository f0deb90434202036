import { sh, type ShellScript } from '../../core/remote/shell.js';

/**
 * What makes `revue-pi restore` resumable: before the reset, revue-pi writes a small record on the first server naming
 * the backup and the run (the run's time stamp, also the suffix of the folders the other servers' db/ goes to), and
 * marks it once K3s reports the reset done; the last step removes it. A re-run reads it back, with K3s's own traces
 * (db/reset-flag, db/etcd, the db-before-restore-<run> folders), and plans only what remains. Pure.
 */

/** The server's datastore folder: the docs have the other servers delete it; revue-pi moves it aside instead. */
export const SERVER_DB_DIR = '/var/lib/rancher/k3s/server/db';
/** The record of a restore under way (0600; holds no secret, but sits with K3s's own server state). */
export const RESTORE_RECORD_PATH = '/var/lib/rancher/k3s/server/revue-pi-restore.json';
/** K3s writes it after a reset from a snapshot and removes it at the next normal start (pkg/cluster/managed.go). */
export const RESET_FLAG_PATH = `${SERVER_DB_DIR}/reset-flag`;
const ASIDE_PREFIX = `${SERVER_DB_DIR}-before-restore-`;

export interface RestoreRecord {
  backup: string;
  snapshotSha256: string;
  /** The run's time stamp: names the aside folders. */
  run: string;
  /** started: written just before the reset; done: K3s said the reset is done. */
  reset: 'started' | 'done';
}

export function asideFolder(run: string): string {
  return `${ASIDE_PREFIX}${run}`;
}

export function formatRestoreRecord(record: RestoreRecord): string {
  return JSON.stringify(record) + '\n';
}

/** The record as read back; 'unreadable' when something is there that revue-pi did not write. */
export function parseRestoreRecord(text: string | undefined): RestoreRecord | 'unreadable' | undefined {
  if (text === undefined) return undefined;
  try {
    const r = JSON.parse(text) as Partial<RestoreRecord>;
    if (
      typeof r.backup === 'string' &&
      typeof r.snapshotSha256 === 'string' &&
      typeof r.run === 'string' &&
      /^\d{8}T\d{6}Z$/.test(r.run) &&
      (r.reset === 'started' || r.reset === 'done')
    )
      return { backup: r.backup, snapshotSha256: r.snapshotSha256, run: r.run, reset: r.reset };
  } catch {
    // fall through
  }
  return 'unreadable';
}

/** Prints `reset-flag` when K3s's flag is there (run with sudo: the server dir is 0700). */
export function buildResetFlagProbe(): ShellScript {
  return sh`if [ -e ${RESET_FLAG_PATH} ]; then echo reset-flag; fi`;
}

export function parseResetFlag(stdout: string): boolean {
  return stdout.split('\n').some((l) => l.trim() === 'reset-flag');
}

/** The run stamps of the db-before-restore-<run> folders on a server, one a line. */
export function buildAsideFoldersProbe(): ShellScript {
  return sh`for d in ${ASIDE_PREFIX}*; do if [ -d "$d" ]; then echo "$d"; fi; done`;
}

export function parseAsideFolders(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith(ASIDE_PREFIX))
    .map((l) => l.slice(ASIDE_PREFIX.length));
}

export const CLEAR_RECORD_COMMAND = sh`rm -f ${RESTORE_RECORD_PATH}`;
