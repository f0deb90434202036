import { sh } from '../../core/remote/shell.js';
import { trimOutput } from '../../core/errors.js';
import type { Inventory, InventoryNode } from '../../core/inventory/schema.js';
import type { RunLog } from '../../core/log.js';
import { readTextIfExists, writePrivateFile } from '../../core/state.js';
import { buildProbeScript, parseProbeOutput } from '../../core/remote/probe.js';
import type { RunResult, Transport } from '../../core/remote/transport.js';
import { ETCD_MEMBERS_COMMAND, buildDatastoreProbe, parseDatastore, parseEtcdMembers, type EtcdMember } from './etcd.js';
import { firstAnsweringServer } from './first-server.js';
import { forgetNodeInState, kubeconfigServer, nodeStateFiles, repointKubeconfig } from './forget.js';
import {
  STOP_SERVER_COMMAND,
  buildDeleteNodeCommand,
  buildDrainCommand,
  buildUncordonCommand,
  buildUninstallScript,
  drainFailureSummary,
  isApiUnavailable,
} from './remove-node-commands.js';
import {
  CLUSTER_READ_COMMAND,
  describeStep,
  parseClusterView,
  planRemoval,
  type ClusterView,
  type RemovalPlan,
  type RemovalStep,
  type RemovalTarget,
} from './remove-node.js';

/**
 * `revue-pi remove-node`, the doing half: reads the cluster on a server that stays, tries SSH to the node, has
 * remove-node.ts plan, asks (through `confirm`), then runs the steps in order and stops at the first that fails, saying
 * what was done and what to do. Every command comes from remove-node-commands.ts.
 */
export interface RemoveNodeOptions {
  inventory: Inventory;
  name: string;
  stateDir: string;
  kubeconfigPath: string;
  drainTimeoutSeconds: number;
  dryRun: boolean;
  /** Shown the plan as soon as it is made (refused or not), before anything changes. */
  showPlan?: (plan: RemovalPlan) => void;
  /** Asks the operator; undefined: go on (--yes). */
  confirm?: (plan: RemovalPlan) => Promise<boolean>;
  open: (node: InventoryNode) => Promise<Transport>;
  log: RunLog;
  progress: (line: string) => void;
  /** Bounds for waiting on the API after a server stops, and on K3s removing the etcd member. */
  apiWaitMs?: number;
  memberWaitMs?: number;
  /** Between two tries of the delete (default 3 s) and two looks at the members (default 2 s). */
  pollMs?: number;
}

export interface RemoveNodeResult {
  ok: boolean;
  exitCode: number;
  cluster: string;
  node: string;
  target?: RemovalTarget;
  via?: string;
  plan?: RemovalPlan;
  steps: { kind: RemovalStep['kind']; description: string; status: 'done' | 'failed' | 'not run'; detail?: string }[];
  error?: string;
}

