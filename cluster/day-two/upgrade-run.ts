import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { trimOutput } from '../../core/errors.js';
import type { Inventory, InventoryNode } from '../../core/inventory/schema.js';
import type { RunLog } from '../../core/log.js';
import { readTextIfExists, writePrivateFile } from '../../core/state.js';
import type { RunResult, Transport } from '../../core/remote/transport.js';
import { mergeKubeconfig } from '../kubeconfig.js';
import { fetchClusterKubeconfig } from '../kubeconfig-merge.js';
import { backupsFolder, listBackups, runBackup } from './backup-run.js';
import { readClusterFrom } from './cluster-read.js';
import { parseClusterView } from './cluster-view.js';
import { ETCD_MEMBERS_COMMAND, parseEtcdMembers, type EtcdMember } from './etcd.js';
import { buildDrainCommand, buildUncordonCommand, drainFailureSummary } from './remove-node-commands.js';
import {
  NODES_READ_COMMAND,
  READYZ_COMMAND,
  buildMarkCommand,
  buildUnmarkCommand,
  buildUpgradeInstallScript,
  describeNodeUpgrade,
  nodeBackState,
  planUpgrade,
  upgradeIsNoop,
  type NodeUpgrade,
  type UpgradeInput,
  type UpgradePlan,
} from './upgrade.js';

/**
 * `revue-pi upgrade`, the doing half: reads the cluster on a server, has upgrade.ts plan, asks (through `confirm`),
 * takes the etcd backup (backup-run.ts), then upgrades servers one at a time and agents in batches, and merges the
 * kubeconfig again. Stops at the first node that fails, saying which and that running it again continues there.
 */
export interface UpgradeOptions {
  inventory: Inventory;
  inventoryPath: string;
  target: string;
  targetFrom: UpgradeInput['targetFrom'];
  stateDir: string;
  kubeconfigPath: string;
  drainTimeoutSeconds: number;
  agentBatch: number;
  dryRun: boolean;
  showPlan?: (plan: UpgradePlan, input: UpgradeInput) => void;
  /** Asks the operator (the plan, and on its own what a SQLite cluster cannot guarantee); undefined: go on (--yes). */
  confirm?: (plan: UpgradePlan) => Promise<boolean>;
  open: (node: InventoryNode) => Promise<Transport>;
  log: RunLog;
  progress: (line: string) => void;
  /** Between two looks at a node coming back (default 1 s). */
  pollMs?: number;
}

export interface NodeUpgradeReport {
  name: string;
  role: 'server' | 'agent';
  action: NodeUpgrade['action'];
  from: string;
  status: 'done' | 'failed' | 'not run';
  startedAt?: string;
  finishedAt?: string;
  ms?: number;
  error?: string;
}

export interface UpgradeResult {
  ok: boolean;
  exitCode: number;
  cluster: string;
  target: string;
  via?: string;
  plan?: UpgradePlan;
  backup?: string;
  nodes: NodeUpgradeReport[];
  kubeconfig?: string;
  error?: string;
}

