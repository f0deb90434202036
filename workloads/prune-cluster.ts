/** Removing from the cluster what the inventory no longer renders; objects holding data only with consent. */
import { trimOutput } from '../core/errors.js';
import type { Inventory } from '../core/inventory/schema.js';
import type { KubeQuery, Kubectl } from '../core/kube/index.js';
import { buildDeleteCommand, describeRef, objectRefsOf } from './apply.js';
import { isAppliedRecord } from './applied-record.js';
import { buildDeleteDataCommands, describeDataRemoval, planPrune, splitPrune, type ObjectRef } from './prune.js';
import { renderWorkloads, type K8sObject } from './render.js';
import { type WorkloadsPhaseOptions, type WorkloadsPhaseResult, PHASE, DEFAULT_PHASE_TIMEOUT_MS, fail, kubectlOf, message } from './phase-context.js';

/**
 * Kinds whose objects revue-pi may have applied earlier: those of a render with every workload on (an object of a
 * workload switched off since must still be found), plus the generated ones.
 */
export function managedKinds(inventory: Inventory, objects: K8sObject[], root?: string): { apiVersion: string; kind: string }[] {
  let all = objects;
  try {
    const full: Inventory = {
      ...inventory,
      workloads: { ...inventory.workloads, revue: true, monitoring: true, kafkaUi: true },
      network: { ...inventory.network, metallb: { ...inventory.network.metallb, enabled: true } },
    };
    all = [...objects, ...renderWorkloads(full, { secrets: 'references', ...(root ? { root } : {}) })];
  } catch {
    // The full render can refuse what the real one does not need (e.g. a reserved namespace with Revue off).
  }
  const generated = [
    { apiVersion: 'v1', kind: 'Secret' },
    { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool' },
    { apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement' },
  ];
  const byKey = new Map<string, { apiVersion: string; kind: string }>();
  for (const k of [...all.map((o) => ({ apiVersion: o.apiVersion, kind: o.kind })), ...generated]) {
    const group = k.apiVersion.includes('/') ? k.apiVersion.split('/')[0] : '';
    byKey.set(`${group}/${k.kind}`, k);
  }
  return [...byKey.values()];
}

export async function listManaged(kubectl: Kubectl, query: KubeQuery): Promise<ObjectRef[]> {
  // The record of the last apply carries the managed-by label but is no object of the render: never pruned.
  return objectRefsOf(await kubectl.get(query, { timeoutMs: 60_000 })).filter((ref) => !isAppliedRecord(ref));
}

export async function prune(opts: WorkloadsPhaseOptions, result: WorkloadsPhaseResult, objects: K8sObject[], listQuery: KubeQuery): Promise<void> {
  const { emit, log } = opts;
  const transport = opts.firstServer.transport;
  const server = opts.firstServer.node.name;
  let live: ObjectRef[];
  try {
    live = await listManaged(kubectlOf(opts), listQuery);
  } catch (error) {
    fail(opts, result, `listing the objects revue-pi applied earlier on ${server} failed, so nothing was removed: ${message(error)}`);
    return;
  }
  const stale = planPrune(live, objects);
  const { data } = splitPrune(stale);
  // Data goes only with the operator's own consent, asked for apart from everything else; never implied by --yes.
  let deleteData = false;
  if (data.length > 0) {
    if (opts.pruneData) deleteData = true;
    else if (opts.confirmDataRemoval) deleteData = await opts.confirmDataRemoval(data.map(describeDataRemoval));
    log.write(
      `[${server}] ${data.length} object(s) holding data no longer rendered: ${deleteData ? (opts.pruneData ? 'deleting (--prune-data)' : 'deleting (the operator typed the cluster name)') : 'kept'}: ${data.map(describeRef).join(', ')}`,
    );
  }
  const toDelete = deleteData ? stale : stale.filter((r) => !data.includes(r));
  if (!deleteData && data.length > 0) keepData(opts, result, data);
  if (toDelete.length === 0) {
    emit({ type: 'node-step', phase: PHASE, node: server, step: 'prune', status: 'unchanged' });
    return;
  }
  emit({ type: 'node-step', phase: PHASE, node: server, step: 'prune', status: 'running', detail: `removing ${toDelete.length} objects` });
  const r = await transport.run(buildDeleteCommand(toDelete), { sudo: true, timeoutMs: opts.phaseTimeoutMs ?? DEFAULT_PHASE_TIMEOUT_MS });
  result.pruned = toDelete.map(describeRef);
  result.changed = true;
  for (const p of result.pruned) log.write(`[${server}] removed ${p} (no longer in the inventory's workloads)`);
  if (r.code !== 0) {
    fail(opts, result, `removing workloads switched off in the inventory failed on ${server}: ${trimOutput(`${r.stderr}\n${r.stdout}`, 4)}`);
    emit({ type: 'node-step', phase: PHASE, node: server, step: 'prune', status: 'failed', detail: result.error });
    return;
  }
  emit({
    type: 'node-step',
    phase: PHASE,
    node: server,
    step: 'prune',
    status: 'changed',
    detail: `removed ${result.pruned.length}: ${result.pruned.join(', ')}`,
  });
}

/** Records data-holding objects left in the cluster, and says how to delete them. */
export function keepData(opts: WorkloadsPhaseOptions, result: WorkloadsPhaseResult, data: ObjectRef[]): void {
  result.keptData = data.map(describeRef);
  result.deleteDataCommands = buildDeleteDataCommands(opts.inventory.cluster.name, data);
  if (opts.command === 'plan') return;
  const text =
    `Kept ${data.length} object${data.length === 1 ? '' : 's'} holding data that the inventory no longer deploys: ${result.keptData.join(', ')}. ` +
    `To delete them, with their data: run up --prune-data, or\n${result.deleteDataCommands.map((c) => `      ${c}`).join('\n')}`;
  opts.log.write(text);
  opts.emit({ type: 'warning', message: text });
}
