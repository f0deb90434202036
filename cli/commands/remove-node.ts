import { runRemoveNode, type RemoveNodeResult } from '../../cluster/day-two/remove-node-run.js';
import { formatPlan, isNodeName } from '../../cluster/day-two/remove-node.js';
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
 * `revue-pi remove-node NAME [--yes] [--dry-run] [--json]`: the thin front of cluster/day-two/remove-node-run.ts.
 * Changing the cluster needs a terminal to ask at, or --yes: without either it stops before contacting anything.
 */
export interface RemoveNodeCommandOptions {
  name: string;
  inventory: string;
  yes?: boolean;
  dryRun?: boolean;
  drainTimeout: number;
  json?: boolean;
  stateDir?: string;
  kubeconfig?: string;
  /** Seams for tests; default: SSH, the terminal (when stdin and stderr are one), the process's streams. */
  openTransport?: (node: InventoryNode) => Promise<Transport>;
  prompts?: Prompts;
  interactive?: boolean;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
}

export async function runRemoveNodeCommand(opts: RemoveNodeCommandOptions): Promise<number> {
  const out = opts.stdout ?? ((t: string) => void process.stdout.write(t));
  const err = opts.stderr ?? ((t: string) => void process.stderr.write(t));
  if (!isNodeName(opts.name)) {
    err(`"${opts.name}" is not a node name (lowercase letters, digits and "-", as Kubernetes names nodes).\n`);
    return EXIT_BAD_INPUT;
  }
  const interactive = opts.interactive ?? Boolean(process.stdin.isTTY);
  if (!opts.dryRun && !opts.yes && (!interactive || opts.json)) {
    err(
      `remove-node changes the cluster and wipes K3s on ${opts.name}: run it at a terminal to be asked, or pass --yes (see the plan first with --dry-run). Nothing was contacted.\n`,
    );
    return EXIT_BAD_INPUT;
  }
  const loaded = loadInventoryForCommand(opts.inventory, { json: opts.json, out, err });
  if (!loaded) return EXIT_BAD_INPUT;
  // Node hosts may be ~/.ssh/config aliases; the settings it gives are used to connect (as up does).
  const ssh = resolveSshOrReport(loaded.inventory, { inventory: opts.inventory, json: opts.json, out, err });
  if (!ssh) return EXIT_BAD_INPUT;
  for (const warning of ssh.warnings) err(`  ! ${warning}\n`);
  const inventory = ssh.inventory;
  const stateDir = ensurePrivateDir(stateDirFor(inventory.cluster.name, opts.stateDir));
  // Removing a node changes the cluster and the state files: one run at a time per cluster (a dry run only reads).
  const work = () => removeNodeLocked(opts, inventory, ssh.nodes, stateDir, out, err);
  return opts.dryRun ? work() : withCommandLock(stateDir, inventory.cluster.name, 'remove-node', { json: opts.json, out, err }, work);
}

async function removeNodeLocked(
  opts: RemoveNodeCommandOptions,
  inventory: Inventory,
  sshNodes: ReadonlyMap<string, ResolvedNodeSsh>,
  stateDir: string,
  out: (text: string) => void,
  err: (text: string) => void,
): Promise<number> {
  const log = new RunLog(stateDir, 'remove-node');
  log.write(`revue-pi remove-node ${opts.name} -i ${opts.inventory}${opts.dryRun ? ' --dry-run' : ''}${opts.yes ? ' --yes' : ''}`);
  const open = opts.openTransport ?? (await import('../../core/connect.js')).transportOpener(inventory, { log, ssh: sshNodes });
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
    progress: (line) => err(`${line}\n`),
    showPlan: (plan) => {
      if (!opts.json) out(formatPlan(inventory.cluster.name, plan));
    },
    ...(ask
      ? { confirm: () => prompts!.confirm({ message: `Remove node ${opts.name} from cluster ${inventory.cluster.name}, as planned above?`, default: false }) }
      : {}),
  });
  log.write(`finished: exit ${result.exitCode}`);
  if (opts.json) out(JSON.stringify(result, null, 2) + '\n');
  else if (!result.plan) err(`${result.error}\n`);
  else out(formatOutcome(result, Boolean(opts.dryRun)));
  return result.exitCode;
}

export function formatOutcome(r: RemoveNodeResult, dryRun: boolean): string {
  if (r.plan?.refused !== undefined) return '';
  if (r.error && !r.steps.some((s) => s.status !== 'not run')) return `${r.error}\n`;
  if (dryRun) return '(dry run: nothing was changed)\n';
  const lines = r.steps.map((s) => `${s.status === 'done' ? '✓' : s.status === 'failed' ? '✗' : '·'} ${s.description}${s.detail ? ` — ${s.detail}` : ''}`);
  lines.push(r.ok ? `Node ${r.node} is removed from cluster ${r.cluster}.` : `Stopped: ${r.error}`);
  return lines.join('\n') + '\n';
}
