import type { InventoryNode } from '../core/inventory/schema.js';
import { ofKind, parseKubeList } from '../core/kube/index.js';
import { GET_NODES_COMMAND } from './nodes.js';
import { joinShell, sh, type ShellScript } from '../core/remote/shell.js';

/**
 * The inventory's labels and taints on nodes already in the cluster. K3s applies node-label and node-taint from
 * config.yaml only when a node registers (test/lab/k3s-standin/README.md), so for a registered node they are set through
 * the API — `kubectl label` / `kubectl taint` on the first server — with no K3s restart. What revue-pi set is recorded on
 * the Node in two annotations, so that a label or taint later taken out of the inventory is removed, and nothing else
 * is: labels and taints set by anyone else are left alone. Pure: the parser, the plan and the script.
 */
export const LABELS_ANNOTATION = 'revue-pi.io/labels';
export const TAINTS_ANNOTATION = 'revue-pi.io/taints';

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

export interface LiveNodeMetadata {
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  taints: Taint[];
}

/** The nodes' labels, annotations and taints from `kubectl get nodes -o json`, checked by core/kube's Node schema. */
export function parseNodeMetadata(kubectlJson: string): LiveNodeMetadata[] {
  return ofKind(parseKubeList(kubectlJson, { command: GET_NODES_COMMAND.text, kind: 'Node' }), 'Node').map((n) => {
    return {
      name: n.metadata?.name ?? '',
      labels: n.metadata?.labels ?? {},
      annotations: n.metadata?.annotations ?? {},
      taints: (n.spec?.taints ?? []).map((t) => ({ key: t.key, ...(t.value ? { value: t.value } : {}), effect: t.effect })),
    };
  });
}

/** `key=value:Effect` (or `key:Effect`), as the inventory writes a taint. */
export function parseTaint(text: string): Taint {
  const m = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(text);
  if (!m) throw new Error(`not a taint: ${text}`);
  return { key: m[1]!, ...(m[2] ? { value: m[2] } : {}), effect: m[3]! };
}

const taintText = (t: Taint) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`;
const taintId = (t: Taint) => `${t.key}:${t.effect}`;
const list = (text: string | undefined) => (text ? text.split(',').filter((x) => x !== '') : []);

export interface NodeMetadataPlan {
  node: string;
  /** `key=value` to set (new or changed). */
  setLabels: string[];
  /** Label keys revue-pi set earlier that the inventory no longer has. */
  removeLabels: string[];
  /** `key[=value]:Effect` to add or change. */
  addTaints: string[];
  /** `key:Effect` revue-pi set earlier that the inventory no longer has. */
  removeTaints: string[];
  /** The annotations' new values, when they change. */
  record?: { labels: string; taints: string };
}

/** What differs on one registered Node; undefined when nothing does (the converged re-run). */
export function planNodeMetadata(node: InventoryNode, live: LiveNodeMetadata): NodeMetadataPlan | undefined {
  const wantedLabels = Object.entries(node.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const wantedTaints = [...node.taints].sort().map(parseTaint);
  const setLabels = wantedLabels.filter(([k, v]) => live.labels[k] !== v).map(([k, v]) => `${k}=${v}`);
  const removeLabels = list(live.annotations[LABELS_ANNOTATION]).filter((k) => !(k in node.labels) && k in live.labels);
  const addTaints = wantedTaints.filter((w) => !live.taints.some((t) => taintId(t) === taintId(w) && (t.value ?? '') === (w.value ?? ''))).map(taintText);
  const wantedIds = new Set(wantedTaints.map(taintId));
  const removeTaints = list(live.annotations[TAINTS_ANNOTATION]).filter((id) => !wantedIds.has(id) && live.taints.some((t) => taintId(t) === id));
  const record = { labels: wantedLabels.map(([k]) => k).join(','), taints: wantedTaints.map(taintId).join(',') };
  const recorded = (live.annotations[LABELS_ANNOTATION] ?? '') === record.labels && (live.annotations[TAINTS_ANNOTATION] ?? '') === record.taints;
  // A node without labels or taints from the inventory and no record needs no annotations at all.
  const needsRecord =
    !recorded && (record.labels !== '' || record.taints !== '' || LABELS_ANNOTATION in live.annotations || TAINTS_ANNOTATION in live.annotations);
  if (setLabels.length + removeLabels.length + addTaints.length + removeTaints.length === 0 && !needsRecord) return undefined;
  return { node: node.name, setLabels, removeLabels, addTaints, removeTaints, ...(needsRecord ? { record } : {}) };
}

/** The sentences a plan adds to the node's report (none when only the record is written). */
export function describeNodeMetadata(plan: NodeMetadataPlan): string[] {
  const out: string[] = [];
  if (plan.setLabels.length) out.push(`set label${plan.setLabels.length > 1 ? 's' : ''} ${plan.setLabels.join(', ')} through the API (no restart)`);
  if (plan.removeLabels.length)
    out.push(`remove label${plan.removeLabels.length > 1 ? 's' : ''} ${plan.removeLabels.join(', ')} (set by revue-pi, no longer in the inventory)`);
  if (plan.addTaints.length) out.push(`set taint${plan.addTaints.length > 1 ? 's' : ''} ${plan.addTaints.join(', ')} through the API (no restart)`);
  if (plan.removeTaints.length)
    out.push(`remove taint${plan.removeTaints.length > 1 ? 's' : ''} ${plan.removeTaints.join(', ')} (set by revue-pi, no longer in the inventory)`);
  // A record alone (a node that just registered with its labels) is bookkeeping, not a change to report.
  return out;
}

/** One script for every node's changes (one round trip on the first server); it stops at the first failing command. */
export function buildNodeMetadataScript(plans: NodeMetadataPlan[]): ShellScript {
  const lines: ShellScript[] = [];
  for (const p of plans) {
    const labels = [...p.setLabels, ...p.removeLabels.map((k) => `${k}-`)];
    if (labels.length) lines.push(sh`k3s kubectl label node ${p.node} ${labels} --overwrite`);
    const taints = [...p.addTaints, ...p.removeTaints.map((id) => `${id}-`)];
    if (taints.length) lines.push(sh`k3s kubectl taint node ${p.node} ${taints} --overwrite`);
    if (p.record)
      lines.push(sh`k3s kubectl annotate node ${p.node} ${`${LABELS_ANNOTATION}=${p.record.labels}`} ${`${TAINTS_ANNOTATION}=${p.record.taints}`} --overwrite`);
  }
  return sh`set -e
${joinShell(lines, '\n')}
`;
}
