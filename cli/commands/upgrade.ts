import { runUpgrade, type UpgradeResult } from '../../cluster/day-two/upgrade-run.js';
import { formatUpgradePlan, parseK3sVersion, upgradeSummary, type UpgradePlan } from '../../cluster/day-two/upgrade.js';
import { wantedK3sVersion } from '../../cluster/install.js';
import { resolveKubeconfigPath } from '../../cluster/kubeconfig.js';
import { loadInventoryForCommand } from '../../core/inventory/for-command.js';
import { EXIT_BAD_INPUT } from '../../core/report.js';
import type { Prompts } from '../ui/prompts.js';
import { finishRun, isInteractive, runOnCluster, streamsOf, type AskingSeams, type ClusterCommandOptions } from './day-two-front.js';

/**
 * `revue-pi upgrade [--to VERSION] [--dry-run] [--json] [--yes]`: the thin front of cluster/day-two/upgrade-run.ts.
 * Changing the cluster needs a terminal to ask at, or --yes: without either it stops before contacting anything.
 */
export interface UpgradeCommandOptions extends ClusterCommandOptions, AskingSeams {
  to?: string;
  yes?: boolean;
  drainTimeout: number;
  agentBatch: number;
  kubeconfig?: string;
  /** Seam for tests; default: the terminal's prompts. */
  prompts?: Prompts;
}

export async function runUpgradeCommand(opts: UpgradeCommandOptions): Promise<number> {
  const streams = streamsOf(opts);
  const { out, err } = streams;
  if (opts.to !== undefined && !parseK3sVersion(opts.to)) {
    err(`--to ${opts.to} is not a K3s release name like v1.36.4+k3s1 (see https://github.com/k3s-io/k3s/releases). Nothing was contacted.\n`);
    return EXIT_BAD_INPUT;
  }
  if (!opts.dryRun && !opts.yes && (!isInteractive(opts) || opts.json)) {
    err(
      'upgrade restarts K3s on every node, one after the other: run it at a terminal to be asked, or pass --yes (see the plan first with --dry-run). Nothing was contacted.\n',
    );
    return EXIT_BAD_INPUT;
  }
  const loaded = loadInventoryForCommand(opts.inventory, { json: opts.json, out, err });
  if (!loaded) return EXIT_BAD_INPUT;
  const target = opts.to ?? (loaded.inventory.k3s.airgap ? undefined : wantedK3sVersion(loaded.inventory));
  if (loaded.inventory.k3s.airgap) {
    err(
      `${opts.inventory} installs K3s air-gapped (k3s.airgap): revue-pi upgrade downloads the new release through the installer and cannot upgrade it. Upgrade by hand (docs.k3s.io/upgrades/manual, "Manually Upgrade K3s Using the Binary"). Nothing was contacted.\n`,
    );
    return EXIT_BAD_INPUT;
  }
  if (!target) {
    err(
      `${opts.inventory} follows the release channel ${loaded.inventory.k3s.channel} (k3s.channel) and names no version: give the one to upgrade to with --to (e.g. --to v1.36.4+k3s1), or set k3s.version. Nothing was contacted.\n`,
    );
    return EXIT_BAD_INPUT;
  }
  // An upgrade restarts nodes and writes the state files: one run at a time per cluster.
  const commandLine = `revue-pi upgrade -i ${opts.inventory} --to ${target}${opts.dryRun ? ' --dry-run' : ''}${opts.yes ? ' --yes' : ''}`;
  return runOnCluster('upgrade', commandLine, loaded.inventory, opts, streams, async (run) => {
    const { inventory, stateDir, open, log, progress } = run;
    const ask = !opts.dryRun && !opts.yes;
    const prompts = opts.prompts ?? (ask ? (await import('../ui/prompts.js')).terminalPrompts : undefined);
    const confirm = async (plan: UpgradePlan): Promise<boolean> => {
      if (plan.refused !== undefined) return false;
      const go = await prompts!.confirm({
        message: `Upgrade ${upgradeSummary(plan)} of cluster ${inventory.cluster.name} to ${target}, as planned above?`,
        default: false,
      });
      if (!go || plan.cannotGuarantee.length === 0) return go;
      return prompts!.confirm({
        message: 'Go ahead without a snapshot and with the API down during the restart (see "Not guaranteed" above)?',
        default: false,
      });
    };

    const result = await runUpgrade({
      inventory,
      inventoryPath: opts.inventory,
      target,
      targetFrom: opts.to !== undefined ? '--to' : 'k3s.version',
      stateDir,
      kubeconfigPath: resolveKubeconfigPath(opts.kubeconfig),
      drainTimeoutSeconds: opts.drainTimeout,
      agentBatch: opts.agentBatch,
      dryRun: Boolean(opts.dryRun),
      open,
      log,
      progress,
      showPlan: (plan, input) => {
        if (!opts.json) out(formatUpgradePlan(input, plan));
      },
      ...(ask ? { confirm } : {}),
    });
    return finishRun(run, result, opts.json, out, () => {
      if (!result.plan) err(`${result.error}\n`);
      else out(formatUpgradeOutcome(result, Boolean(opts.dryRun)));
    });
  });
}

export function formatUpgradeOutcome(r: UpgradeResult, dryRun: boolean): string {
  if (r.plan?.refused !== undefined) return '';
  if (dryRun) return '(dry run: nothing was changed)\n';
  const lines = r.nodes
    .filter((n) => n.status !== 'not run' || !r.ok)
    .map(
      (n) =>
        `${n.status === 'done' ? '✓' : n.status === 'failed' ? '✗' : '·'} ${n.name} ${n.status === 'done' ? `at ${r.target}` : n.status}${n.ms !== undefined ? ` (${(n.ms / 1000).toFixed(1)} s)` : ''}`,
    );
  if (r.backup) lines.unshift(`Backup before the upgrade: ${r.backup}`);
  if (r.ok)
    lines.push(
      r.nodes.length === 0
        ? `Every node of cluster ${r.cluster} runs ${r.target} already.`
        : `Cluster ${r.cluster} runs ${r.target} on every node; kubeconfig merged into ${r.kubeconfig}.`,
    );
  else lines.push(`Stopped: ${r.error}`);
  return lines.join('\n') + '\n';
}
