/** The no-op fast path as run: ask the cluster, decide, report every phase unchanged, record a complete apply. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { trimOutput } from '../core/errors.js';
import { REMOTE_APPLY_DIR, buildApplyCommand } from './apply.js';
import { armLabel } from './label-plan.js';
import { nodeCapacityFrom } from './checks.js';
import { appliedRecordOf, appliedRecordRef, synthAppliedRecord } from './applied-record.js';
import { buildFastCheckCommand, decideFastPath, type FastPathDecision } from './fastpath.js';
import { renderAccessInfo } from './access.js';
import { PHASES, objectsOfPhase, packageRoot, type K8sObject } from './render.js';
import { type WorkloadsPhaseOptions, type WorkloadsPhaseResult, PHASE, message } from './phase-context.js';

/** revue-pi's version (package.json next to workloads/): another version re-applies everything. */
export function revuePiVersion(root: string = packageRoot()): string {
  try {
    return String((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: unknown }).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

export async function checkFastPath(opts: WorkloadsPhaseOptions, objects: K8sObject[]): Promise<FastPathDecision> {
  const command = buildFastCheckCommand(objects);
  const probed = opts.probedFastCheck?.command.text === command.text ? { code: 0, stdout: opts.probedFastCheck.output, stderr: '' } : undefined;
  const r =
    probed ??
    (await opts.firstServer.transport
      .run(command, { sudo: true, timeoutMs: 60_000 })
      .catch((error: unknown) => ({ code: -1, stdout: '', stderr: message(error) })));
  if (r.code !== 0) return { take: false, reason: `kubectl could not list the managed objects (exit ${r.code}): ${trimOutput(`${r.stderr}\n${r.stdout}`, 2)}` };
  const desiredLabels = opts.nodes.map((n) => ({ node: n.node.name, labels: armLabel(nodeCapacityFrom(n.node, n.facts).armv82 === true) }));
  return decideFastPath({ objects, version: revuePiVersion(opts.root), desiredLabels, output: r.stdout, pruneData: opts.pruneData });
}

/** Every phase `unchanged` (up) or nothing to do (plan), with the access info; nothing applied, labelled or pruned. */
export async function reportUnchanged(
  opts: WorkloadsPhaseOptions,
  result: WorkloadsPhaseResult,
  objects: K8sObject[],
  missingNodes: string[],
  traefikIp?: string,
): Promise<void> {
  const { emit, inventory } = opts;
  const server = opts.firstServer.node.name;
  for (const m of missingNodes)
    emit({ type: 'warning', message: `Node ${m} is not in the cluster, so it gets no workload labels; run up again once it has joined.` });
  for (const phase of PHASES) {
    const n = objectsOfPhase(objects, phase).length;
    if (n === 0) continue;
    const detail = `${n} objects as last applied, all ready (not re-applied)`;
    result.phases.push({
      phase,
      objects: n,
      created: 0,
      configured: 0,
      unchanged: n,
      status: 'unchanged',
      ...(opts.command === 'plan' ? { plan: `nothing to apply (${phase}): ${detail}` } : {}),
      durationMs: 0,
    });
    emit({ type: 'node-step', phase: PHASE, node: server, step: phase, status: 'unchanged', detail });
  }
  emit({ type: 'node-step', phase: PHASE, node: server, step: 'prune', status: 'unchanged' });
  result.access = opts.command === 'up' ? renderAccessInfo(inventory, objects, traefikIp) : renderAccessInfo(inventory, objects);
}

/** After a complete apply: the record the next run's fast path compares with (best effort: a failure only costs speed). */
export async function writeAppliedRecord(opts: WorkloadsPhaseOptions, objects: K8sObject[]): Promise<void> {
  const transport = opts.firstServer.transport;
  const server = opts.firstServer.node.name;
  const path = `${REMOTE_APPLY_DIR}/apply-record.yaml`;
  try {
    await transport.writeFile(path, synthAppliedRecord(appliedRecordOf(objects, revuePiVersion(opts.root))), { mode: 0o600, sudo: true });
    const r = await transport.run(buildApplyCommand(path), { sudo: true, timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`kubectl apply exited ${r.code}: ${trimOutput(`${r.stderr}\n${r.stdout}`, 3)}`);
    opts.log.write(`[${server}] workloads: recorded this apply in ConfigMap ${appliedRecordRef().namespace}/${appliedRecordRef().name}`);
  } catch (error) {
    const text = `Could not record this apply on ${server} (${message(error)}); the next up applies everything again instead of skipping.`;
    opts.log.write(text);
    opts.emit({ type: 'warning', message: text });
  }
}
