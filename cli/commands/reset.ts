import { formatResetPlan } from '../../cluster/day-two/reset.js';
import { resolveKubeconfigPath } from '../../cluster/kubeconfig.js';
import type { Inventory, InventoryNode } from '../../core/inventory/schema.js';
import { loadInventoryForCommand } from '../../core/inventory/for-command.js';
import { RunLog } from '../../core/log.js';
import { withCommandLock } from '../../core/lock.js';
import { EXIT_BAD_INPUT } from '../../core/report.js';
import { resolveSshOrReport } from '../../core/ssh-config/report.js';
import type { ResolvedNodeSsh } from '../../core/ssh-config/resolve.js';
import { ensurePrivateDir, stateDirFor } from '../../core/state.js';
import type { Transport } from '../../core/remote/transport.js';
import { runReset, type ResetResult } from '../../pipeline/reset.js';
import { typedConsent } from '../consent.js';

/**
 * `revue-pi reset [--yes CLUSTER_NAME] [--boot] [--dry-run] [--json]`: the thin front of pipeline/reset.ts.
 * Destroying the cluster is consented to on its own, like deleting data in `up`: the cluster's name typed at a
 * terminal, or given to --yes. `--yes` alone is not enough; without a terminal and without it, reset stops before
 * contacting anything (exit 2).
 */
export interface ResetCommandOptions {
  inventory: string;
  /** true: `--yes` without a name; a string: the name given. */
  yes?: boolean | string;
  boot?: boolean;
  dryRun?: boolean;
  json?: boolean;
  concurrency: number;
  stateDir?: string;
  kubeconfig?: string;
  /** Seams for tests; default: SSH, the terminal (stdin a TTY), the process's streams. */
  openTransport?: (node: InventoryNode) => Promise<Transport>;
  typed?: (message: string) => Promise<string>;
  interactive?: boolean;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
}

export type ResetConsent = { kind: 'dry-run' } | { kind: 'ask' } | { kind: 'given' } | { kind: 'refuse'; message: string };

/** Whether reset may go on, decided before anything is contacted (pure). */
export function resetConsentFor(opts: { yes?: boolean | string; dryRun?: boolean; json?: boolean }, cluster: string, terminal: boolean): ResetConsent {
  if (typeof opts.yes === 'string' && !typedConsent(opts.yes, cluster))
    return {
      kind: 'refuse',
      message: `--yes names cluster "${opts.yes}", but the inventory's cluster (cluster.name) is "${cluster}": refused, nothing was contacted.`,
    };
  if (opts.dryRun) return { kind: 'dry-run' };
  if (opts.yes === true)
    return {
      kind: 'refuse',
      message: `--yes alone does not reset a cluster: give it the cluster's name (--yes ${cluster}), or run reset at a terminal and type the name when asked. Nothing was contacted.`,
    };
  if (typeof opts.yes === 'string') return { kind: 'given' };
  if (terminal && !opts.json) return { kind: 'ask' };
  return {
    kind: 'refuse',
    message: `reset destroys cluster ${cluster} and all its data, and asks for its name to be typed, but ${opts.json ? 'with --json it does not ask' : 'its standard input is not a terminal'}: pass --yes ${cluster} to reset without asking (see the plan first with --dry-run). Nothing was contacted.`,
  };
}

export async function runResetCommand(opts: ResetCommandOptions): Promise<number> {
  const out = opts.stdout ?? ((t: string) => void process.stdout.write(t));
  const err = opts.stderr ?? ((t: string) => void process.stderr.write(t));
  const loaded = loadInventoryForCommand(opts.inventory, { json: opts.json, out, err });
  if (!loaded) return EXIT_BAD_INPUT;
  const consent = resetConsentFor(opts, loaded.inventory.cluster.name, opts.interactive ?? Boolean(process.stdin.isTTY));
  if (consent.kind === 'refuse') {
    if (opts.json) out(JSON.stringify({ ok: false, exitCode: EXIT_BAD_INPUT, error: { message: consent.message } }, null, 2) + '\n');
    else err(`${consent.message}\n`);
    return EXIT_BAD_INPUT;
  }
  // Node hosts may be ~/.ssh/config aliases; the settings it gives are used to connect (as up does).
  const ssh = resolveSshOrReport(loaded.inventory, { inventory: opts.inventory, json: opts.json, out, err });
  if (!ssh) return EXIT_BAD_INPUT;
  for (const warning of ssh.warnings) err(`  ! ${warning}\n`);
  const inventory = ssh.inventory;
  const stateDir = ensurePrivateDir(stateDirFor(inventory.cluster.name, opts.stateDir));
  const work = () => resetLocked(opts, consent.kind === 'ask', inventory, ssh.nodes, stateDir, out, err);
  return opts.dryRun ? work() : withCommandLock(stateDir, inventory.cluster.name, 'reset', { json: opts.json, out, err }, work);
}

