import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { firstServerOf } from '../cluster/config.js';
import { BACKUPS_FOLDER } from '../cluster/day-two/backup.js';
import { NODE_STATE_FILES } from '../cluster/day-two/forget.js';
import {
  K3S_STATE_SECTION,
  buildResetUninstallScript,
  parseK3sInstallState,
  parseRemains,
  planReset,
  type ResetNodeInput,
  type ResetNodePlan,
  type ResetPlan,
} from '../cluster/day-two/reset.js';
import { mergedEntries, unmergeKubeconfig } from '../cluster/kubeconfig.js';
import { trimOutput } from '../core/errors.js';
import type { Inventory, InventoryNode } from '../core/inventory/schema.js';
import type { RunLog } from '../core/log.js';
import { buildProbeScript, parseProbeOutput } from '../core/remote/probe.js';
import { sh } from '../core/remote/shell.js';
import type { Transport } from '../core/remote/transport.js';
import { forEachNode } from '../core/runner.js';
import { readTextIfExists, writePrivateFile } from '../core/state.js';
import { BOOT_FILES_SECTIONS, parseBootFiles, planBootRevert, type BootRevert } from '../provision/boot-revert.js';
import { WORKLOAD_SECRETS_FILE } from '../workloads/secrets-file.js';

/**
 * `revue-pi reset`, the doing half: probes every node (what K3s left there; with --boot, the boot files), has
 * cluster/day-two/reset.ts plan, asks (through `confirm`), then uninstalls — agents together (at most `concurrency`),
 * the extra servers one at a time, the first server last — and checks each node ends clean. An unreachable node is
 * reported and the others go on. Only when every node is clean are the kubeconfig entries and the state files removed
 * (backups and logs stay).
 */
export interface ResetOptions {
  inventory: Inventory;
  stateDir: string;
  kubeconfigPath: string;
  boot: boolean;
  dryRun: boolean;
  concurrency: number;
  open: (node: InventoryNode) => Promise<Transport>;
  log: RunLog;
  progress: (line: string) => void;
  showPlan?: (plan: ResetPlan) => void;
  /** Asks the operator; undefined: go on (consent was given on the command line). */
  confirm?: (plan: ResetPlan) => Promise<boolean>;
}

export type NodeOutcome = 'reset' | 'nothing-installed' | 'unreachable' | 'failed' | 'not run';

export interface ResetResult {
  ok: boolean;
  exitCode: number;
  cluster: string;
  dryRun: boolean;
  plan?: ResetPlan;
  nodes: { name: string; outcome: NodeOutcome; detail?: string; remains?: string[]; bootChanged?: string[] }[];
  /** Nodes not reset because SSH to them failed. */
  unreachable: string[];
  /** Nodes whose boot config was reverted: it takes effect when they reboot. */
  rebootNeeded: string[];
  local: { kubeconfig: 'removed' | 'absent' | 'kept'; stateRemoved: string[] };
  /** The operator did not type the cluster name: nothing was changed. */
  declined?: true;
  error?: string;
}

/** The state files that make up revue-pi's record of a cluster (removed by reset); backups/ and logs/ are kept. */
export const CLUSTER_STATE_FILES = ['token', WORKLOAD_SECRETS_FILE, ...NODE_STATE_FILES];

interface Probed {
  transport?: Transport;
  input: ResetNodeInput;
  boot?: BootRevert;
}

export async function runReset(opts: ResetOptions): Promise<ResetResult> {
  const { inventory, log } = opts;
  const result: ResetResult = {
    ok: false,
    exitCode: 1,
    cluster: inventory.cluster.name,
    dryRun: opts.dryRun,
    nodes: [],
    unreachable: [],
    rebootNeeded: [],
    local: { kubeconfig: 'kept', stateRemoved: [] },
  };
  const probed = new Map<string, Probed>();
  try {
    opts.progress(`probing ${inventory.nodes.length} node(s)`);
    const settled = await forEachNode(inventory.nodes, opts.concurrency, (node) => probeNode(opts, node));
    for (const node of inventory.nodes) {
      const s = settled.get(node.name)!;
      probed.set(node.name, s.ok ? s.value : { input: { name: node.name, role: node.role, unreachable: firstLine(s.error) } });
    }
    let plan: ResetPlan;
    try {
      plan = planReset({
        cluster: inventory.cluster.name,
        nodes: inventory.nodes.map((n) => probed.get(n.name)!.input),
        ...(firstServerOf(inventory) ? { firstServer: firstServerOf(inventory)!.name } : {}),
        boot: opts.boot,
        kubeconfig: { path: opts.kubeconfigPath, entries: mergedEntries(readTextIfExists(opts.kubeconfigPath), inventory.cluster.name, opts.kubeconfigPath) },
        state: stateOf(opts.stateDir),
      });
    } catch (error) {
      result.error = `${firstLine(error)} Fix the file (or name another with --kubeconfig) and run reset again; nothing was changed.`;
      return result;
    }
    result.plan = plan;
    result.nodes = plan.nodes.map((n) => ({ name: n.name, outcome: n.status === 'unreachable' ? 'unreachable' : 'not run' }));
    result.unreachable = plan.nodes.filter((n) => n.status === 'unreachable').map((n) => n.name);
    opts.showPlan?.(plan);
    if (opts.dryRun) return { ...result, ok: true, exitCode: 0 };
    if (opts.confirm && !(await opts.confirm(plan))) {
      result.declined = true;
      result.error = `the cluster name was not typed: nothing was changed.`;
      return result;
    }
    log.write(`reset ${inventory.cluster.name}: confirmed`);

    for (const wave of plan.waves) {
      const nodes = wave.nodes.map((name) => plan.nodes.find((n) => n.name === name)!);
      await forEachNode(nodes, wave.what === 'agents' ? opts.concurrency : 1, (n) => resetNode(opts, n, probed.get(n.name)!, result));
    }
    const failed = result.nodes.filter((n) => n.outcome === 'failed' || n.outcome === 'unreachable');
    if (failed.length > 0) {
      result.error =
        `not every node is reset: ${failed.map((n) => `${n.name} (${n.outcome === 'unreachable' ? 'unreachable' : n.detail})`).join('; ')}. ` +
        `The kubeconfig entries and the state files are kept until they are; fix them and run reset again (nodes already clean are left as they are).`;
      return result;
    }
    cleanLocal(opts, plan, result);
    return { ...result, ok: true, exitCode: 0 };
  } finally {
    await Promise.all([...probed.values()].map((p) => p.transport?.close().catch(() => undefined)));
  }
}

