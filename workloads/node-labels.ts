/** Setting the node labels the workloads select on (ARMv8.2), planned from the node list. */
import { trimOutput } from '../core/errors.js';
import { KubectlError } from '../core/kube/index.js';
import { NODES_QUERY, armLabel, buildLabelNodesCommand, nodeLabelsOf, parseNodeLabels, planNodeLabels } from './label-plan.js';
import { nodeCapacityFrom } from './checks.js';
import { type WorkloadsPhaseOptions, type WorkloadsPhaseResult, PHASE, fail, kubectlOf, message } from './phase-context.js';

export async function labelNodes(opts: WorkloadsPhaseOptions, result: WorkloadsPhaseResult): Promise<void> {
  const { emit, log } = opts;
  const transport = opts.firstServer.transport;
  const server = opts.firstServer.node.name;
  let live: Map<string, Record<string, string>>;
  try {
    live = opts.nodesJson !== undefined ? parseNodeLabels(opts.nodesJson) : nodeLabelsOf(await kubectlOf(opts).get(NODES_QUERY));
  } catch (error) {
    const why = error instanceof KubectlError ? `(exit ${error.code}): ${trimOutput(error.output, 3)}` : `: ${message(error)}`;
    fail(opts, result, `listing the nodes on ${server} failed ${why}`);
    return;
  }
  const desired = opts.nodes.map((n) => ({ node: n.node.name, labels: armLabel(nodeCapacityFrom(n.node, n.facts).armv82 === true) }));
  const { changes, missing } = planNodeLabels(desired, live);
  for (const m of missing)
    emit({ type: 'warning', message: `Node ${m} is not in the cluster, so it gets no workload labels; run up again once it has joined.` });
  const describe = (c: (typeof changes)[number]) => `label node ${c.node} ${c.key}=${c.value}${c.from !== undefined ? ` (was ${c.from})` : ''}`;
  if (opts.command === 'plan' || changes.length === 0) {
    for (const c of changes) {
      result.nodeLabels.push(describe(c));
      emit({ type: 'node-step', phase: PHASE, node: c.node, step: 'labels', status: 'planned', detail: describe(c) });
    }
    return;
  }
  const r = await transport.run(buildLabelNodesCommand(changes), { sudo: true, timeoutMs: 60_000 });
  if (r.code !== 0) {
    const which = changes.map((c) => `${c.node} (${c.key}=${c.value})`).join(', ');
    fail(
      opts,
      result,
      `labelling node${changes.length === 1 ? '' : 's'} ${which} on ${server} failed (exit ${r.code}): ${trimOutput(`${r.stderr}\n${r.stdout}`, 3)}`,
    );
    return;
  }
  for (const c of changes) {
    result.nodeLabels.push(describe(c));
    result.changed = true;
    log.write(`[${c.node}] ${describe(c)}`);
    emit({ type: 'node-step', phase: PHASE, node: c.node, step: 'labels', status: 'changed', detail: describe(c) });
  }
}
