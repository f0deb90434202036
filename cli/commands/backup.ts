import { listBackups, backupsFolder, runBackup, type BackupResult } from '../../cluster/day-two/backup-run.js';
import { BACKUP_FILES, formatBackupList, formatSize } from '../../cluster/day-two/backup.js';
import type { Inventory, InventoryNode } from '../../core/inventory/schema.js';
import { loadInventoryForCommand } from '../../core/inventory/for-command.js';
import { RunLog } from '../../core/log.js';
import { withCommandLock } from '../../core/lock.js';
import { resolveSshOrReport } from '../../core/ssh-config/report.js';
import type { ResolvedNodeSsh } from '../../core/ssh-config/resolve.js';
import { EXIT_BAD_INPUT, EXIT_OK } from '../../core/report.js';
import { ensurePrivateDir, stateDirFor } from '../../core/state.js';
import type { Transport } from '../../core/remote/transport.js';

/** `revue-pi backup [--list] [--keep N] [--dry-run] [--json]`: the thin front of cluster/day-two/backup-run.ts. */
export interface BackupCommandOptions {
  inventory: string;
  list?: boolean;
  keep: number;
  json?: boolean;
  dryRun?: boolean;
  stateDir?: string;
  /** Seams for tests; default: the SSH transport and the process's streams. */
  openTransport?: (node: InventoryNode) => Promise<Transport>;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
}

export async function runBackupCommand(opts: BackupCommandOptions): Promise<number> {
  const out = opts.stdout ?? ((t: string) => void process.stdout.write(t));
  const err = opts.stderr ?? ((t: string) => void process.stderr.write(t));
  const loaded = loadInventoryForCommand(opts.inventory, { json: opts.json, out, err });
  if (!loaded) return EXIT_BAD_INPUT;
  const { inventory } = loaded;
  const stateDir = stateDirFor(inventory.cluster.name, opts.stateDir);

  if (opts.list) {
    const backups = listBackups(stateDir);
    if (opts.json) out(JSON.stringify({ cluster: inventory.cluster.name, folder: backupsFolder(stateDir), backups }, null, 2) + '\n');
    else out(formatBackupList(backups, backupsFolder(stateDir)));
    return EXIT_OK;
  }

  // Node hosts may be ~/.ssh/config aliases; the settings it gives are used to connect (as up does).
  const ssh = resolveSshOrReport(inventory, { inventory: opts.inventory, json: opts.json, out, err });
  if (!ssh) return EXIT_BAD_INPUT;
  for (const warning of ssh.warnings) err(`  ! ${warning}\n`);
  ensurePrivateDir(stateDir);
  // A backup writes the state folder and prunes snapshots: one run at a time per cluster (a dry run only reads).
  const work = () => backupLocked(opts, ssh.inventory, ssh.nodes, stateDir, out, err);
  return opts.dryRun ? work() : withCommandLock(stateDir, inventory.cluster.name, 'backup', { json: opts.json, out, err }, work);
}

async function backupLocked(
  opts: BackupCommandOptions,
  inventory: Inventory,
  sshNodes: ReadonlyMap<string, ResolvedNodeSsh>,
  stateDir: string,
  out: (text: string) => void,
  err: (text: string) => void,
): Promise<number> {
  const log = new RunLog(stateDir, 'backup');
  log.write(`revue-pi backup -i ${opts.inventory} --keep ${opts.keep}${opts.dryRun ? ' --dry-run' : ''}`);
  const open = opts.openTransport ?? (await import('../../core/connect.js')).transportOpener(inventory, { log, ssh: sshNodes });
  const result = await runBackup({ inventory, stateDir, keep: opts.keep, dryRun: Boolean(opts.dryRun), open, log, progress: (line) => err(`${line}\n`) });
  log.write(`finished: exit ${result.exitCode}`);
  if (opts.json) out(JSON.stringify(result, null, 2) + '\n');
  else if (result.error) err(`${result.error}\n`);
  else out(formatBackupResult(result, opts.keep));
  return result.exitCode;
}

export function formatBackupResult(r: BackupResult, keep: number): string {
  if (r.plan) return `${r.plan.join('\n')}\n(dry run: nothing was done)\n`;
  const b = r.backup!;
  const lines = [`Backup ${b.name} of cluster ${r.cluster} (server ${b.node}, ${b.createdAt}) saved in ${b.folder}:`];
  for (const f of BACKUP_FILES) {
    const meta = b.files[f.file];
    if (meta) lines.push(`  ${f.file.padEnd(12)}${formatSize(meta.size).padStart(10)}  ${f.what}, from ${meta.from}`);
  }
  lines.push('The folder holds the cluster token: keep it as private as the cluster itself (files 0600).');
  const pruned = [
    ...(r.pruned.local.length ? [`deleted here: ${r.pruned.local.join(', ')}`] : []),
    ...(r.pruned.node.length ? [`deleted on ${b.node}: ${r.pruned.node.join(', ')}`] : []),
  ];
  lines.push(`Keeping the ${keep} newest backups revue-pi made${pruned.length ? `; ${pruned.join('; ')}` : ''}.`);
  for (const w of r.warnings) lines.push(`Warning: ${w}`);
  return lines.join('\n') + '\n';
}