async function probeNode(opts: ResetOptions, node: InventoryNode): Promise<Probed> {
  const transport = await opts.open(node);
  try {
    const r = await transport.run(buildProbeScript([K3S_STATE_SECTION, ...(opts.boot ? BOOT_FILES_SECTIONS : [])]), { sudo: true, timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`reached, but probing it failed (exit ${r.code}): ${trimOutput(r.stderr || r.stdout, 2)}`);
    const sections = parseProbeOutput(r.stdout);
    const boot = opts.boot ? planBootRevert(parseBootFiles(sections)) : undefined;
    return {
      transport,
      input: {
        name: node.name,
        role: node.role,
        k3s: parseK3sInstallState(sections.get(K3S_STATE_SECTION.name) ?? ''),
        ...(boot ? { boot: { changes: boot.writes.map((w) => w.reason), keeps: boot.keeps } } : {}),
      },
      ...(boot ? { boot } : {}),
    };
  } catch (error) {
    await transport.close().catch(() => undefined);
    throw error;
  }
}

async function resetNode(opts: ResetOptions, n: ResetNodePlan, p: Probed, result: ResetResult): Promise<void> {
  const report = result.nodes.find((r) => r.name === n.name)!;
  if (n.status === 'unreachable' || !p.transport) return;
  const t = p.transport;
  try {
    if (n.status === 'reset') {
      opts.progress(`${n.name}: ${n.scripts.length > 0 ? n.scripts.join(', then ') : 'no uninstall script'}`);
      const r = await t.run(buildResetUninstallScript(n.scripts), { sudo: true, timeoutMs: 300_000 });
      const remains = parseRemains(r.stdout);
      opts.log.write(`[${n.name}] uninstall exit ${r.code}: ${r.stdout.trim().split('\n').join(' | ')}`);
      if (r.code !== 0) {
        report.outcome = 'failed';
        report.detail =
          remains.length > 0
            ? `K3s is not gone after ${n.scripts.join(', ') || 'no uninstall script'}: ${remains.join(', ')} remain`
            : `uninstalling failed (exit ${r.code}): ${trimOutput(r.stderr || r.stdout, 3)}`;
        if (remains.length > 0) report.remains = remains;
        return;
      }
      report.outcome = 'reset';
      report.detail = `ran ${n.scripts.join(', then ')}; no K3s unit, binary or data left`;
    } else {
      report.outcome = 'nothing-installed';
      report.detail = 'K3s was not installed';
    }
    if (p.boot && p.boot.writes.length > 0) {
      const w = await t.writeFilesThenRun(
        p.boot.writes.map((f) => ({ path: f.path, content: f.content, mode: 0o644 })),
        sh``,
        { sudo: true, timeoutMs: 60_000 },
      );
      if (w.code !== 0) {
        report.outcome = 'failed';
        report.detail = `K3s is gone, but reverting the boot config failed (exit ${w.code}): ${trimOutput(w.stderr || w.stdout, 3)}`;
        return;
      }
      report.bootChanged = p.boot.writes.map((f) => f.path);
      result.rebootNeeded.push(n.name);
      opts.log.write(`[${n.name}] boot config reverted: ${report.bootChanged.join(', ')}`);
    }
  } catch (error) {
    report.outcome = 'failed';
    report.detail = firstLine(error);
  }
}

function stateOf(dir: string): { dir: string; remove: string[]; keep: string[] } {
  const remove = CLUSTER_STATE_FILES.filter((f) => existsSync(join(dir, f)));
  const keep: string[] = [];
  const backups = join(dir, BACKUPS_FOLDER);
  if (existsSync(backups)) {
    const count = readdirSync(backups, { withFileTypes: true }).filter((d) => d.isDirectory()).length;
    keep.push(`${backups} (${count} backup${count === 1 ? '' : 's'}: revue-pi restore needs them; reset never deletes them)`);
  } else keep.push(`${backups} (none yet; reset never deletes backups)`);
  keep.push(`${join(dir, 'logs')} (the run logs, this one included)`);
  return { dir, remove, keep };
}

function cleanLocal(opts: ResetOptions, plan: ResetPlan, result: ResetResult): void {
  const text = readTextIfExists(opts.kubeconfigPath);
  if (text !== undefined && plan.local.kubeconfig.removes.length > 0) {
    writePrivateFile(opts.kubeconfigPath, unmergeKubeconfig(text, plan.cluster, opts.kubeconfigPath));
    result.local.kubeconfig = 'removed';
    opts.log.write(`removed context, cluster and user ${plan.cluster} from ${opts.kubeconfigPath}`);
  } else result.local.kubeconfig = 'absent';
  for (const f of plan.local.state.removes) {
    rmSync(join(opts.stateDir, f), { force: true });
    result.local.stateRemoved.push(f);
  }
  opts.log.write(`removed from the state dir: ${result.local.stateRemoved.join(', ') || 'nothing'}`);
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}
