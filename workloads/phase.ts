import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RevuePiError, trimOutput } from '../core/errors.js';
import type { EmitEvent } from '../core/events.js';
import type { Inventory, InventoryNode } from '../core/inventory/schema.js';
import type { RunLog } from '../core/log.js';
import { readTextIfExists, writePrivateFile } from '../core/state.js';
import type { NodeFacts } from '../core/node-facts.js';
import type { Transport } from '../core/remote/transport.js';
import { sh, type ShellScript } from '../core/remote/shell.js';
import {
  GET_MANAGED_SECRETS,
  REMOTE_APPLY_DIR,
  GET_NODES_JSON,
  armLabel,
  buildApplyCommand,
  buildDeleteCommand,
  buildDiagnosticsCommand,
  buildLabelNodesCommand,
  buildListManagedCommand,
  buildReadinessCommand,
  buildRemoveFileCommand,
  countApply,
  describePlannedPhase,
  describeRef,
  explainNotReady,
  isMissingKind,
  isWebhookRace,
  missingKinds,
  parseApplyOutput,
  parseNodeLabels,
  parseNotReady,
  parseObjectRefs,
  planNodeLabels,
  remoteApplyPath,
  secretsFromCluster,
  type ApplyAction,
  waitTargetOf,
  type NotReady,
  type WaitTarget,
} from './apply.js';
import { checkCapacity, nodeCapacityFrom, type Resources } from './checks.js';
import {
  appliedRecordOf,
  appliedRecordRef,
  buildFastCheckCommand,
  decideFastPath,
  isAppliedRecord,
  synthAppliedRecord,
  type FastPathDecision,
} from './fastpath.js';
import { buildDeleteDataCommands, describeDataRemoval, objectKey, planPrune, refOf, splitPrune, type ObjectRef } from './prune.js';
import { type AccessInfo, renderAccessInfo } from './access.js';
import { PHASES, objectsOfPhase, packageRoot, renderWorkloads, synthYaml, type K8sObject, type Phase } from './render.js';
import { allSecretValues, reconcileWorkloadSecrets, type WorkloadSecrets } from './secrets.js';

/**
 * The workloads phase of `up`/`plan`, after the cluster phase: render everything for the inventory, check it fits,
 * label the nodes, then apply phase by phase on the first server (MetalLB → pools → Traefik config → monitoring →
 * Revue), each bounded in time, and remove what the inventory no longer asks for. Every Kubernetes operation is a
 * `k3s kubectl …` over the first server's transport (sudo). Expected failures are returned, never thrown.
 */
export interface WorkloadsPhaseOptions {
  command: 'up' | 'plan';
  inventory: Inventory;
  stateDir: string;
  emit: EmitEvent;
  log: RunLog;
  firstServer: { node: InventoryNode; transport: Transport };
  /** Every node in the cluster with its facts (capacity check, ARMv8.2 labels). */
  nodes: { node: InventoryNode; facts: NodeFacts }[];
  /** Apply even when the workloads' minimum requests do not fit (`up --force`). */
  force?: boolean;
  /**
   * Skip the no-op fast path (workloads/fastpath.ts) and apply every phase (`up --reapply`). The fast path trusts
   * the record of the last complete apply: it sees objects deleted by hand and workloads not ready, but not a
   * field edited by hand (kubectl edit) — a re-apply puts those back.
   */
  reapply?: boolean;
  /**
   * Delete objects that hold data (volume claims, namespaces, charts with volumes) that the inventory no longer
   * renders (`up --prune-data`). Without it, and without `confirmDataRemoval` saying yes, they are kept.
   */
  pruneData?: boolean;
  /** Asks the operator, on its own, whether to delete these data-holding objects (a terminal; undefined: never asked). */
  confirmDataRemoval?: (removals: string[]) => Promise<boolean>;
  /** Bound of each apply phase, apply and wait together (default 10 min: image pulls on a Pi are slow). */
  phaseTimeoutMs?: number;
  /** `kubectl get nodes -o json` from moments ago (the cluster phase's last Ready check): labels are planned from it. */
  nodesJson?: string;
  /**
   * The fast check's output as the first server's probe read it (fastCheckProbeSection), when nothing changed since:
   * used instead of asking again if its command is the one this render needs.
   */
  probedFastCheck?: { command: ShellScript; output: string };
  /**
   * How long a chart whose install Job succeeded may lack release workloads before up gives up on it (default 20 s):
   * right after a chart's values change, K3s's previous Job is still there, complete, until its controller replaces it.
   */
  releaseSettleMs?: number;
  /** Seams for tests. */
  pollIntervalMs?: number;
  random?: (bytes: number) => Buffer;
  /** Package root holding workloads/ (default: found from this module). */
  root?: string;
}

