import type { RunReport } from '../core/report.js';
import type { ShellScript } from '../core/remote/shell.js';
import { firstServerOf } from '../cluster/config.js';
import { PHASES, objectsOfPhase, renderWorkloads } from '../workloads/render.js';
import { workloadsStep, type WorkloadsProbeTarget } from '../workloads/step.js';
import type { PendingNode, RunOptions } from './options.js';
import type { NodeSession } from './session.js';

/**
 * The workload objects a run would remove, as read by the first server's probe (its fast check), for the plan up shows
 * before asking; those holding data are marked as asked for on their own. Undefined when there are none.
 */
export function workloadRemovals(server: string, fastCheckOutput: string, probe: WorkloadsProbeTarget): PendingNode | undefined {
  const changes = workloadsStep.plan({ fastCheckOutput }, probe);
  if (changes.length === 0) return undefined;
  return { node: `workloads (on ${server})`, changes: changes.map(workloadsStep.describe) };
}

/** What the earlier phases already read of the cluster, so the workloads phase need not ask again. */
export interface ReadEarlier {
  nodesJson?: string;
  probedFastCheck?: { command: ShellScript; output: string };
}

/**
 * Workloads need the first server's K3s. Offline, or before K3s exists there (a plan for new nodes), the
 * plan lists what would be applied from the rendered manifests alone.
 */
export async function workloadsStage(
  opts: RunOptions,
  sessions: NodeSession[],
  { nodesJson, probedFastCheck }: ReadEarlier = {},
): Promise<RunReport['workloads']> {
  const { inventory } = opts;
  const firstNode = firstServerOf(inventory);
  const first = sessions.find((s) => s.node.name === firstNode?.name);
  if (!first || first.report.error) {
    return {
      ok: false,
      changed: false,
      summary: 'not deployed: the first server is not ready',
      error: `the first server ${firstNode?.name ?? '(none)'} failed, so nothing was deployed.`,
    };
  }
  const clusterExists = first.transport !== undefined && (first.k3s.installedVersion !== undefined || opts.command === 'up');
  if (!clusterExists) {
    const objects = renderWorkloads(inventory, { secrets: 'references' });
    const counts = PHASES.map((p) => `${p} ${objectsOfPhase(objects, p).length}`).filter((c) => !c.endsWith(' 0'));
    return { ok: true, changed: true, summary: `would apply ${objects.length} objects (plus generated Secrets) in phases: ${counts.join(', ')}` };
  }
  const result = await workloadsStep.apply({
    command: opts.command,
    inventory,
    stateDir: opts.stateDir,
    emit: opts.emit,
    log: opts.log,
    firstServer: { node: first.node, transport: first.transport! },
    nodes: sessions.filter((s) => s.facts && !s.report.error).map((s) => ({ node: s.node, facts: s.facts! })),
    force: opts.force,
    reapply: opts.reapply,
    pruneData: opts.pruneData,
    confirmDataRemoval: opts.confirmDataRemoval,
    ...(nodesJson !== undefined ? { nodesJson } : {}),
    ...(probedFastCheck ? { probedFastCheck } : {}),
  });
  return {
    fastPath: result.fastPath,
    ok: result.ok,
    changed: result.changed,
    summary: result.summary,
    error: result.error,
    capacity: result.capacity,
    access: result.access,
    pruned: result.pruned,
    keptData: result.keptData,
    deleteDataCommands: result.deleteDataCommands,
    phases: result.phases,
  };
}
