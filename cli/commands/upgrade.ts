import { runUpgrade, type UpgradeResult } from '../../cluster/day-two/upgrade-run.js';
import { formatUpgradePlan, parseK3sVersion, upgradeSummary, type UpgradePlan } from '../../cluster/day-two/upgrade.js';
import { wantedK3sVersion } from '../../cluster/install.js';
import { resolveKubeconfigPath } from '../../cluster/kubeconfig.js';
import type { Inventory, InventoryNode } from '../../core/inventory/schema.js';
import { loadInventoryForCommand } from '../../core/inventory/for-command.js';
import { RunLog } from '../../core/log.js';
import { withCommandLock } from '../../core/lock.js';
import { resolveSshOrReport } from '../../core/ssh-config/report.js';
import type { ResolvedNodeSsh } from '../../core/ssh-config/resolve.js';
import { EXIT_BAD_INPUT } from '../../core/report.js';
import { ensurePrivateDir, stateDirFor } from '../../core/state.js';
import type { Transport } from '../../core/remote/transport.js';
import type { Prompts } from '../ui/prompts.js';

/**
 * `revue-pi upgrade [--to VERSION] [--dry-run] [--json] [--yes]`: the thin front of cluster/day-two/upgrade-run.ts.
 * Changing the cluster needs a terminal to ask at, or --yes: without either it stops before contacting anything.
 */
export interface UpgradeCommandOptions {
  inventory: string;
  to?: string;
  yes?: boolean;
  dryRun?: boolean;
  json?: boolean;
  drainTimeout: number;
  agentBatch: number;
  stateDir?: string;
  kubeconfig?: string;
  /** Seams for tests; default: SSH, the terminal (when stdin is one), the process's streams. */
  openTransport?: (node: InventoryNode) => Promise<Transport>;
  prompts?: Prompts;
  interactive?: boolean;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
}

export async function runUpgradeCommand(opts: UpgradeCommandOptions): Promise<number> {
  const out = opts.stdout ?? ((t: string) => void process.stdout.write(t));
  const err = opts.stderr ?? ((t: string) => void process.stderr.write(t));
  if (opts.to !== undefined && !parseK3sVersion(opts.to)) {
    err(`--to ${opts.to} is not a K3s release name like v1.36.4+k3s1 (see https://github.com/k3s-io/k3s/releases). Nothing was contacted.\n`);
    return EXIT_BAD_INPUT;
  }
  const interactive = opts.interactive ?? Boolean(process.stdin.isTTY);
  if (!opts.dryRun && !opts.yes && (!interactive || opts.json)) {
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
  // Node hosts may be ~/.ssh/config aliases; the settings it gives are used to connect (as up does).
  const ssh = resolveSshOrReport(loaded.inventory, { inventory: opts.inventory, json: opts.json, out, err });
  if (!ssh) return EXIT_BAD_INPUT;
  for (const warning of ssh.warnings) err(`  ! ${warning}\n`);
  const inventory = ssh.inventory;
  const stateDir = ensurePrivateDir(stateDirFor(inventory.cluster.name, opts.stateDir));
  // An upgrade restarts nodes and writes the state files: one run at a time per cluster (a dry run only reads).
  const work = () => upgradeLocked(opts, inventory, target, ssh.nodes, stateDir, out, err);
  return opts.dryRun ? work() : withCommandLock(stateDir, inventory.cluster.name, 'upgrade', { json: opts.json, out, err }, work);
}

async function upgradeLocked(
  opts: UpgradeCommandOptions,
  inventory: Inventory,
  target: string,
  sshNodes: ReadonlyMap<string, ResolvedNodeSsh>,
  stateDir: string,
  out: (text: string) => void,
  err: (text: string) => void,
): Promise<number> {
  const log = new RunLog(stateDir, 'upgrade');
  log.write(`revue-pi upgrade -i ${opts.inventory} --to ${target}${opts.dryRun ? ' --dry-run' : ''}${opts.yes ? ' --yes' : ''}`);
  const open = opts.openTransport ?? (await import('../../core/connect.js')).transportOpener(inventory, { log, ssh: sshNodes });
  const ask = !opts.dryRun && !opts.yes;
  const prompts = opts.prompts ?? (ask ? (await import('../ui/prompts.js')).terminalPrompts : undefined);
  const confirm = async (plan: UpgradePlan): Promise<boolean> => {
    if (plan.refused !== undefined) return false;
    const go = await prompts!.confirm({
      message: `Upgrade ${upgradeSummary(plan)} of cluster ${inventory.cluster.name} to ${target}, as planned above?`,
      default: false,
    });
    if (!go || plan.cannotGuarantee.length === 0) return go;
    return prompts!.confirm({ message: 'Go ahead without a snapshot and with the API down during the restart (see "Not guaranteed" above)?', default: false });
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
    progress: (line) => err(`${line}\n`),
    showPlan: (plan, input) => {
      if (!opts.json) out(formatUpgradePlan(input, plan));
    },
    ...(ask ? { confirm } : {}),
  });
  log.write(`finished: exit ${result.exitCode}`);
  if (opts.json) out(JSON.stringify(result, null, 2) + '\n');
  else if (!result.plan) err(`${result.error}\n`);
  else out(formatUpgradeOutcome(result, Boolean(opts.dryRun)));
  return result.exitCode;
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
