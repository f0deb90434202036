import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { trimOutput } from '../core/errors.js';
import { buildDeleteCommand, describePlannedPhase, describeRef, managedListQuery } from './apply.js';
import { MANAGED_SECRETS_QUERY, secretsFromCluster } from './cluster-secrets.js';
import { KubectlError, isKind, type Kubectl } from '../core/kube/index.js';
import { checkCapacity, nodeCapacityFrom } from './checks.js';
import { appliedRecordRef } from './applied-record.js';
import { describeDataRemoval, objectKey, planPrune, refOf, splitPrune } from './prune.js';
import { renderAccessInfo } from './access.js';
import { PHASES, objectsOfPhase, renderWorkloads } from './render.js';
import { allSecretValues } from './secrets.js';
import { type WorkloadsPhaseOptions, type WorkloadsPhaseResult, PHASE, fail, kubectlOf, message } from './phase-context.js';
import { WORKLOAD_SECRETS_FILE, loadWorkloadSecrets } from './secrets-file.js';
import { labelNodes } from './node-labels.js';
import { applyPhase } from './apply-phase.js';
import { managedKinds, listManaged, prune, keepData } from './prune-cluster.js';
import { checkFastPath, reportUnchanged, writeAppliedRecord } from './fastpath-check.js';

export type { WorkloadsPhaseOptions, WorkloadsPhaseResult, WorkloadPhaseReport, WorkloadStepStatus } from './phase-context.js';

/**
 * The workloads phase of `up`/`plan`, after the cluster phase: render everything for the inventory, check it fits,
 * label the nodes, then apply phase by phase on the first server (MetalLB → pools → Traefik config → monitoring →
 * Revue), each bounded in time, and remove what the inventory no longer asks for. Every Kubernetes operation is a
 * `k3s kubectl …` over the first server's transport (sudo). Expected failures are returned, never thrown.
 */
export async function runWorkloadsPhase(opts: WorkloadsPhaseOptions): Promise<WorkloadsPhaseResult> {
  const { emit } = opts;
  emit({
    type: 'phase-start',
    phase: PHASE,
    title: opts.command === 'up' ? 'Deploying MetalLB, Traefik config, monitoring and Revue' : 'Planning the workloads',
  });
  const result: WorkloadsPhaseResult = { ok: true, changed: false, nodeLabels: [], phases: [], pruned: [], keptData: [], deleteDataCommands: [], summary: '' };
  try {
    await run(opts, result);
  } catch (error) {
    fail(opts, result, `the workloads phase stopped: ${message(error)}`);
  }
  result.summary = summarize(opts.command, result);
  opts.log.write(`workloads: ${result.summary}${result.error ? ` — ${result.error}` : ''}`);
  emit({ type: 'phase-end', phase: PHASE, ok: result.ok });
  return result;
}