export async function runUpgrade(opts: UpgradeOptions): Promise<UpgradeResult> {
  const { inventory, log } = opts;
  const result: UpgradeResult = { ok: false, exitCode: 1, cluster: inventory.cluster.name, target: opts.target, nodes: [] };
  const transports = new Map<string, Transport>();
  const opened: Transport[] = [];
  const fail = (text: string, exitCode = 1): UpgradeResult => {
    log.write(`upgrade failed: ${text}`);
    return { ...result, exitCode, error: text };
  };
  try {
    const servers = inventory.nodes.filter((n) => n.role === 'server');
    const read = await readClusterFrom(servers, opts.open, opened);
    if ('tried' in read)
      return fail(`no server of cluster ${inventory.cluster.name} answered, so nothing was changed: ${read.tried.join('; ') || 'the inventory lists none'}.`);
    transports.set(read.viaNode.name, read.via);
    result.via = read.viaNode.name;
    const inCluster = new Map(read.view.nodes.map((n) => [n.name, n]));
    const ordered = [...servers, ...inventory.nodes.filter((n) => n.role === 'agent')];
    const input: UpgradeInput = {
      cluster: inventory.cluster.name,
      inventoryPath: opts.inventoryPath,
      target: opts.target,
      targetFrom: opts.targetFrom,
      nodes: [
        ...ordered.map((n) => {
          const c = inCluster.get(n.name);
          return {
            name: n.name,
            role: c?.role ?? n.role,
            inInventory: true,
            inCluster: c !== undefined,
            ...(c?.version ? { version: c.version } : {}),
            ...(c?.ready ? { ready: c.ready } : {}),
            unschedulable: c?.unschedulable ?? false,
            marked: c?.upgradeMark !== undefined,
          };
        }),
        ...read.view.nodes
          .filter((c) => !inventory.nodes.some((n) => n.name === c.name))
          .map((c) => ({ name: c.name, role: c.role, inInventory: false, inCluster: true, unschedulable: c.unschedulable, marked: false })),
      ],
      datastore: read.datastore,
      ...(read.members ? { members: read.members } : {}),
      agentBatch: opts.agentBatch,
      drainTimeoutSeconds: opts.drainTimeoutSeconds,
      backupFolder: backupsFolder(opts.stateDir),
      kubeconfigPath: opts.kubeconfigPath,
    };
    const plan = planUpgrade(input);
    result.plan = plan;
    opts.showPlan?.(plan, input);
    if (plan.refused !== undefined) return fail(plan.refused, 2);
    const all = [...plan.servers, ...plan.agentBatches.flat()];
    result.nodes = all.map((u) => ({ name: u.name, role: u.role, action: u.action, from: u.from, status: 'not run' }));
    if (opts.dryRun || upgradeIsNoop(plan)) return { ...result, ok: true, exitCode: 0 };
    if (opts.confirm && !(await opts.confirm(plan))) return fail('not confirmed: nothing was changed.');

    if (plan.backup) {
      opts.progress('etcd snapshot before the upgrade (as revue-pi backup)');
      // Keep every earlier backup: an upgrade is no time to prune.
      const backup = await runBackup({
        inventory,
        stateDir: opts.stateDir,
        keep: listBackups(opts.stateDir).length + 1,
        dryRun: false,
        open: opts.open,
        log,
        progress: opts.progress,
      });
      if (!backup.ok || !backup.backup) return fail(`the etcd backup before the upgrade failed, so nothing was changed: ${backup.error ?? 'no snapshot'}`);
      result.backup = backup.backup.folder;
    }

    const transportOf = async (name: string): Promise<Transport> => {
      let t = transports.get(name);
      if (!t) {
        t = await opts.open(inventory.nodes.find((n) => n.name === name)!);
        opened.push(t);
        transports.set(name, t);
      }
      return t;
    };
    // Cluster-side commands run on a server other than the one being upgraded (itself when it is the only one).
    const viaFor = async (u: NodeUpgrade): Promise<Transport> => {
      const others = servers.filter((s) => s.name !== u.name);
      for (const s of others.length > 0 ? others : servers) {
        try {
          return await transportOf(s.name);
        } catch {
          /* the next one */
        }
      }
      return read.via;
    };
    const expectedMembers = read.members?.length ?? 0;
    const runOne = async (u: NodeUpgrade, report: NodeUpgradeReport): Promise<boolean> => {
      const started = Date.now();
      report.startedAt = new Date(started).toISOString();
      opts.progress(`${u.name}: ${describeNodeUpgrade(u, opts.target, opts.drainTimeoutSeconds)}`);
      log.write(`upgrade ${u.name}: ${u.action} from ${u.from} to ${opts.target}`);
      const error = await upgradeNode(opts, u, await viaFor(u), () => transportOf(u.name), plan.datastore === 'etcd' ? expectedMembers : undefined).catch(
        (e: unknown) => (e instanceof Error ? e.message : String(e)),
      );
      report.finishedAt = new Date().toISOString();
      report.ms = Date.now() - started;
      report.status = error ? 'failed' : 'done';
      if (error) report.error = error;
      opts.progress(error ? `✗ ${u.name}: ${error}` : `✓ ${u.name} upgraded to ${opts.target} (${(report.ms / 1000).toFixed(1)} s)`);
      return !error;
    };
    const reportOf = (u: NodeUpgrade) => result.nodes.find((r) => r.name === u.name)!;
    const stopped = (u: string) =>
      fail(
        `${u} was not upgraded (${reportOf({ name: u } as NodeUpgrade).error}). Fix that and run revue-pi upgrade -i ${opts.inventoryPath} again: it continues where this run stopped (nodes at ${opts.target} are skipped, a node left cordoned is finished).`,
      );
    for (const s of plan.servers) if (!(await runOne(s, reportOf(s)))) return stopped(s.name);
    for (const batch of plan.agentBatches) {
      const outcomes = await Promise.all(batch.map((a) => runOne(a, reportOf(a))));
      const failed = batch.filter((_, i) => !outcomes[i]);
      if (failed.length > 0) return stopped(failed.map((f) => f.name).join(', '));
    }

    const first = servers[0]!;
    const kubeconfig = await fetchClusterKubeconfig(inventory, first, await transportOf(first.name));
    const existing = readTextIfExists(opts.kubeconfigPath);
    const merged = mergeKubeconfig(existing, kubeconfig, inventory.cluster.name, opts.kubeconfigPath);
    if (merged !== existing) {
      mkdirSync(dirname(opts.kubeconfigPath), { recursive: true, mode: 0o700 });
      writePrivateFile(opts.kubeconfigPath, merged);
    }
    result.kubeconfig = opts.kubeconfigPath;
    return { ...result, ok: true, exitCode: 0 };
  } finally {
    await Promise.all(opened.map((t) => t.close().catch(() => undefined)));
  }
}

