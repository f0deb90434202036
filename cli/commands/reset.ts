import { formatResetPlan } from '../../cluster/day-two/reset.js';
import { resolveKubeconfigPath } from '../../cluster/kubeconfig.js';
import { loadInventoryForCommand } from '../../core/inventory/for-command.js';
import { EXIT_BAD_INPUT } from '../../core/report.js';
import { runReset, type ResetResult } from '../../pipeline/reset.js';
import { typedConsent } from '../consent.js';
import { finishRun, isInteractive, refuseBadInput, runOnCluster, streamsOf, type AskingSeams, type ClusterCommandOptions } from './day-two-front.js';

/**
 * `revue-pi reset [--yes CLUSTER_NAME] [--boot] [--dry-run] [--json]`: the thin front of pipeline/reset.ts.
 * Destroying the cluster is consented to on its own, like deleting data in `up`: the cluster's name typed at a
 * terminal, or given to --yes. `--yes` alone is not enough; without a terminal and without it, reset stops before
 * contacting anything (exit 2).
 */
export interface ResetCommandOptions extends ClusterCommandOptions, AskingSeams {
  /** true: `--yes` without a name; a string: the name given. */
  yes?: boolean | string;
  boot?: boolean;
  concurrency: number;
  kubeconfig?: string;
  /** Seam for tests; default: a line typed at the terminal. */
  typed?: (message: string) => Promise<string>;
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
  const streams = streamsOf(opts);
  const { out, err } = streams;
  const loaded = loadInventoryForCommand(opts.inventory, { json: opts.json, out, err });
  if (!loaded) return EXIT_BAD_INPUT;
  const consent = resetConsentFor(opts, loaded.inventory.cluster.name, isInteractive(opts));
  if (consent.kind === 'refuse') return refuseBadInput(consent.message, opts.json, streams);
  const ask = consent.kind === 'ask';
  const commandLine = `revue-pi reset -i ${opts.inventory}${opts.boot ? ' --boot' : ''}${opts.dryRun ? ' --dry-run' : ''}${typeof opts.yes === 'string' ? ' --yes <name>' : ''}`;
  return runOnCluster('reset', commandLine, loaded.inventory, opts, streams, async (run) => {
    const { inventory, stateDir, open, log, progress } = run;
    const cluster = inventory.cluster.name;
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
      progress,
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
    return finishRun(run, result, opts.json, out, () => out(formatResetOutcome(result)));
  });
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
