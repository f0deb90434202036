import { runRemoveNode, type RemoveNodeResult } from '../../cluster/day-two/remove-node-run.js';
import { formatPlan, isNodeName } from '../../cluster/day-two/remove-node.js';
import { resolveKubeconfigPath } from '../../cluster/kubeconfig.js';
import { loadInventoryForCommand } from '../../core/inventory/for-command.js';
import { EXIT_BAD_INPUT } from '../../core/report.js';
import type { Prompts } from '../ui/prompts.js';
import { finishRun, isInteractive, runOnCluster, streamsOf, type AskingSeams, type ClusterCommandOptions } from './day-two-front.js';

/**
 * `revue-pi remove-node NAME [--yes] [--dry-run] [--json]`: the thin front of cluster/day-two/remove-node-run.ts.
 * Changing the cluster needs a terminal to ask at, or --yes: without either it stops before contacting anything.
 */
export interface RemoveNodeCommandOptions extends ClusterCommandOptions, AskingSeams {
  name: string;
  yes?: boolean;
  drainTimeout: number;
  kubeconfig?: string;
  /** Seam for tests; default: the terminal's prompts. */
  prompts?: Prompts;
}

export async function runRemoveNodeCommand(opts: RemoveNodeCommandOptions): Promise<number> {
  const streams = streamsOf(opts);
  const { out, err } = streams;
  if (!isNodeName(opts.name)) {
    err(`"${opts.name}" is not a node name (lowercase letters, digits and "-", as Kubernetes names nodes).\n`);
    return EXIT_BAD_INPUT;
  }
  if (!opts.dryRun && !opts.yes && (!isInteractive(opts) || opts.json)) {
    err(
      `remove-node changes the cluster and wipes K3s on ${opts.name}: run it at a terminal to be asked, or pass --yes (see the plan first with --dry-run). Nothing was contacted.\n`,
    );
    return EXIT_BAD_INPUT;
  }
  const loaded = loadInventoryForCommand(opts.inventory, { json: opts.json, out, err });
  if (!loaded) return EXIT_BAD_INPUT;
  // Removing a node changes the cluster and the state files: one run at a time per cluster.
  const commandLine = `revue-pi remove-node ${opts.name} -i ${opts.inventory}${opts.dryRun ? ' --dry-run' : ''}${opts.yes ? ' --yes' : ''}`;
  return runOnCluster('remove-node', commandLine, loaded.inventory, opts, streams, async (run) => {
    const { inventory, stateDir, open, log, progress } = run;
    const ask = !opts.dryRun && !opts.yes;
    const prompts = opts.prompts ?? (ask ? (await import('../ui/prompts.js')).terminalPrompts : undefined);
    const result = await runRemoveNode({
      inventory,
      name: opts.name,
      stateDir,
      kubeconfigPath: resolveKubeconfigPath(opts.kubeconfig),
      drainTimeoutSeconds: opts.drainTimeout,
      dryRun: Boolean(opts.dryRun),
      open,
      log,
      progress,
      showPlan: (plan) => {
        if (!opts.json) out(formatPlan(inventory.cluster.name, plan));
      },
      ...(ask
        ? { confirm: () => prompts!.confirm({ message: `Remove node ${opts.name} from cluster ${inventory.cluster.name}, as planned above?`, default: false }) }
        : {}),
    });
    return finishRun(run, result, opts.json, out, () => {
      if (!result.plan) err(`${result.error}\n`);
      else out(formatOutcome(result, Boolean(opts.dryRun)));
    });
  });
}

export function formatOutcome(r: RemoveNodeResult, dryRun: boolean): string {
  if (r.plan?.refused !== undefined) return '';
  if (r.error && !r.steps.some((s) => s.status !== 'not run')) return `${r.error}\n`;
  if (dryRun) return '(dry run: nothing was changed)\n';
  const lines = r.steps.map((s) => `${s.status === 'done' ? '✓' : s.status === 'failed' ? '✗' : '·'} ${s.description}${s.detail ? ` — ${s.detail}` : ''}`);
  lines.push(r.ok ? `Node ${r.node} is removed from cluster ${r.cluster}.` : `Stopped: ${r.error}`);
  return lines.join('\n') + '\n';
}
