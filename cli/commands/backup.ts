import { listBackups, backupsFolder, runBackup, type BackupResult } from '../../cluster/day-two/backup-run.js';
import { BACKUP_FILES, formatBackupList, formatSize } from '../../cluster/day-two/backup.js';
import { loadInventoryForCommand } from '../../core/inventory/for-command.js';
import { EXIT_BAD_INPUT, EXIT_OK } from '../../core/report.js';
import { stateDirFor } from '../../core/state.js';
import { finishRun, runOnCluster, streamsOf, type ClusterCommandOptions } from './day-two-front.js';

/** `revue-pi backup [--list] [--keep N] [--dry-run] [--json]`: the thin front of cluster/day-two/backup-run.ts. */
export interface BackupCommandOptions extends ClusterCommandOptions {
  list?: boolean;
  keep: number;
}

export async function runBackupCommand(opts: BackupCommandOptions): Promise<number> {
  const streams = streamsOf(opts);
  const { out, err } = streams;
  const loaded = loadInventoryForCommand(opts.inventory, { json: opts.json, out, err });
  if (!loaded) return EXIT_BAD_INPUT;
  const { inventory } = loaded;

  if (opts.list) {
    const stateDir = stateDirFor(inventory.cluster.name, opts.stateDir);
    const backups = listBackups(stateDir);
    if (opts.json) out(JSON.stringify({ cluster: inventory.cluster.name, folder: backupsFolder(stateDir), backups }, null, 2) + '\n');
    else out(formatBackupList(backups, backupsFolder(stateDir)));
    return EXIT_OK;
  }

  // A backup writes the state folder and prunes snapshots: one run at a time per cluster.
  const commandLine = `revue-pi backup -i ${opts.inventory} --keep ${opts.keep}${opts.dryRun ? ' --dry-run' : ''}`;
  return runOnCluster('backup', commandLine, inventory, opts, streams, async (run) => {
    const { stateDir, open, log, progress } = run;
    const result = await runBackup({ inventory: run.inventory, stateDir, keep: opts.keep, dryRun: Boolean(opts.dryRun), open, log, progress });
    return finishRun(run, result, opts.json, out, () => {
      if (result.error) err(`${result.error}\n`);
      else out(formatBackupResult(result, opts.keep));
    });
  });
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