export async function runRemoveNode(opts: RemoveNodeOptions): Promise<RemoveNodeResult> {
  const { inventory, name, log } = opts;
  const result: RemoveNodeResult = { ok: false, exitCode: 1, cluster: inventory.cluster.name, node: name, steps: [] };
  const transports: Transport[] = [];
  const fail = (text: string): RemoveNodeResult => {
    log.write(`remove-node ${name} failed: ${text}`);
    result.error = text;
    return result;
  };
  try {
    const read = await readCluster(opts, transports);
    if ('error' in read) return fail(read.error);
    const { via, viaNode, view, members } = read;
    result.via = viaNode.name;

    const listed = view.nodes.find((n) => n.name === name);
    const entry = inventory.nodes.find((n) => n.name === name);
    const address = entry?.host ?? listed?.address;
    let target: Transport | undefined;
    let unreachableReason: string | undefined;
    if (address) {
      try {
        target = await opts.open(entry ?? { name, host: address, role: listed?.role ?? 'agent', labels: {}, taints: [] });
        transports.push(target);
      } catch (error) {
        unreachableReason = error instanceof Error ? error.message.split('\n')[0] : String(error);
      }
    }
    const plan = planRemoval({
      name,
      cluster: inventory.cluster.name,
      view,
      ...(members ? { members } : {}),
      via: { name: viaNode.name, host: viaNode.host },
      inInventory: entry !== undefined,
      ...(address ? { reachable: target !== undefined } : {}),
      ...(unreachableReason ? { unreachableReason } : {}),
      drainTimeoutSeconds: opts.drainTimeoutSeconds,
      ...kubeconfigOf(opts),
      hosts: [name, listed?.address, entry?.host].filter((h): h is string => Boolean(h)),
      stateFiles: nodeStateFiles(opts.stateDir, name),
    });
    result.plan = plan;
    result.target = plan.target;
    opts.showPlan?.(plan);
    if (plan.refused !== undefined) return fail(plan.refused);
    result.steps = plan.steps.map((s) => ({ kind: s.kind, description: describeStep(s), status: 'not run' }));
    if (opts.dryRun) return { ...result, ok: true, exitCode: 0 };
    if (opts.confirm && !(await opts.confirm(plan))) return fail('not confirmed: nothing was changed.');

    for (const [i, step] of plan.steps.entries()) {
      const report = result.steps[i]!;
      opts.progress(`${i + 1}/${plan.steps.length} ${report.description}`);
      log.write(`step ${step.kind}: ${report.description}`);
      const outcome = await runStep(opts, step, via, target);
      report.status = outcome.error ? 'failed' : 'done';
      if (outcome.detail) report.detail = outcome.detail;
      if (outcome.error)
        return fail(
          `${outcome.error}${
            i > 0
              ? ` Done before: ${result.steps
                  .slice(0, i)
                  .map((s) => s.kind)
                  .join(', ')}.`
              : ''
          }`,
        );
    }
    return { ...result, ok: true, exitCode: 0 };
  } finally {
    await Promise.all(transports.map((t) => t.close().catch(() => undefined)));
  }
}

interface ClusterRead {
  via: Transport;
  viaNode: InventoryNode;
  view: ClusterView;
  members?: EtcdMember[];
}

/** The first inventory server other than the node that answers over SSH and whose API answers: it runs the cluster-side steps. */
async function readCluster(opts: RemoveNodeOptions, transports: Transport[]): Promise<ClusterRead | { error: string }> {
  const servers = opts.inventory.nodes.filter((n) => n.role === 'server' && n.name !== opts.name);
  const answered = await firstAnsweringServer(servers, opts.open, readClusterOn, (error) =>
    error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error),
  );
  if ('found' in answered) {
    transports.push(answered.transport);
    return { via: answered.transport, viaNode: answered.node, ...answered.found };
  }
  if (servers.length === 0)
    return { error: `the inventory lists no server other than ${opts.name} to run the removal from: put the cluster's other servers in it.` };
  return {
    error: `no server of cluster ${opts.inventory.cluster.name} other than ${opts.name} answered, so nothing was changed: ${answered.tried.join('; ')}.`,
  };
}

/** The nodes and (with embedded etcd) the members, read on one server; throws when its API or etcd does not answer. */
async function readClusterOn(transport: Transport): Promise<{ view: ClusterView; members?: EtcdMember[] }> {
  const probe = await transport.run(
    buildProbeScript([
      { name: 'cluster', script: sh`${CLUSTER_READ_COMMAND} 2>&1` },
      { name: 'etcd', script: sh`${ETCD_MEMBERS_COMMAND} 2>&1` },
      { name: 'datastore', script: buildDatastoreProbe() },
    ]),
    { sudo: true, timeoutMs: 90_000 },
  );
  const sections = parseProbeOutput(probe.stdout);
  const clusterText = sections.get('cluster') ?? '';
  if (!clusterText.trimStart().startsWith('{')) throw new Error(`its API did not answer: ${trimOutput(clusterText, 2)}`);
  const view = parseClusterView(clusterText);
  if (parseDatastore(sections.get('datastore') ?? '') !== 'etcd') return { view };
  const etcdText = sections.get('etcd') ?? '';
  if (!etcdText.trimStart().startsWith('{')) throw new Error(`etcd's member list could not be read (${ETCD_MEMBERS_COMMAND}): ${trimOutput(etcdText, 2)}`);
  return { view, members: parseEtcdMembers(etcdText) };
}

function kubeconfigOf(opts: RemoveNodeOptions): { kubeconfig?: { path: string; server: string } } {
  const server = kubeconfigServer(readTextIfExists(opts.kubeconfigPath), opts.inventory.cluster.name);
  return server ? { kubeconfig: { path: opts.kubeconfigPath, server } } : {};
}