export type WorkloadStepStatus = 'changed' | 'unchanged' | 'planned' | 'failed' | 'skipped';

export interface WorkloadPhaseReport {
  phase: Phase;
  objects: number;
  created: number;
  configured: number;
  unchanged: number;
  status: WorkloadStepStatus;
  /** `plan`: what would be applied. */
  plan?: string;
  /** How many apply attempts (more than 1: MetalLB's webhook was not ready yet). */
  attempts?: number;
  durationMs: number;
  error?: string;
}

export interface WorkloadsPhaseResult {
  ok: boolean;
  /** Something in the cluster changed (or, in a plan, would change). */
  changed: boolean;
  /** Sentence(s) naming what failed and why; absent when ok. */
  error?: string;
  capacity?: { verdict: 'ok' | 'warn' | 'refuse'; atMinimum: Resources; atMaximum: Resources; allocatable: Resources; messages: string[]; forced?: boolean };
  /** Node label changes made (or planned). */
  nodeLabels: string[];
  phases: WorkloadPhaseReport[];
  /** Objects removed because the inventory no longer renders them (`Kind namespace/name`); planned ones in a plan. */
  pruned: string[];
  /**
   * Objects holding data that the inventory no longer renders, left in the cluster because no one consented to
   * deleting them (`up --prune-data` or the cluster name typed at a terminal); in a plan, those up would ask about.
   * `deleteDataCommands` deletes them by hand.
   */
  keptData: string[];
  deleteDataCommands: string[];
  /** Where the workload secrets are kept (never their values). */
  secretsFile?: string;
  access?: AccessInfo;
  /** One line for the summary, e.g. "120 objects: 3 created, 1 configured, 116 unchanged; 0 pruned". */
  summary: string;
  /**
   * The no-op fast path: taken (nothing applied, nothing waited for: the cluster is as the last complete apply left
   * it), or why not (then the full path ran). Absent when not tried (`reapply`, or the phase stopped earlier).
   */
  fastPath?: { taken: boolean; reason?: string };
}

