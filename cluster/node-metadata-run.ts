/** Applying the inventory's labels and taints to registered Nodes through the API (node-metadata.ts decides). */
import { trimOutput } from '../core/errors.js';
import {
  buildNodeMetadataScript,
  describeNodeMetadata,
  parseNodeMetadata,
  planNodeMetadata,
  type LiveNodeMetadata,
  type NodeMetadataPlan,
} from './node-metadata.js';
import { type ClusterPhaseOptions, type Session, PHASE, STEP, message, summary } from './session.js';

/** The registered Nodes' labels, annotations and taints by name, from the node list `nodesJson` (parsed once). */
export function liveNodeMetadata(nodesJson: string): Map<string, LiveNodeMetadata> {
  return new Map(parseNodeMetadata(nodesJson).map((n) => [n.name, n]));
}

/** Each session's plan against the node list `nodesJson` (nodes not in it yet get theirs at registration). */
export function planNodesMetadata(sessions: Session[], nodesJson: string | Map<string, LiveNodeMetadata>): Map<Session, NodeMetadataPlan> {
  const live = typeof nodesJson === 'string' ? liveNodeMetadata(nodesJson) : nodesJson;
  const plans = new Map<Session, NodeMetadataPlan>();
  for (const s of sessions) {
    const node = live.get(s.node.name);
    const plan = node && !s.report.error && !s.leftOut ? planNodeMetadata(s.node, node) : undefined;
    if (plan) plans.set(s, plan);
  }
  return plans;
}

/**
 * up: after every node is Ready, what differs is set in one round trip on the first server; no K3s restarts. A failure
 * is a warning on each node concerned (K3s itself runs; the next up tries again).
 */
export async function applyNodesMetadata(opts: ClusterPhaseOptions, first: Session, sessions: Session[], nodesJson: string): Promise<void> {
  let plans: Map<Session, NodeMetadataPlan>;
  try {
    plans = planNodesMetadata(sessions, nodesJson);
  } catch (error) {
    opts.log.write(`labels and taints not checked: ${message(error)}`);
    return;
  }
  if (plans.size === 0 || !first.transport) return;
  const script = buildNodeMetadataScript([...plans.values()]);
  for (const [s, plan] of plans) for (const line of describeNodeMetadata(plan)) opts.log.write(`[${s.node.name}] ${line}`);
  const result = await first.transport
    .run(script, { sudo: true, timeoutMs: 60_000 })
    .catch((error: unknown) => ({ code: -1, stdout: '', stderr: message(error) }));
  for (const [s, plan] of plans) {
    if (result.code !== 0) {
      const text = `labels and taints could not be set through the API on ${first.node.name} (exit ${result.code}: ${trimOutput(`${result.stderr}\n${result.stdout}`, 3)}); run up again once the API answers.`;
      s.report.warnings.push(`node ${s.node.name}: ${text}`);
      opts.emit({ type: 'node-warning', node: s.node.name, message: text });
      continue;
    }
    const lines = describeNodeMetadata(plan);
    if (lines.length === 0) continue;
    s.step.changes.push(...lines);
    s.step.status = 'changed';
    opts.emit({ type: 'node-step', phase: PHASE, node: s.node.name, step: STEP, status: 'changed', detail: summary(s.step.changes) });
  }
}