async function runStep(
  opts: RemoveNodeOptions,
  step: RemovalStep,
  via: Transport,
  target: Transport | undefined,
): Promise<{ error?: string; detail?: string }> {
  const output = (r: RunResult) => trimOutput(`${r.stderr}\n${r.stdout}`);
  switch (step.kind) {
    case 'drain': {
      const r = await via.run(buildDrainCommand(step.node, step.timeoutSeconds), { sudo: true, timeoutMs: (step.timeoutSeconds + 90) * 1000 });
      if (r.code === 0) return { detail: lastLine(r.stdout) };
      const back = await via.run(buildUncordonCommand(step.node), { sudo: true, timeoutMs: 60_000 }).catch(() => undefined);
      return {
        error:
          `draining ${step.node} failed (exit ${r.code}): ${drainFailureSummary(`${r.stderr}\n${r.stdout}`)}.\n` +
          `${back?.code === 0 ? `${step.node} is schedulable again and nothing was removed.` : `Nothing was removed; ${step.node} stays cordoned (k3s kubectl uncordon ${step.node} undoes it).`} ` +
          'Relax the PodDisruptionBudget that blocks it or raise --drain-timeout, and run remove-node again.',
      };
    }
    case 'stop-k3s': {
      const r = await target!.run(STOP_SERVER_COMMAND, { sudo: true, timeoutMs: 120_000 });
      if (r.code === 0) return {};
      return { error: `stopping K3s on ${step.node} failed (exit ${r.code}): ${output(r)}. Its Node is still in the cluster (cordoned).` };
    }
    case 'delete-node': {
      // After a server stopped, the others may need a few seconds to elect an etcd leader: retry while the API says so.
      const deadline = Date.now() + (opts.apiWaitMs ?? 90_000);
      for (;;) {
        const r = await via.run(buildDeleteNodeCommand(step.node), { sudo: true, timeoutMs: 60_000 });
        if (r.code === 0) return { detail: r.stdout.trim() || `node "${step.node}" was already gone` };
        if (!isApiUnavailable(`${r.stderr}\n${r.stdout}`) || Date.now() > deadline) {
          return {
            error: `deleting Node ${step.node} failed on ${step.via} (exit ${r.code}): ${output(r)}. K3s on ${step.node} may be stopped already: run remove-node again once the cluster answers.`,
          };
        }
        await sleep(opts.pollMs ?? 3000);
      }
    }
    case 'check-member-gone': {
      const deadline = Date.now() + (opts.memberWaitMs ?? 60_000);
      let last = '';
      for (;;) {
        const r = await via.run(ETCD_MEMBERS_COMMAND, { sudo: true, timeoutMs: 30_000 });
        if (r.code === 0) {
          const members = parseEtcdMembers(r.stdout);
          if (!members.some((m) => m.name === step.member)) return { detail: `etcd members now: ${members.map((m) => m.name).join(', ')}` };
          last = `still listed among ${members.map((m) => m.name).join(', ')}`;
        } else last = output(r);
        if (Date.now() > deadline) {
          return {
            error: `etcd member ${step.member} is not gone after ${Math.round((opts.memberWaitMs ?? 60_000) / 1000)} s (${last}): K3s's member controller did not remove it. Look at \`journalctl -u k3s\` on the servers; do not remove another server meanwhile.`,
          };
        }
        await sleep(opts.pollMs ?? 2000);
      }
    }
    case 'uninstall': {
      const r = await target!.run(buildUninstallScript(), { sudo: true, timeoutMs: 300_000 });
      if (r.code === 0) return { detail: lastLine(r.stdout) };
      return {
        error: `uninstalling K3s on ${step.node} failed (exit ${r.code}): ${output(r)}. The cluster side is done; run /usr/local/bin/${step.role === 'server' ? 'k3s-uninstall.sh' : 'k3s-agent-uninstall.sh'} on it by hand.`,
      };
    }
    case 'repoint-kubeconfig': {
      const text = readTextIfExists(step.path);
      if (text === undefined) return { detail: `${step.path} is gone; nothing to re-point` };
      writePrivateFile(step.path, repointKubeconfig(text, opts.inventory.cluster.name, step.to));
      return { detail: `${step.from} → ${step.to}` };
    }
    case 'forget-state':
      return { detail: `rewrote ${forgetNodeInState(opts.stateDir, step.node).join(', ') || 'nothing'}` };
  }
}

function lastLine(text: string): string | undefined {
  return text.trim().split('\n').pop() || undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
