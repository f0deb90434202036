import { loadBackup } from '../../cluster/day-two/restore-backup.js';
import { runRestore, type RestoreResult } from '../../cluster/day-two/restore-run.js';
import { formatRestorePlan } from '../../cluster/day-two/restore.js';
import { loadInventoryForCommand } from '../../core/inventory/for-command.js';
import { EXIT_BAD_INPUT } from '../../core/report.js';
import { stateDirFor } from '../../core/state.js';
import { typedConsent, type Consent } from '../consent.js';
import { finishRun, isInteractive, refuseBadInput, runOnCluster, streamsOf, type AskingSeams, type ClusterCommandOptions } from './day-two-front.js';

/**
 * `revue-pi restore SNAPSHOT [--yes] [--dry-run] [--json]`: the thin front of cluster/day-two/restore-run.ts. Restoring
 * throws away everything since the snapshot, so it is consented to on its own: the cluster name typed at a terminal,
 * or --yes; without either it stops before contacting anything (exit 2).
 */
export interface RestoreCommandOptions extends ClusterCommandOptions, AskingSeams {
  snapshot: string;
  yes?: boolean;
  /** Seams for tests; default: a line typed at the terminal, restore-run's wait for the nodes. */
  typed?: (message: string) => Promise<string>;
  nodeWaitMs?: number;
}

/** Ask (the cluster name typed) at a terminal; --yes consents; otherwise refuse. A dry run changes nothing and needs none. */
export function restoreConsent(opts: { yes?: boolean; dryRun?: boolean; json?: boolean }, stdinIsTerminal: boolean, cluster?: string): Consent {
  if (opts.yes || opts.dryRun) return { kind: 'given' };
  if (stdinIsTerminal && !opts.json) return { kind: 'ask' };
  return {
    kind: 'refuse',
    message: `restore replaces everything in cluster ${cluster ?? '(the inventory’s cluster)'} with the snapshot and stops K3s on every node: it asks for the cluster name to be typed, but its standard input is not a terminal${opts.json ? ' (or --json is set)' : ''}, so it cannot ask. Nothing was contacted. Run it at a terminal, or pass --yes (see the plan first with --dry-run).`,
  };
}

export async function runRestoreCommand(opts: RestoreCommandOptions): Promise<number> {
  const streams = streamsOf(opts);
  const { out, err } = streams;
  const loaded = loadInventoryForCommand(opts.inventory, { json: opts.json, out, err });
  if (!loaded) return EXIT_BAD_INPUT;
  const cluster = loaded.inventory.cluster.name;
  const consent = restoreConsent(opts, isInteractive(opts), cluster);
  if (consent.kind === 'refuse') return refuseBadInput(consent.message, opts.json, streams);
  const backup = loadBackup(stateDirFor(cluster, opts.stateDir), opts.snapshot);
  if ('error' in backup) return refuseBadInput(backup.error, opts.json, streams);
  const ask = consent.kind === 'ask';
  const commandLine = `revue-pi restore ${backup.backup.name} -i ${opts.inventory}${opts.dryRun ? ' --dry-run' : ''}${opts.yes ? ' --yes' : ''}`;
  return runOnCluster('restore', commandLine, loaded.inventory, opts, streams, async (run) => {
    const { inventory, open, log, progress } = run;
    const typed = opts.typed ?? (ask ? (await import('../ui/prompts.js')).upPrompts.typed : undefined);
    const result = await runRestore({
      inventory,
      loaded: backup,
      dryRun: Boolean(opts.dryRun),
      open,
      log,
      progress,
      ...(opts.nodeWaitMs ? { nodeWaitMs: opts.nodeWaitMs } : {}),
      showPlan: (plan) => {
        if (!opts.json) out(formatRestorePlan(cluster, backup.backup, plan));
      },
      ...(ask
        ? {
            confirm: async () => {
              const yes = typedConsent(await typed!(`This deletes what is listed above. To restore, type the cluster name (${cluster}):`), cluster);
              log.write(`asked to restore: ${yes ? 'the cluster name was typed' : 'declined'}`);
              return yes;
            },
          }
        : {}),
    });
    return finishRun(run, result, opts.json, out, () => {
      if (!result.plan) err(`${result.error}\n`);
      else out(formatRestoreOutcome(result, Boolean(opts.dryRun)));
    });
  });
}

export function formatRestoreOutcome(r: RestoreResult, dryRun: boolean): string {
  if (r.plan?.refused !== undefined) return '';
  if (r.error && !r.steps.some((s) => s.status !== 'not run')) return `${r.error}\n`;
  if (dryRun) return '(dry run: nothing was changed)\n';
  const lines = r.steps.map((s) => `${s.status === 'done' ? '✓' : s.status === 'failed' ? '✗' : '·'} ${s.description}${s.detail ? ` — ${s.detail}` : ''}`);
  for (const w of r.warnings.slice(r.plan && 'steps' in r.plan ? r.plan.warnings.length : 0)) lines.push(`Warning: ${w}`);
  lines.push(r.ok ? `Cluster ${r.cluster} is restored from ${r.backup}.` : `Stopped: ${r.error}`);
  return lines.join('\n') + '\n';
}