async function run(opts: WorkloadsPhaseOptions, result: WorkloadsPhaseResult): Promise<void> {
  const { inventory, command, emit, log } = opts;
  const server = opts.firstServer.node.name;
  const transport = opts.firstServer.transport;
  const kubectl = kubectlOf(opts);

  // Secrets: stable per cluster, never printed.
  const secretsFile = join(opts.stateDir, WORKLOAD_SECRETS_FILE);
  result.secretsFile = secretsFile;
  let fromCluster: Record<string, unknown> | undefined;
  if (!existsSync(secretsFile)) {
    // A lost state file must not mean new passwords (MongoDB keeps its first one): take what the cluster holds.
    try {
      fromCluster = secretsFromCluster(await kubectl.get(MANAGED_SECRETS_QUERY), inventory.workloads.namespace);
    } catch (error) {
      const why = error instanceof KubectlError ? `(exit ${error.code}): ${trimOutput(error.output, 3)}` : `: ${message(error)}`;
      fail(opts, result, `${secretsFile} does not exist and the Secrets already in the cluster could not be read on ${server} ${why}`);
      return;
    }
  }
  const secrets = loadWorkloadSecrets(secretsFile, opts.random ?? randomBytes, command === 'up', fromCluster);
  for (const value of allSecretValues(secrets)) {
    log.addSecret(value);
    log.addSecret(Buffer.from(value, 'utf8').toString('base64'));
  }
  if (fromCluster) {
    const msg = `The workload secrets were missing from ${secretsFile}; took the ones the cluster's Secrets hold${command === 'up' ? ' and saved them there (mode 0600)' : ''}.`;
    log.write(msg);
    emit({ type: 'info', message: msg });
  }

  // Render (pure) and check the capacity before touching anything.
  const objects = renderWorkloads(inventory, { secrets, ...(opts.root ? { root: opts.root } : {}) });
  const capacity = checkCapacity(
    objects,
    opts.nodes.map((n) => nodeCapacityFrom(n.node, n.facts)),
  );
  result.capacity = {
    verdict: capacity.verdict,
    atMinimum: capacity.atMinimum,
    atMaximum: capacity.atMaximum,
    allocatable: capacity.allocatable,
    messages: capacity.messages,
  };
  emit({ type: 'info', message: capacity.messages[0]! });
  for (const m of capacity.messages.slice(1)) emit({ type: 'warning', message: m });
  if (capacity.verdict === 'refuse') {
    if (!opts.force) {
      fail(opts, result, `the workloads do not fit on the nodes, so nothing was applied: ${capacity.messages.slice(1).join(' ')}`);
      return;
    }
    result.capacity.forced = true;
    emit({ type: 'warning', message: 'Applying anyway (--force): pods that do not fit stay Pending.' });
  }

  // The no-op fast path: one round trip tells whether the cluster is exactly as the last complete apply left it.
  let recordMayExist = true;
  if (!opts.reapply) {
    const decision = await checkFastPath(opts, objects);
    result.fastPath = decision.take ? { taken: true } : { taken: false, reason: decision.reason };
    log.write(
      `workloads: fast path ${decision.take ? 'taken: the cluster is as the last complete apply left it, nothing applied' : `not taken: ${decision.reason}`}`,
    );
    if (decision.take) {
      await reportUnchanged(opts, result, objects, decision.missingNodes, decision.traefikAddress);
      if (decision.keptData.length > 0) keepData(opts, result, decision.keptData);
      return;
    }
    recordMayExist = decision.recordSeen !== false;
  }

  // Node labels from the facts (MongoDB only on ARMv8.2 nodes).
  await labelNodes(opts, result);
  if (!result.ok) return;

  // Live objects revue-pi manages (for the plan's comparison and for pruning).
  const kinds = managedKinds(inventory, objects, opts.root);
  const listQuery = managedListQuery(kinds);

  if (command === 'plan') {
    const live = await listManaged(kubectl, listQuery).catch((error: unknown) => {
      emit({ type: 'warning', message: `Could not list the live objects on ${server} (${message(error)}); the plan shows totals only.` });
      return undefined;
    });
    const liveKeys = live ? new Set(live.map(objectKey)) : undefined;
    for (const phase of PHASES) {
      const list = objectsOfPhase(objects, phase);
      if (list.length === 0) continue;
      const plan = describePlannedPhase(phase, list, liveKeys, (o) => objectKey(refOf(o)));
      result.phases.push({ phase, objects: list.length, created: 0, configured: 0, unchanged: 0, status: 'planned', plan, durationMs: 0 });
      emit({ type: 'node-step', phase: PHASE, node: server, step: phase, status: 'planned', detail: plan });
    }
    if (live) {
      const { remove, data } = splitPrune(planPrune(live, objects));
      result.pruned = remove.map(describeRef);
      if (result.pruned.length > 0)
        emit({ type: 'node-step', phase: PHASE, node: server, step: 'prune', status: 'planned', detail: `would remove ${result.pruned.join(', ')}` });
      if (data.length > 0) {
        keepData(opts, result, data);
        emit({
          type: 'node-step',
          phase: PHASE,
          node: server,
          step: 'prune-data',
          status: 'planned',
          detail: `holds data, so up asks on its own before removing it (type the cluster name, or --prune-data) and keeps it otherwise: ${data.map(describeDataRemoval).join(', ')}`,
        });
      }
    }
    result.changed = result.nodeLabels.length > 0 || result.pruned.length > 0 || (liveKeys ? objects.some((o) => !liveKeys.has(objectKey(refOf(o)))) : true);
    result.access = renderAccessInfo(inventory, objects);
    return;
  }

  mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
  // The record of the last complete apply goes before anything is applied: if this run stops half-way, the next one
  // must not take the fast path (an inventory changed back would otherwise leave half-applied objects).
  if (recordMayExist) {
    const r = await transport.run(buildDeleteCommand([appliedRecordRef()]), { sudo: true, timeoutMs: 30_000 });
    if (r.code !== 0) {
      fail(
        opts,
        result,
        `removing the record of the last apply (ConfigMap ${appliedRecordRef().namespace}/${appliedRecordRef().name}) on ${server} failed, so nothing was applied (exit ${r.code}): ${trimOutput(`${r.stderr}\n${r.stdout}`, 3)}`,
      );
      return;
    }
  }
  for (const phase of PHASES) {
    const list = objectsOfPhase(objects, phase);
    if (list.length === 0) continue;
    const report = await applyPhase(opts, phase, list);
    result.phases.push(report);
    if (report.status === 'changed') result.changed = true;
    if (report.status === 'failed') {
      fail(opts, result, report.error!);
      for (const rest of PHASES.slice(PHASES.indexOf(phase) + 1)) {
        const n = objectsOfPhase(objects, rest).length;
        if (n > 0) result.phases.push({ phase: rest, objects: n, created: 0, configured: 0, unchanged: 0, status: 'skipped', durationMs: 0 });
      }
      // Nothing is pruned after a failure: the render was only partly applied.
      return;
    }
  }

  await prune(opts, result, objects, listQuery);
  if (!result.ok) return;
  await writeAppliedRecord(opts, objects);

  // What the Service has, never what the inventory asked for: up says only what it read.
  result.access = renderAccessInfo(inventory, objects, await traefikAddress(kubectl));
}

