/** The node labels the workloads select on (ARMv8.2): planned from the node list, set in one round trip. Pure. */
import { NODE_LIST_QUERY, buildKubectlGetCommand, ofKind, parseKubeList, type KubeItem } from '../core/kube/index.js';
import { joinShell, sh, type ShellScript } from '../core/remote/shell.js';
import { ARMV82_LABEL } from './render.js';

/** `kubectl get nodes -o json`: the node list labels are planned from. */
export const NODES_QUERY = NODE_LIST_QUERY;

/** Labels of every node in a node list. */
export function nodeLabelsOf(items: readonly KubeItem[]): Map<string, Record<string, string>> {
  return new Map(ofKind(items, 'Node').map((n) => [n.metadata?.name ?? '', n.metadata?.labels ?? {}]));
}

/** Labels of every node in what `kubectl get nodes -o json` printed. */
export function parseNodeLabels(json: string): Map<string, Record<string, string>> {
  return nodeLabelsOf(parseKubeList(json, { command: buildKubectlGetCommand(NODES_QUERY).text, kind: 'Node' }));
}

export interface NodeLabelChange {
  node: string;
  key: string;
  value: string;
  /** The value the node has now (undefined: no such label). */
  from?: string;
}

/**
 * The labels to set: each node in `desired` whose live label differs. A node missing from the cluster is skipped
 * (returned in `missing`): the cluster phase reports it.
 */
export function planNodeLabels(
  desired: { node: string; labels: Record<string, string> }[],
  live: Map<string, Record<string, string>>,
): { changes: NodeLabelChange[]; missing: string[] } {
  const changes: NodeLabelChange[] = [];
  const missing: string[] = [];
  for (const d of desired) {
    const have = live.get(d.node);
    if (!have) {
      missing.push(d.node);
      continue;
    }
    for (const key of Object.keys(d.labels).sort()) {
      const value = d.labels[key]!;
      if (have[key] !== value) changes.push({ node: d.node, key, value, ...(have[key] !== undefined ? { from: have[key] } : {}) });
    }
  }
  return { changes, missing };
}

/** `revue-pi.io/armv82=true|false` for one node, from the facts' own test. */
export function armLabel(armv82: boolean): Record<string, string> {
  return { [ARMV82_LABEL]: armv82 ? 'true' : 'false' };
}

/**
 * One round trip for every label change: one `kubectl label` per distinct key=value naming all its nodes (most
 * clusters need one or two), stopping at the first failure. On a Pi each kubectl costs a good part of a second.
 */
export function buildLabelNodesCommand(changes: NodeLabelChange[]): ShellScript {
  const groups = new Map<string, string[]>();
  for (const c of changes) {
    const label = `${c.key}=${c.value}`;
    groups.set(label, [...(groups.get(label) ?? []), c.node]);
  }
  return joinShell(
    [...groups].map(([label, nodes]) => sh`k3s kubectl label node ${nodes} ${label} --overwrite`),
    ' &&\n',
  );
}