async function resetLocked(
  opts: ResetCommandOptions,
  ask: boolean,
  inventory: Inventory,
  sshNodes: ReadonlyMap<string, ResolvedNodeSsh>,
  stateDir: string,
  out: (text: string) => void,
  err: (text: string) => void,
): Promise<number> {
  const cluster = inventory.cluster.name;
  const log = new RunLog(stateDir, 'reset');
  log.write(
    `revue-pi reset -i ${opts.inventory}${opts.boot ? ' --boot' : ''}${opts.dryRun ? ' --dry-run' : ''}${typeof opts.yes === 'string' ? ' --yes <name>' : ''}`,
  );
  const open = opts.openTransport ?? (await import('../../core/connect.js')).transportOpener(inventory, { log, ssh: sshNodes });
  const typed = opts.typed ?? (ask ? (await import('../ui/prompts.js')).upPrompts.typed : undefined);
  const result = await runReset({
    inventory,
    stateDir,
    kubeconfigPath: resolveKubeconfigPath(opts.kubeconfig),
    boot: Boolean(opts.boot),
    dryRun: Boolean(opts.dryRun),
    concurrency: opts.concurrency,
    open,
    log,
    progress: (line) => err(`${line}\n`),
    showPlan: (plan) => {
      if (!opts.json) out(formatResetPlan(plan));
    },
    ...(ask
      ? {
          confirm: async () => {
            err(`This deletes cluster ${cluster} and all its data, as planned above. Press Enter to keep it.\n`);
            const yes = typedConsent(await typed!(`To reset it, type the cluster name (${cluster}):`), cluster);
            log.write(`asked to reset: ${yes ? 'the cluster name was typed' : 'not typed'}`);
            return yes;
          },
        }
      : {}),
  });
  log.write(`finished: exit ${result.exitCode}`);
  if (opts.json) out(JSON.stringify(result, null, 2) + '\n');
  else out(formatResetOutcome(result));
  return result.exitCode;
}

export function formatResetOutcome(r: ResetResult): string {
  if (!r.plan) return `${r.error}\n`;
  if (r.dryRun) return '(dry run: nothing was changed)\n';
  if (r.declined) return `${r.error}\n`;
  const mark = { reset: '✓', 'nothing-installed': '✓', unreachable: '✗', failed: '✗', 'not run': '·' } as const;
  const lines = r.nodes.map(
    (n) => `${mark[n.outcome]} ${n.name}: ${n.outcome === 'unreachable' ? 'unreachable over SSH, not reset' : (n.detail ?? n.outcome)}`,
  );
  if (r.ok) {
    lines.push(
      `On this computer: ${r.local.kubeconfig === 'removed' ? 'the kubeconfig entries were removed' : 'no kubeconfig entry to remove'}; ${r.local.stateRemoved.length > 0 ? `removed ${r.local.stateRemoved.join(', ')} from the state folder` : 'no state file to remove'}; backups kept.`,
    );
    lines.push(`Cluster ${r.cluster} is reset: \`revue-pi up\` builds a new one.`);
  } else lines.push(`Stopped: ${r.error}`);
  if (r.rebootNeeded.length > 0)
    lines.push(`The boot config of ${r.rebootNeeded.join(', ')} was reverted: it takes effect when they reboot (sudo reboot on each; reset does not reboot).`);
  return lines.join('\n') + '\n';
}
