import type { Inventory } from '../core/inventory/schema.js';
import type { ProbeSection } from '../core/remote/probe.js';
import type { ShellScript } from '../core/remote/shell.js';
import type { Step } from '../core/step.js';
import { describeRef } from './apply.js';
import { fastCheckProbeSection, nodesFromFastCheck, staleFromFastCheck } from './fastpath.js';
import { runWorkloadsPhase, type WorkloadsPhaseOptions, type WorkloadsPhaseResult } from './phase.js';
import { describeDataRemoval, splitPrune, type ObjectRef } from './prune.js';
import { renderWorkloads, type K8sObject } from './render.js';

/**
 * The workloads' probe: the fast check (fastpath.ts) rides in the first server's probe, so a converged re-run asks
 * it nothing more. Rendered once per run, with Secret references only (no values): what the check compares.
 */
export interface WorkloadsProbeTarget {
  objects: K8sObject[];
  fastCheck: ProbeSection & { command: ShellScript };
}

export function workloadsProbeTarget(inventory: Inventory): WorkloadsProbeTarget {
  const objects = renderWorkloads(inventory, { secrets: 'references' });
  return { objects, fastCheck: fastCheckProbeSection(objects) };
}

/** What the first server's probe read of the workloads; both absent where K3s is not installed or did not answer. */
export interface WorkloadsFacts {
  fastCheckOutput?: string;
  /** The Node items of the check's cluster list, as `kubectl get nodes -o json` prints them: the node list. */
  apiNodesJson?: string;
}

/** Before anything is applied only removals can be read from the probe; what would be applied is planned in the phase. */
export type WorkloadChange = { kind: 'remove'; ref: ObjectRef } | { kind: 'remove-data'; ref: ObjectRef };

/**
 * The workloads as a Step. Its apply is the workloads phase on the first server (render, capacity, labels, apply
 * phase by phase, prune); its plan is what the probe alone tells: the objects a run would remove, for up's question.
 */
export const workloadsStep = {
  phase: 'workloads',
  probe: {
    sections: (target: WorkloadsProbeTarget) => [target.fastCheck],
    read: (answer: Map<string, string>, target: WorkloadsProbeTarget): WorkloadsFacts => {
      const fastCheckOutput = answer.get(target.fastCheck.name) || undefined;
      if (fastCheckOutput === undefined) return {};
      const apiNodesJson = nodesFromFastCheck(fastCheckOutput);
      return { fastCheckOutput, ...(apiNodesJson !== undefined ? { apiNodesJson } : {}) };
    },
  },
  plan: (facts: WorkloadsFacts, target: WorkloadsProbeTarget): WorkloadChange[] => {
    const stale = facts.fastCheckOutput ? staleFromFastCheck(facts.fastCheckOutput, target.objects) : undefined;
    if (!stale || stale.length === 0) return [];
    const { remove, data } = splitPrune(stale);
    return [...remove.map((ref) => ({ kind: 'remove' as const, ref })), ...data.map((ref) => ({ kind: 'remove-data' as const, ref }))];
  },
  describe: (change: WorkloadChange) =>
    change.kind === 'remove'
      ? `remove ${describeRef(change.ref)}`
      : `remove ${describeDataRemoval(change.ref)} — holds data: asked for on its own later, kept unless you type the cluster name (or pass --prune-data)`,
  apply: (opts: WorkloadsPhaseOptions) => runWorkloadsPhase(opts),
} satisfies Step<{
  probeTarget: WorkloadsProbeTarget;
  facts: WorkloadsFacts;
  planTarget: WorkloadsProbeTarget;
  change: WorkloadChange;
  applyInput: WorkloadsPhaseOptions;
  applied: WorkloadsPhaseResult;
}>;