/** One node: mark and drain (unless only finishing), install, wait until it is back, uncordon. The error, or undefined. */
async function upgradeNode(
  opts: UpgradeOptions,
  u: NodeUpgrade,
  via: Transport,
  own: () => Promise<Transport>,
  etcdMembers: number | undefined,
): Promise<string | undefined> {
  const output = (r: RunResult) => trimOutput(`${r.stderr}\n${r.stdout}`);
  const sudo = { sudo: true, timeoutMs: 60_000 };
  if (u.action === 'upgrade') {
    if (!u.keepCordoned) {
      const mark = await via.run(buildMarkCommand(u.name), sudo);
      if (mark.code !== 0) return `labelling Node ${u.name} failed (exit ${mark.code}): ${output(mark)}`;
    }
    const drain = await via.run(buildDrainCommand(u.name, opts.drainTimeoutSeconds), { sudo: true, timeoutMs: (opts.drainTimeoutSeconds + 90) * 1000 });
    if (drain.code !== 0) {
      const back = u.keepCordoned ? undefined : await uncordon(via, u.name).catch(() => 'failed');
      return (
        `draining it failed (exit ${drain.code}): ${drainFailureSummary(`${drain.stderr}\n${drain.stdout}`).replace(/\.$/, '')}. ` +
        `${back === undefined && !u.keepCordoned ? `${u.name} is schedulable again` : `${u.name} stays cordoned`}; K3s on it was not touched. Relax the PodDisruptionBudget that blocks it or raise --drain-timeout`
      );
    }
    const node = opts.inventory.nodes.find((n) => n.name === u.name)!;
    const timeoutMs = (opts.inventory.k3s.readyTimeoutSeconds + 300) * 1000;
    const install = await (await own()).run(buildUpgradeInstallScript(opts.inventory, node, opts.target), { sudo: true, timeoutMs });
    if (install.code !== 0) return `the installer failed on it (exit ${install.code}): ${output(install)}. It stays cordoned`;
  }
  const waited = await waitUntilBack(opts, u, via, own, etcdMembers);
  if (waited)
    return `${waited} after ${opts.inventory.k3s.readyTimeoutSeconds} s (k3s.readyTimeoutSeconds). It stays cordoned; look at journalctl -u ${u.role === 'server' ? 'k3s' : 'k3s-agent'} on it`;
  if (u.keepCordoned) {
    const unmark = await via.run(buildUnmarkCommand(u.name), sudo);
    return unmark.code === 0 ? undefined : `removing the upgrade label failed: ${output(unmark)}`;
  }
  const failed = await uncordon(via, u.name);
  return failed ? `uncordoning it failed: ${failed}` : undefined;
}

/** Uncordon, then drop the mark (in this order: a resumed run still finds a node that is cordoned). The error, if any. */
async function uncordon(via: Transport, name: string): Promise<string | undefined> {
  const r = await via.run(buildUncordonCommand(name), { sudo: true, timeoutMs: 60_000 });
  if (r.code !== 0) return trimOutput(`${r.stderr}\n${r.stdout}`);
  const m = await via.run(buildUnmarkCommand(name), { sudo: true, timeoutMs: 60_000 });
  return m.code === 0 ? undefined : trimOutput(`${m.stderr}\n${m.stdout}`);
}

/** Polls until the node is back (nodeBackState); undefined when it is, else the last reason. API errors are retried. */
async function waitUntilBack(
  opts: UpgradeOptions,
  u: NodeUpgrade,
  via: Transport,
  own: () => Promise<Transport>,
  etcdMembers: number | undefined,
): Promise<string | undefined> {
  const deadline = Date.now() + opts.inventory.k3s.readyTimeoutSeconds * 1000;
  let last = 'no answer yet';
  for (;;) {
    try {
      const nodes = await via.run(NODES_READ_COMMAND, { sudo: true, timeoutMs: 30_000 });
      if (nodes.code !== 0) throw new Error(trimOutput(`${nodes.stderr}\n${nodes.stdout}`, 2));
      const view = parseClusterView(nodes.stdout);
      let etcd: { members: EtcdMember[]; expected: number; readyz: boolean } | undefined;
      if (u.role === 'server' && etcdMembers !== undefined) {
        const members = await via.run(ETCD_MEMBERS_COMMAND, { sudo: true, timeoutMs: 30_000 });
        if (members.code !== 0) throw new Error(`etcd's members: ${trimOutput(`${members.stderr}\n${members.stdout}`, 2)}`);
        const readyz = await (await own()).run(READYZ_COMMAND, { sudo: true, timeoutMs: 30_000 });
        etcd = { members: parseEtcdMembers(members.stdout), expected: etcdMembers, readyz: readyz.code === 0 && readyz.stdout.trim() === 'ok' };
      }
      const why = nodeBackState(view, u, opts.target, etcd);
      if (!why) return undefined;
      last = why;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) return last;
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 1000));
  }
}