// ---- access ---------------------------------------------------------------------------------------------------

/** The address MetalLB gave Traefik's Service, when the inventory fixes none (best effort: undefined if not yet). */
async function traefikAddress(kubectl: Kubectl): Promise<string | undefined> {
  const service = await kubectl.getObject('service', 'traefik', { namespace: 'kube-system' }).catch(() => undefined);
  if (!service || !isKind(service, 'Service')) return undefined;
  return service.status?.loadBalancer?.ingress?.find((i) => i.ip)?.ip;
}

function summarize(command: 'up' | 'plan', r: WorkloadsPhaseResult): string {
  const objects = r.phases.reduce((n, p) => n + p.objects, 0);
  if (command === 'plan' && r.fastPath?.taken) {
    return (
      `nothing to change: ${objects} objects in ${r.phases.length} phases as last applied, all ready; 0 node labels to set; 0 objects to remove` +
      (r.keptData.length > 0 ? `; ${r.keptData.length} holding data, kept by an earlier run: ${r.keptData.join(', ')}` : '')
    );
  }
  if (command === 'plan') {
    return (
      `would apply ${objects} objects in ${r.phases.length} phases (${r.phases.map((p) => p.phase).join(' → ')}); ` +
      `${r.nodeLabels.length} node label${r.nodeLabels.length === 1 ? '' : 's'} to set; ${r.pruned.length} object${r.pruned.length === 1 ? '' : 's'} to remove` +
      (r.keptData.length > 0
        ? `; ${r.keptData.length} holding data, removed only if you consent when up asks (or with --prune-data): ${r.keptData.join(', ')}`
        : '')
    );
  }
  const sum = (k: 'created' | 'configured' | 'unchanged') => r.phases.reduce((n, p) => n + p[k], 0);
  const head = r.changed ? '' : 'nothing changed: ';
  return (
    `${head}${objects} objects: ${sum('created')} created, ${sum('configured')} configured, ${sum('unchanged')} unchanged; ` +
    `${r.nodeLabels.length} node label${r.nodeLabels.length === 1 ? '' : 's'} set; ${r.pruned.length} removed` +
    (r.keptData.length > 0 ? `; ${r.keptData.length} holding data kept` : '') +
    (r.fastPath?.taken ? ' (as last applied, all ready: not re-applied)' : '')
  );
}
