import { loadBackup } from '../../cluster/day-two/restore-backup.js';
import { runRestore, type RestoreResult } from '../../cluster/day-two/restore-run.js';
import { formatRestorePlan } from '../../cluster/day-two/restore.js';
import type { Inventory, InventoryNode } from '../../core/inventory/schema.js';
import { loadInventoryForCommand } from '../../core/inventory/for-command.js';
import { RunLog } from '../../core/log.js';
import { withCommandLock } from '../../core/lock.js';
import { resolveSshOrReport } from '../../core/ssh-config/report.js';
import type { ResolvedNodeSsh } from '../../core/ssh-config/resolve.js';
import { EXIT_BAD_INPUT } from '../../core/report.js';
import { ensurePrivateDir, stateDirFor } from '../../core/state.js';
import type { Transport } from '../../core/remote/transport.js';
import { typedConsent, type Consent } from '../consent.js';

/**
 * `revue-pi restore SNAPSHOT [--yes] [--dry-run] [--json]`: the thin front of cluster/day-two/restore-run.ts. Restoring
 * throws away everything since the snapshot, so it is consented to on its own: the cluster name typed at a terminal,
 * or --yes; without either it stops before contacting anything (exit 2).
 */
export interface RestoreCommandOptions {
  snapshot: string;
  inventory: string;
  yes?: boolean;
  dryRun?: boolean;
  json?: boolean;
  stateDir?: string;
  /** Seams for tests; default: SSH, the terminal, the process's streams. */
  openTransport?: (node: InventoryNode) => Promise<Transport>;
  typed?: (message: string) => Promise<string>;
  interactive?: boolean;
  nodeWaitMs?: number;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
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
  const out = opts.stdout ?? ((t: string) => void process.stdout.write(t));
  const err = opts.stderr ?? ((t: string) => void process.stderr.write(t));
  const refuse = (message: string) => {
    if (opts.json) out(JSON.stringify({ ok: false, exitCode: EXIT_BAD_INPUT, error: { message } }, null, 2) + '\n');
    else err(`${message}\n`);
    return EXIT_BAD_INPUT;
  };
  const loaded = loadInventoryForCommand(opts.inventory, { json: opts.json, out, err });
  if (!loaded) return EXIT_BAD_INPUT;
  const cluster = loaded.inventory.cluster.name;
  const consent = restoreConsent(opts, opts.interactive ?? Boolean(process.stdin.isTTY), cluster);
  if (consent.kind === 'refuse') return refuse(consent.message);
  const stateDir = stateDirFor(cluster, opts.stateDir);
  const backup = loadBackup(stateDir, opts.snapshot);
  if ('error' in backup) return refuse(backup.error);
  const ssh = resolveSshOrReport(loaded.inventory, { inventory: opts.inventory, json: opts.json, out, err });
  if (!ssh) return EXIT_BAD_INPUT;
  for (const warning of ssh.warnings) err(`  ! ${warning}\n`);
  ensurePrivateDir(stateDir);
  const work = () => restoreLocked(opts, ssh.inventory, ssh.nodes, stateDir, backup, consent.kind === 'ask', out, err);
  return opts.dryRun ? work() : withCommandLock(stateDir, cluster, 'restore', { json: opts.json, out, err }, work);
}

async function restoreLocked(
  opts: RestoreCommandOptions,
  inventory: Inventory,
  sshNodes: ReadonlyMap<string, ResolvedNodeSsh>,
  stateDir: string,
  loaded: Exclude<ReturnType<typeof loadBackup>, { error: string }>,
  ask: boolean,
  out: (text: string) => void,
  err: (text: string) => void,
): Promise<number> {
  const cluster = inventory.cluster.name;
  const log = new RunLog(stateDir, 'restore');
  log.write(`revue-pi restore ${loaded.backup.name} -i ${opts.inventory}${opts.dryRun ? ' --dry-run' : ''}${opts.yes ? ' --yes' : ''}`);
  const open = opts.openTransport ?? (await import('../../core/connect.js')).transportOpener(inventory, { log, ssh: sshNodes });
  const typed = opts.typed ?? (ask ? (await import('../ui/prompts.js')).upPrompts.typed : undefined);
  const result = await runRestore({
    inventory,
    loaded,
    dryRun: Boolean(opts.dryRun),
    open,
    log,
    progress: (line) => err(`${line}\n`),
    ...(opts.nodeWaitMs ? { nodeWaitMs: opts.nodeWaitMs } : {}),
    showPlan: (plan) => {
      if (!opts.json) out(formatRestorePlan(cluster, loaded.backup, plan));
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
  log.write(`finished: exit ${result.exitCode}`);
  if (opts.json) out(JSON.stringify(result, null, 2) + '\n');
  else if (!result.plan) err(`${result.error}\n`);
  else out(formatRestoreOutcome(result, Boolean(opts.dryRun)));
  return result.exitCode;
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