export const WORKLOAD_SECRETS_FILE = 'workload-secrets.json';
const PHASE = 'workloads';
const DEFAULT_PHASE_TIMEOUT_MS = 600_000;
const DEFAULT_RELEASE_SETTLE_MS = 20_000;

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

  // Secrets: stable per cluster, never printed.
  const secretsFile = join(opts.stateDir, WORKLOAD_SECRETS_FILE);
  result.secretsFile = secretsFile;
  let fromCluster: Record<string, unknown> | undefined;
  if (!existsSync(secretsFile)) {
    // A lost state file must not mean new passwords (MongoDB keeps its first one): take what the cluster holds.
    const r = await transport.run(GET_MANAGED_SECRETS, { sudo: true, timeoutMs: 30_000 });
    if (r.code !== 0) {
      fail(
        opts,
        result,
        `${secretsFile} does not exist and the Secrets already in the cluster could not be read on ${server} (exit ${r.code}): ${trimOutput(`${r.stderr}\n${r.stdout}`, 3)}`,
      );
      return;
    }
    fromCluster = secretsFromCluster(r.stdout, inventory.workloads.namespace);
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
  const listCommand = buildListManagedCommand(kinds);

  if (command === 'plan') {
    const live = await listManaged(transport, listCommand).catch((error: unknown) => {
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

  await prune(opts, result, objects, listCommand);
  if (!result.ok) return;
  await writeAppliedRecord(opts, objects);

  // What the Service has, never what the inventory asked for: up says only what it read.
  result.access = renderAccessInfo(inventory, objects, await traefikAddress(transport));
}

// ---- secrets ------------------------------------------------------------------------------------------------

/**
 * The cluster's workload secrets: kept in the state file (0600), missing ones generated (and saved when `save`).
 * `fromCluster` (secrets read back from the cluster) stands in for the file when it does not exist.
 */
export function loadWorkloadSecrets(file: string, random: (bytes: number) => Buffer, save: boolean, fromCluster?: Record<string, unknown>): WorkloadSecrets {
  const text = readTextIfExists(file);
  let stored: unknown = text === undefined ? fromCluster : undefined;
  if (text !== undefined) {
    try {
      stored = JSON.parse(text);
    } catch {
      throw new RevuePiError(`The workload secrets file ${file} is not valid JSON.`, {
        code: 'STATE',
        hint: `Restore ${file} from a backup; deleting it makes new passwords, which the existing MongoDB volumes will not accept.`,
      });
    }
  }
  const { secrets, changed } = reconcileWorkloadSecrets(stored, random, file);
  if ((changed || text === undefined) && save) {
    mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
    writePrivateFile(file, JSON.stringify(secrets, null, 2) + '\n');
  }
  return secrets;
}

// ---- node labels --------------------------------------------------------------------------------------------

async function labelNodes(opts: WorkloadsPhaseOptions, result: WorkloadsPhaseResult): Promise<void> {
  const { emit, log } = opts;
  const transport = opts.firstServer.transport;
  const server = opts.firstServer.node.name;
  const got =
    opts.nodesJson !== undefined ? { code: 0, stdout: opts.nodesJson, stderr: '' } : await transport.run(GET_NODES_JSON, { sudo: true, timeoutMs: 30_000 });
  if (got.code !== 0) {
    fail(opts, result, `listing the nodes on ${server} failed (exit ${got.code}): ${trimOutput(`${got.stderr}\n${got.stdout}`, 3)}`);
    return;
  }
  const desired = opts.nodes.map((n) => ({ node: n.node.name, labels: armLabel(nodeCapacityFrom(n.node, n.facts).armv82 === true) }));
  const { changes, missing } = planNodeLabels(desired, parseNodeLabels(got.stdout));
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

// ---- one apply phase ----------------------------------------------------------------------------------------

async function applyPhase(opts: WorkloadsPhaseOptions, phase: Phase, objects: K8sObject[]): Promise<WorkloadPhaseReport> {
  const { emit, log } = opts;
  const transport = opts.firstServer.transport;
  const server = opts.firstServer.node.name;
  const timeoutMs = opts.phaseTimeoutMs ?? DEFAULT_PHASE_TIMEOUT_MS;
  const started = Date.now();
  const deadline = started + timeoutMs;
  const report: WorkloadPhaseReport = {
    phase,
    objects: objects.length,
    created: 0,
    configured: 0,
    unchanged: 0,
    status: 'unchanged',
    durationMs: 0,
    attempts: 0,
  };
  const done = (status: 'changed' | 'unchanged' | 'failed', error?: string): WorkloadPhaseReport => {
    report.status = status;
    report.durationMs = Date.now() - started;
    if (error) report.error = error;
    const detail = error ?? `${objects.length} objects: ${report.created} created, ${report.configured} configured, ${report.unchanged} unchanged`;
    log.write(`[${server}] workloads ${phase}: ${detail}`);
    emit({ type: 'node-step', phase: PHASE, node: server, step: phase, status, detail });
    return report;
  };
  emit({ type: 'node-step', phase: PHASE, node: server, step: phase, status: 'running', detail: `applying ${objects.length} objects` });

  const path = remoteApplyPath(phase);
  const yamlText = synthYaml(objects);
  const poll = opts.pollIntervalMs ?? 3000;
  // Per object, what happened across attempts: a retry sees objects created by an earlier one as unchanged.
  const actions = new Map<string, ApplyAction>();
  const record = (stdout: string) => {
    for (const o of parseApplyOutput(stdout)) if (o.action !== 'unchanged' || !actions.has(o.object)) actions.set(o.object, o.action);
    const counts = countApply([...actions].map(([object, action]) => ({ object, action })));
    Object.assign(report, counts);
  };
  for (;;) {
    report.attempts!++;
    let applied;
    try {
      await transport.writeFile(path, yamlText, { mode: 0o600, sudo: true });
      applied = await transport.run(buildApplyCommand(path), { sudo: true, timeoutMs: Math.max(30_000, deadline - Date.now()) });
    } catch (error) {
      await transport.run(buildRemoveFileCommand(path), { sudo: true, timeoutMs: 15_000 }).catch(() => undefined);
      return done('failed', `applying the ${phase} objects on ${server} failed: ${message(error)}`);
    }
    record(applied.stdout);
    if (applied.code === 0) break;
    const output = `${applied.stderr}\n${applied.stdout}`;
    const waitingFor = isWebhookRace(output)
      ? "MetalLB's webhook"
      : isMissingKind(output)
        ? `the CRDs of ${missingKinds(output).join(', ') || 'some kinds'}`
        : undefined;
    if (waitingFor && Date.now() + poll < deadline) {
      log.write(`[${server}] workloads ${phase}: waiting for ${waitingFor} (attempt ${report.attempts}); retrying`);
      emit({ type: 'node-step', phase: PHASE, node: server, step: phase, status: 'running', detail: `waiting for ${waitingFor} (attempt ${report.attempts})` });
      await sleep(poll);
      continue;
    }
    const why = isWebhookRace(output)
      ? `MetalLB's webhook did not accept them within ${seconds(timeoutMs)} s`
      : isMissingKind(output)
        ? `the cluster still serves no ${missingKinds(output).join(', ') || 'such kinds'} after ${seconds(timeoutMs)} s — are K3s's Traefik and its CRDs enabled?`
        : applied.code === 124
          ? `kubectl apply did not finish within ${seconds(timeoutMs)} s`
          : `kubectl apply exited ${applied.code}`;
    return done('failed', `applying the ${phase} objects on ${server} failed (${why}): ${trimOutput(applied.stderr || applied.stdout, 6)}`);
  }

  // Wait until what the phase started is ready (bounded by the same deadline).
  const target = waitTargetOf(phase, objects);
  const notReady = await waitReady(opts, target, deadline, phase);
  const changed = report.created + report.configured > 0;
  const stuck = notReady.filter((n) => n.stuck);
  if (stuck.length > 0) {
    // A chart K3s will not install by waiting longer: said as status says it, with the Job to read or delete.
    return done('failed', `the ${phase} objects were applied, but ${[...new Set(stuck.map((n) => n.problem ?? `${describeRef(n)}: ${n.reason}`))].join(' ')}`);
  }
  if (notReady.length > 0) {
    const namespaces = [...new Set(notReady.map((n) => n.namespace).filter((n): n is string => !!n))];
    const diag =
      namespaces.length > 0 ? await transport.run(buildDiagnosticsCommand(namespaces), { sudo: true, timeoutMs: 30_000 }).catch(() => undefined) : undefined;
    const reasons = explainNotReady(notReady, diag?.stdout ?? '');
    return done(
      'failed',
      `the ${phase} objects were applied but ${notReady.length === 1 ? 'one is' : `${notReady.length} are`} not ready after ${seconds(timeoutMs)} s: ${reasons.join('; ')}. ` +
        `Fix the cause (see kubectl describe on ${server}) and run up again.`,
    );
  }
  return done(changed ? 'changed' : 'unchanged');
}

async function waitReady(opts: WorkloadsPhaseOptions, target: WaitTarget, deadline: number, phase: Phase): Promise<NotReady[]> {
  const command = buildReadinessCommand(target);
  if (command.text === '') return [];
  const transport = opts.firstServer.transport;
  let last: NotReady[] = [];
  let announced = false;
  let incompleteSince: number | undefined;
  for (;;) {
    const r = await transport.run(command, { sudo: true, timeoutMs: 30_000 }).catch((error: unknown) => ({ code: -1, stdout: '', stderr: message(error) }));
    if (r.code === 0) {
      try {
        last = parseNotReady(r.stdout, target);
        if (last.length === 0) return [];
      } catch (error) {
        last = [{ kind: 'List', name: phase, reason: message(error) }];
      }
    } else {
      last = [{ kind: 'List', name: phase, reason: `kubectl could not list them: ${trimOutput(`${r.stderr}\n${r.stdout}`, 2)}` }];
    }
    // A failed install Job gives up for good; a release missing workloads after its Job succeeded, once it has
    // stayed so for releaseSettleMs (K3s may still be replacing a Job made for the chart's previous spec).
    if (last.some((n) => n.stuck === 'failed')) return last.filter((n) => n.stuck);
    const incomplete = last.filter((n) => n.stuck === 'incomplete');
    incompleteSince = incomplete.length > 0 ? (incompleteSince ?? Date.now()) : undefined;
    if (incompleteSince !== undefined && Date.now() - incompleteSince >= (opts.releaseSettleMs ?? DEFAULT_RELEASE_SETTLE_MS)) return incomplete;
    if (Date.now() >= deadline) return last.map((n) => (n.stuck ? { ...n, stuck: undefined } : n));
    if (!announced) {
      announced = true;
      const waitingFor = `waiting for ${last.map((n) => `${describeRef(n)} (${n.reason})`).join(', ')}`;
      opts.log.write(`[${opts.firstServer.node.name}] workloads ${phase}: ${waitingFor}`);
      opts.emit({ type: 'node-step', phase: PHASE, node: opts.firstServer.node.name, step: phase, status: 'running', detail: waitingFor });
    }
    await sleep(Math.min(opts.pollIntervalMs ?? 3000, Math.max(0, deadline - Date.now())));
  }
}

// ---- pruning --------------------------------------------------------------------------------------------------

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

async function listManaged(transport: Transport, command: ShellScript): Promise<ObjectRef[]> {
  const r = await transport.run(command, { sudo: true, timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`kubectl get exited ${r.code}: ${trimOutput(`${r.stderr}\n${r.stdout}`, 3)}`);
  // The record of the last apply carries the managed-by label but is no object of the render: never pruned.
  return parseObjectRefs(r.stdout).filter((ref) => !isAppliedRecord(ref));
}

async function prune(opts: WorkloadsPhaseOptions, result: WorkloadsPhaseResult, objects: K8sObject[], listCommand: ShellScript): Promise<void> {
  const { emit, log } = opts;
  const transport = opts.firstServer.transport;
  const server = opts.firstServer.node.name;
  let live: ObjectRef[];
  try {
    live = await listManaged(transport, listCommand);
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
function keepData(opts: WorkloadsPhaseOptions, result: WorkloadsPhaseResult, data: ObjectRef[]): void {
  result.keptData = data.map(describeRef);
  result.deleteDataCommands = buildDeleteDataCommands(opts.inventory.cluster.name, data);
  if (opts.command === 'plan') return;
  const text =
    `Kept ${data.length} object${data.length === 1 ? '' : 's'} holding data that the inventory no longer deploys: ${result.keptData.join(', ')}. ` +
    `To delete them, with their data: run up --prune-data, or\n${result.deleteDataCommands.map((c) => `      ${c}`).join('\n')}`;
  opts.log.write(text);
  opts.emit({ type: 'warning', message: text });
}

// ---- the no-op fast path -------------------------------------------------------------------------------------

/** revue-pi's version (package.json next to workloads/): another version re-applies everything. */
export function revuePiVersion(root: string = packageRoot()): string {
  try {
    return String((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: unknown }).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

async function checkFastPath(opts: WorkloadsPhaseOptions, objects: K8sObject[]): Promise<FastPathDecision> {
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
async function reportUnchanged(
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
async function writeAppliedRecord(opts: WorkloadsPhaseOptions, objects: K8sObject[]): Promise<void> {
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

// ---- access ---------------------------------------------------------------------------------------------------

/** The address MetalLB gave Traefik's Service, when the inventory fixes none (best effort: undefined if not yet). */
async function traefikAddress(transport: Transport): Promise<string | undefined> {
  const r = await transport.run(sh`k3s kubectl -n kube-system get service traefik -o json`, { sudo: true, timeoutMs: 30_000 }).catch(() => undefined);
  if (!r || r.code !== 0) return undefined;
  try {
    const svc = JSON.parse(r.stdout) as { status?: { loadBalancer?: { ingress?: { ip?: string }[] } } };
    return svc.status?.loadBalancer?.ingress?.find((i) => i.ip)?.ip;
  } catch {
    return undefined;
  }
}

// ---- helpers --------------------------------------------------------------------------------------------------

function fail(opts: WorkloadsPhaseOptions, result: WorkloadsPhaseResult, text: string): void {
  result.ok = false;
  result.error = result.error ? `${result.error} ${text}` : text;
  opts.log.write(`[${opts.firstServer.node.name}] workloads failed: ${text}`);
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

function seconds(ms: number): string {
  return ms < 10_000 ? String(Math.round(ms / 100) / 10) : String(Math.round(ms / 1000));
}

function message(error: unknown): string {
  if (error instanceof RevuePiError) return error.hint ? `${error.message} ${error.hint}` : error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
