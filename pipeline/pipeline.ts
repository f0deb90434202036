import type { EmitEvent } from '../core/events.js';
import { ConnectionError, RevuePiError } from '../core/errors.js';
import type { Inventory, InventoryNode } from '../core/inventory/schema.js';
import type { RunLog } from '../core/log.js';
import { nodeStatusFromSteps, type NodeReport, type RunReport, type StepReport, EXIT_NODE_FAILED, EXIT_OK } from '../core/report.js';
import { deferred, forEachNode } from '../core/runner.js';
import { buildFactsScript, parseFacts, type NodeFacts, type BootPageSize } from '../provision/facts.js';
import { freshPiFacts } from '../provision/fresh.js';
import { addressesOutsideSubnets } from '../provision/subnets.js';
import { applyPreparation, checkNode, describeChange, planPreparation, verifyAfterReboot, type PrepareChange } from '../provision/prepare.js';
import { readPageSizeCache, updatePageSizeCache } from '../provision/page-size-cache.js';
import { parseProbeOutput, type ProbeSection } from '../core/remote/probe.js';
import type { Transport } from '../core/remote/transport.js';
import type { ShellScript } from '../core/remote/shell.js';
import {
  firstServerProbeSections,
  freshK3sFacts,
  k3sProbeSections,
  parseK3sFacts,
  readK3sVersionCache,
  ROOT_PROBE_REFUSED_EXIT,
  type K3sFacts,
  type K3sVersionCacheEntry,
} from '../cluster/facts.js';
import { describeClusterChange, planCluster } from '../cluster/plan.js';
import { readStateToken } from '../cluster/token.js';
import { runClusterPhase } from '../cluster/phase.js';
import { firstServerOf } from '../cluster/config.js';
import { PHASES, objectsOfPhase, renderWorkloads } from '../workloads/render.js';
import { runWorkloadsPhase } from '../workloads/phase.js';
import { fastCheckProbeSection, nodesFromFastCheck, staleFromFastCheck } from '../workloads/fastpath.js';
import { describeRef } from '../workloads/apply.js';
import { describeDataRemoval, splitPrune } from '../workloads/prune.js';
import type { K8sObject } from '../workloads/render.js';

export interface PendingNode {
  node: string;
  changes: string[];
}

export type OpenTransport = (node: InventoryNode) => Promise<Transport>;

export interface PipelineOptions {
  command: 'up' | 'plan';
  inventory: Inventory;
  concurrency: number;
  strict: boolean;
  emit: EmitEvent;
  log: RunLog;
  /** Absent for `plan --offline`: no connection is opened and every node is assumed fresh. */
  openTransport?: OpenTransport;
  stateDir: string;
  /** The inventory file as given (-i), to name it in the commands messages suggest. */
  inventoryPath?: string;
  /** Where the kubeconfig is merged (--kubeconfig); default KUBECONFIG's first path, else ~/.kube/config. */
  kubeconfigPath?: string;
  /** Apply the workloads even when their minimum requests do not fit (up --force). */
  force?: boolean;
  /** Re-apply every workload phase even when the cluster matches the last apply (up --reapply). */
  reapply?: boolean;
  /** Asked once, after the plan, before anything changes (TTY without --yes). */
  confirm?: (pending: PendingNode[]) => Promise<boolean>;
  /** Delete data-holding objects the inventory no longer deploys (up --prune-data); see WorkloadsPhaseOptions. */
  pruneData?: boolean;
  /** Asks on its own whether to delete those (a terminal without --yes); absent: they are kept unless pruneData. */
  confirmDataRemoval?: (removals: string[]) => Promise<boolean>;
}

/** One node's run: its connection (opened once, reused by every step) and what it has reported. */
interface NodeSession {
  node: InventoryNode;
  transport?: Transport;
  facts?: NodeFacts;
  k3s: K3sFacts;
  cachedK3sVersion?: K3sVersionCacheEntry;
  /** The page size read in the node's boot last time (page-sizes.json). */
  pageSizeOfBoot?: BootPageSize;
  prepareChanges: PrepareChange[];
  report: NodeReport;
  /** First server: what the workloads fast check printed in its probe (empty where K3s is not installed). */
  fastCheckOutput?: string;
}

export async function runPipeline(options: PipelineOptions): Promise<RunReport> {
  const started = Date.now();
  // Every phase's wall time goes into the report (the benchmark reads it), whoever emits its events.
  const phaseTimes: NonNullable<RunReport['phases']> = [];
  const opened = new Map<string, number>();
  const opts: PipelineOptions = {
    ...options,
    emit: (event) => {
      if (event.type === 'phase-start') opened.set(event.phase, Date.now());
      if (event.type === 'phase-end') phaseTimes.push({ phase: event.phase, ok: event.ok, durationMs: Date.now() - (opened.get(event.phase) ?? Date.now()) });
      options.emit(event);
    },
  };
  const { inventory, emit } = opts;
  // Versions of K3s binaries already seen, by fingerprint: a converged probe then runs no `k3s --version`.
  const versionCache = readK3sVersionCache(opts.stateDir);
  const pageSizes = readPageSizeCache(opts.stateDir);
  // The workloads fast check rides in the first server's probe: a converged re-run then asks it nothing more. It is
  // rendered once that server is connected, while the other handshakes are still under way, not before dialling.
  let fastCheck: (ReturnType<typeof fastCheckProbeSection> & { objects: K8sObject[] }) | undefined;
  const probeExtras: ProbeExtras = {
    firstServer: firstServerOf(inventory)?.name,
    reapply: opts.reapply,
    fastCheck:
      opts.openTransport && !opts.reapply
        ? () => {
            if (!fastCheck) {
              const objects = renderWorkloads(inventory, { secrets: 'references' });
              fastCheck = { ...fastCheckProbeSection(objects), objects };
            }
            return fastCheck;
          }
        : undefined,
  };
  const sessions = inventory.nodes.map<NodeSession>((node) => ({
    node,
    cachedK3sVersion: versionCache[node.name],
    pageSizeOfBoot: pageSizes[node.name],
    k3s: freshK3sFacts(),
    prepareChanges: [],
    report: { name: node.name, host: node.host, role: node.role, status: 'unchanged', steps: [], warnings: [] },
  }));

  // The first server is what every other node waits for: it is dialled first, the others once it is connected, so its
  // probe is not slowed by nine handshakes at once; and when no one is asked to confirm, its preparation starts as soon
  // as it is probed, while the others are still being probed.
  const first = sessions.find((s) => s.node.name === probeExtras.firstServer);
  const firstConnected = deferred<void>();
  if (
    !othersWaitForFirstServer(
      sessions.map((s) => ({ name: s.node.name, ranK3sBefore: s.cachedK3sVersion !== undefined })),
      probeExtras.firstServer,
      opts.openTransport !== undefined,
    )
  ) {
    firstConnected.resolve();
  }
  const probed = deferred<void>();
  const eager = opts.command === 'up' && !opts.confirm && opts.openTransport !== undefined;
  let prepared: ReturnType<typeof prepareInBackground> | undefined;
  try {
    await phase(
      opts,
      'probe',
      opts.openTransport ? 'Reaching and probing the nodes' : 'Planning for fresh nodes (offline)',
      firstServerFirst(sessions, first),
      async (s) => {
        if (s !== first) await firstConnected.promise;
        try {
          // A node connected while the first server's boot config is being written waits for that command before its own probe.
          await probeNode(opts, s, probeExtras, s === first ? { connected: () => firstConnected.resolve() } : { beforeProbe: () => prepared?.firstSent });
        } finally {
          if (s === first) firstConnected.resolve();
        }
        // The others join its preparation once all are probed (those whose probe failed do not). Not before the
        // address check below can pass: then the first server's own subnets already hold every MetalLB address.
        if (s === first && eager && addressesFitFirstServer(opts, first))
          prepared = prepareInBackground(
            opts,
            firstServerFirst(sessions, first),
            probeExtras,
            async (x) => x === first || (await probed.promise, !x.report.error),
          );
      },
    );
    // MetalLB's addresses must be on the nodes' own network (L2 mode answers ARP there): said in a plan, and up refuses
    // to change anything without --force.
    const addressWarnings = addressesOutsideSubnets(
      inventory,
      sessions.flatMap((s) => s.facts?.subnets ?? []),
    );
    for (const message of addressWarnings) emit({ type: 'warning', message });
    if (addressWarnings.length > 0 && opts.command === 'up' && !opts.force && !prepared) {
      const which =
        addressWarnings.length === 1
          ? 'an address of network.metallb or network.addresses lies'
          : `${addressWarnings.length} addresses of network.metallb or network.addresses lie`;
      const reason = `not changed: ${which} outside every node's subnet (see the warnings). Fix the inventory, or run up --force to go ahead anyway.`;
      for (const s of sessions.filter((x) => !x.report.error)) markFailed(s, reason);
      return finish(opts, sessions, started, { addressWarnings });
    }
    if (opts.command === 'up' && opts.confirm) {
      const clusterPlans = planCluster(
        inventory,
        sessions.filter((s) => !s.report.error),
        readStateToken(opts.stateDir),
      );
      const pending = sessions
        .filter((s) => !s.report.error)
        .map((s) => ({
          node: s.node.name,
          changes: [...s.prepareChanges.map(describeChange), ...(clusterPlans.get(s.node.name) ?? []).map(describeClusterChange)],
        }))
        .filter((p) => p.changes.length > 0);
      const removals = first && fastCheck && first.fastCheckOutput ? workloadRemovals(first.node.name, first.fastCheckOutput, fastCheck.objects) : undefined;
      if (removals) pending.push(removals);
      const go = pending.length === 0 || (await opts.confirm(pending));
      if (!go) {
        for (const s of sessions.filter((x) => pending.some((p) => p.node === x.node.name))) markFailed(s, 'not applied: the operator declined');
        return finish(opts, sessions, started);
      }
    }
    // What the first server's probe read of the cluster (node list, fast check) is stale once any node is prepared:
    // a rebooting node was Ready when it was read. Then the cluster and workloads phases ask again.
    const anyPrepared = opts.command === 'up' && sessions.some((s) => !s.report.error && s.prepareChanges.length > 0);
    if (anyPrepared) for (const s of sessions) forgetClusterState(s);
    probed.resolve();
    // Each node goes on to K3s as soon as it is prepared: the first server installs while the others still reboot,
    // and an agent joins once it is back and the servers are up, not when the slowest node is back.
    if (opts.command === 'up')
      prepared ??= prepareInBackground(
        opts,
        sessions.filter((s) => !s.report.error),
        probeExtras,
      );
    const k3s = await runClusterPhase({
      command: opts.command,
      inventory,
      stateDir: opts.stateDir,
      concurrency: opts.concurrency,
      emit,
      log: opts.log,
      nodes: sessions.map((s) => ({
        node: s.node,
        transport: s.transport,
        k3s: s.k3s,
        report: s.report,
        ...(prepared?.ready.has(s.node.name) ? { ready: prepared.ready.get(s.node.name)!.then((ok) => (ok ? s.k3s : undefined)) } : {}),
      })),
      kubeconfigPath: opts.kubeconfigPath,
      ...(opts.inventoryPath !== undefined ? { inventoryPath: opts.inventoryPath } : {}),
      readyTimeoutMs: inventory.k3s.readyTimeoutSeconds * 1000,
    });
    await prepared?.done;
    const { readyNodesJson, ...k3sReport } = k3s;
    // The probed fast check is current only if the cluster phase changed nothing on any node.
    const clusterUnchanged = sessions.every((s) =>
      s.report.steps.every((step) => step.phase !== 'cluster' || step.step !== 'k3s' || step.status === 'unchanged'),
    );
    const probedFastCheck = fastCheck && clusterUnchanged && first?.fastCheckOutput ? { command: fastCheck.command, output: first.fastCheckOutput } : undefined;
    const workloads = await workloadsStage(opts, sessions, { nodesJson: readyNodesJson, probedFastCheck });
    return finish(opts, sessions, started, { k3s: k3sReport, workloads, phases: phaseTimes, ...(addressWarnings.length > 0 ? { addressWarnings } : {}) });
  } finally {
    await Promise.all(sessions.map((s) => s.transport?.close().catch(() => undefined)));
  }
}

/**
 * The workload objects a run would remove, as read by the first server's probe (its fast check), for the plan up shows
 * before asking; those holding data are marked as asked for on their own. Undefined when there are none.
 */
function workloadRemovals(server: string, fastCheckOutput: string, objects: K8sObject[]): PendingNode | undefined {
  const stale = staleFromFastCheck(fastCheckOutput, objects);
  if (!stale || stale.length === 0) return undefined;
  const { remove, data } = splitPrune(stale);
  return {
    node: `workloads (on ${server})`,
    changes: [
      ...remove.map((r) => `remove ${describeRef(r)}`),
      ...data.map(
        (r) => `remove ${describeDataRemoval(r)} — holds data: asked for on its own later, kept unless you type the cluster name (or pass --prune-data)`,
      ),
    ],
  };
}

/**
 * Workloads need the first server's K3s. Offline, or before K3s exists there (a plan for new nodes), the
 * plan lists what would be applied from the rendered manifests alone.
 */
/** What the earlier phases already read of the cluster, so the workloads phase need not ask again. */
interface ReadEarlier {
  nodesJson?: string;
  probedFastCheck?: { command: ShellScript; output: string };
}

async function workloadsStage(
  opts: PipelineOptions,
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
  const result = await runWorkloadsPhase({
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

function cpuMsSoFar(): number {
  const usage = process.cpuUsage();
  return Math.round((usage.user + usage.system) / 1000);
}

function finish(
  opts: PipelineOptions,
  sessions: NodeSession[],
  started: number,
  extra: Pick<RunReport, 'k3s' | 'workloads' | 'phases' | 'addressWarnings'> = {},
): RunReport {
  for (const s of sessions) {
    s.report.status = nodeStatusFromSteps(s.report.steps, s.report.error);
    s.report.sshConnections = s.transport?.connectionCount;
    s.report.sshCommands = s.transport?.commandCount;
    opts.emit({ type: 'node-done', node: s.node.name, status: s.report.status, error: s.report.error });
  }
  if (opts.command === 'up' && opts.openTransport) {
    // Lets the next probe of the same boot skip getconf; an optimisation, never a failure.
    try {
      updatePageSizeCache(
        opts.stateDir,
        sessions.filter((s) => s.transport && s.facts).map((s) => ({ name: s.node.name, facts: s.facts! })),
      );
    } catch (error) {
      opts.log.write(`could not update the page size cache: ${errorMessage(error)}`);
    }
  }
  const ok = sessions.every((s) => s.report.status !== 'failed') && extra.workloads?.ok !== false;
  return {
    ...extra,
    command: opts.command,
    cluster: opts.inventory.cluster.name,
    ok,
    exitCode: ok ? EXIT_OK : EXIT_NODE_FAILED,
    durationMs: Date.now() - started,
    cpuMs: cpuMsSoFar(),
    peakMemoryMiB: Math.round(process.resourceUsage().maxRSS / 102.4) / 10,
    offline: opts.openTransport ? undefined : true,
    logFile: opts.log.path,
    nodes: sessions.map((s) => s.report),
  };
}

/** What a phase's work returns for a node that took no part in it (it failed earlier): the phase's outcome leaves it out. */
const SKIPPED = Symbol('skipped');

async function phase(
  opts: PipelineOptions,
  name: string,
  title: string,
  sessions: NodeSession[],
  work: (s: NodeSession) => Promise<void | typeof SKIPPED>,
): Promise<void> {
  opts.emit({ type: 'phase-start', phase: name, title });
  const results = await forEachNode(
    sessions.map((s) => ({ name: s.node.name, session: s })),
    opts.concurrency,
    (item) => work(item.session),
  );
  let ok = true;
  for (const s of sessions) {
    const result = results.get(s.node.name);
    if (result?.ok && result.value === SKIPPED) continue;
    if (result && !result.ok) {
      markFailed(s, errorMessage(result.error), name);
      opts.log.write(`[${s.node.name}] ${name} failed: ${errorDetail(result.error)}`);
    }
    if (s.report.error) ok = false;
  }
  opts.emit({ type: 'phase-end', phase: name, ok });
}

/**
 * Whether the other nodes are dialled only once the first server is connected (a fresh or growing cluster: its
 * install is what they wait for). Where every node ran K3s last time — a re-run, most likely with nothing to
 * prepare — all are dialled at once: a head start for the first server then only delays the others (measured).
 */
export function othersWaitForFirstServer(nodes: { name: string; ranK3sBefore: boolean }[], firstServer: string | undefined, online: boolean): boolean {
  if (!online || firstServer === undefined || !nodes.some((n) => n.name === firstServer)) return false;
  return !nodes.every((n) => n.ranK3sBefore);
}

/** The sessions with the first server at the head, so that a low --concurrency cannot leave it behind the others. */
function firstServerFirst(sessions: NodeSession[], first: NodeSession | undefined): NodeSession[] {
  return first ? [first, ...sessions.filter((s) => s !== first)] : sessions;
}

/** Drops what the first server's probe read of the cluster (node list, workloads fast check): it is stale. */
function forgetClusterState(s: NodeSession): void {
  s.fastCheckOutput = undefined;
  if (s.k3s.apiNodesJson !== undefined) s.k3s = { ...s.k3s, apiNodesJson: undefined };
}

/**
 * The prepare phase, started without waiting for it: `ready` has a promise per node that resolves once the node is
 * prepared (true) or failed (false); `done` once the phase has ended. The phase's events and failures are those of
 * phase(), so the report reads the same.
 */
function prepareInBackground(
  opts: PipelineOptions,
  sessions: NodeSession[],
  extras: ProbeExtras,
  /** Whether a node takes part, once it may be known (started early, the phase waits here for the others' probes). */
  takesPart: (s: NodeSession) => Promise<boolean> = async () => true,
): { ready: Map<string, Promise<boolean>>; done: Promise<void>; firstSent: Promise<void> } {
  const signals = new Map(sessions.map((s) => [s.node.name, deferred<boolean>()]));
  // The first server goes first: the others' preparation starts once its command has returned, so the node everyone
  // waits for is not slowed (on a busy laptop or network) by nodes that will wait for it anyway. It heads the queue, so
  // a low --concurrency cannot leave it waiting behind them.
  const first = sessions.find((s) => s.node.name === extras.firstServer);
  const firstSent = deferred<void>();
  if (!first) firstSent.resolve();
  const ordered = firstServerFirst(sessions, first);
  const done = phase(opts, 'prepare', 'Preparing the nodes (boot config, hostname, reboots)', ordered, async (s) => {
    if (!(await takesPart(s))) {
      signals.get(s.node.name)!.resolve(false);
      return SKIPPED;
    }
    try {
      if (s !== first) await firstSent.promise;
      await prepareNode(opts, s, extras, s === first ? () => firstSent.resolve() : undefined);
      // Probed again after its reboot, it read the cluster while others may still be rebooting.
      if (s.report.rebooted) forgetClusterState(s);
      signals.get(s.node.name)!.resolve(true);
    } catch (error) {
      // Recorded on the node before the cluster phase hears of it, as phase() would at the end.
      markFailed(s, errorMessage(error), 'prepare');
      opts.log.write(`[${s.node.name}] prepare failed: ${errorDetail(error)}`);
      signals.get(s.node.name)!.resolve(false);
    } finally {
      if (s === first) firstSent.resolve();
    }
    return undefined;
  });
  return { ready: new Map([...signals].map(([name, d]) => [name, d.promise])), done, firstSent: firstSent.promise };
}

function markFailed(s: NodeSession, message: string, phase?: string): void {
  s.report.error = message;
  // The phase's own last step (a later phase may already have added one: they overlap).
  const last = [...s.report.steps].reverse().find((step) => step.phase === phase);
  if (phase && last && last.status !== 'failed') {
    last.status = 'failed';
    last.error = message;
  } else if (phase) {
    s.report.steps.push({ phase, step: phase, status: 'failed', changes: [], error: message });
  }
}

/** Whether the first server's own subnets already hold every MetalLB address (then the check after the probe passes). */
function addressesFitFirstServer(opts: PipelineOptions, first: NodeSession): boolean {
  const subnets = first.facts?.subnets ?? [];
  return !opts.inventory.network.metallb.enabled || (subnets.length > 0 && addressesOutsideSubnets(opts.inventory, subnets).length === 0);
}

/** What the first server's probe carries beyond every node's: the workloads fast check, when it will be used. */
interface ProbeExtras {
  firstServer?: string;
  /** up --reapply: every probe reads the files again (as root). */
  reapply?: boolean;
  fastCheck?: () => ProbeSection & { command: ShellScript };
}

async function probeNode(
  opts: PipelineOptions,
  s: NodeSession,
  extras: ProbeExtras,
  hooks: { connected?: () => void; beforeProbe?: () => Promise<void> | undefined } = {},
): Promise<void> {
  const { emit, inventory } = opts;
  const node = s.node;
  if (opts.openTransport) {
    emit({ type: 'node-step', phase: 'probe', node: node.name, step: 'connect', status: 'running' });
    s.transport = await opts.openTransport(node);
    hooks.connected?.();
    await hooks.beforeProbe?.();
    emit({ type: 'node-step', phase: 'probe', node: node.name, step: 'facts', status: 'running' });
    const probed = await probeNodeState(s.transport, s.cachedK3sVersion, probeOptionsFor(s, extras));
    s.facts = probed.facts;
    s.k3s = probed.k3s;
    s.fastCheckOutput = probed.fastCheckOutput;
  } else {
    s.facts = freshPiFacts(node);
  }
  const facts = s.facts;
  s.report.facts = {
    model: facts.model,
    os: facts.os.prettyName,
    arch: facts.arch,
    kernel: facts.kernel,
    pageSize: facts.pageSize,
    memoryBytes: facts.memoryBytes,
    memoryCgroup: facts.memoryCgroupActive,
  };
  const checks = checkNode(facts, node, { strict: opts.strict });
  for (const check of checks.filter((c) => c.severity === 'warning')) {
    s.report.warnings.push(check.message);
    emit({ type: 'node-warning', node: node.name, message: check.message });
  }
  const errors = checks.filter((c) => c.severity === 'error');
  if (errors.length > 0) throw new RevuePiError(errors.map((e) => e.message).join(' '), { code: 'NODE_CHECK', node: node.name });

  s.prepareChanges = planPreparation(facts, node, inventory);
  const step: StepReport = {
    phase: 'prepare',
    step: 'boot-config',
    status: s.prepareChanges.length === 0 ? 'unchanged' : opts.command === 'plan' ? 'planned' : 'unchanged',
    changes: opts.command === 'plan' ? s.prepareChanges.map(describeChange) : [],
  };
  s.report.steps.push(step);
  const assumed = opts.openTransport ? '' : 'assumed (offline): ';
  emit({
    type: 'node-step',
    phase: 'probe',
    node: node.name,
    step: 'facts',
    status: 'done',
    detail: `${assumed}${facts.model || 'unknown model'}, ${facts.os.prettyName || 'unknown OS'}, ${(facts.memoryBytes / 1024 ** 3).toFixed(1)} GiB`,
  });
}

/** Everything `up` needs to know about a node, boot and K3s alike, in one round trip. */
function probeOptionsFor(s: NodeSession, extras: ProbeExtras): ProbeStateOptions {
  const pageSize = s.pageSizeOfBoot && !extras.reapply ? { pageSizeOfBoot: s.pageSizeOfBoot } : {};
  // Other nodes: without sudo while their root-only files are as the last run read them (RootFilesCache).
  if (s.node.name !== extras.firstServer) return s.cachedK3sVersion?.files && !extras.reapply ? { withoutRoot: true, ...pageSize } : pageSize;
  return { firstServer: true, ...pageSize, ...(extras.fastCheck ? { fastCheck: extras.fastCheck() } : {}) };
}

export interface ProbeStateOptions {
  /** Also read the kubeconfig and the node list (firstServerProbeSections). */
  firstServer?: boolean;
  /** Also run the workloads fast check (first server); its Node items then stand for the node list. */
  fastCheck?: ProbeSection;
  /**
   * Run as the login user, not under sudo: the root-only files are read only when their fingerprint differs from the
   * cached one (k3sProbeSections). Needs `cachedVersion.files`; a refused `sudo -n` means one more probe, with sudo.
   */
  withoutRoot?: boolean;
  /** The page size read in the node's boot last time: answered without getconf while that boot lasts (pageSizeSection). */
  pageSizeOfBoot?: BootPageSize;
}

export async function probeNodeState(
  transport: Transport,
  cachedVersion?: K3sVersionCacheEntry,
  opts: ProbeStateOptions = {},
): Promise<{ facts: NodeFacts; k3s: K3sFacts; fastCheckOutput?: string }> {
  const withoutRoot = opts.withoutRoot === true && cachedVersion?.files !== undefined;
  const sections = [
    ...k3sProbeSections(cachedVersion, { withoutRoot }),
    ...(opts.firstServer ? firstServerProbeSections({ nodes: opts.fastCheck === undefined }) : []),
    ...(opts.fastCheck ? [opts.fastCheck] : []),
  ];
  const result = await transport.run(buildFactsScript(sections, { pageSizeOfBoot: opts.pageSizeOfBoot }), { sudo: !withoutRoot });
  if (withoutRoot && result.code === ROOT_PROBE_REFUSED_EXIT) return probeNodeState(transport, cachedVersion, { ...opts, withoutRoot: false });
  if (result.code !== 0) {
    // Not stdout: on the first server it may hold the kubeconfig's client key.
    throw new RevuePiError(`Probing node ${transport.nodeName} failed (exit ${result.code}): ${result.stderr.trim() || 'it printed no error'}`, {
      code: 'PROBE',
      node: transport.nodeName,
    });
  }
  const parsed = parseProbeOutput(result.stdout);
  const k3s = parseK3sFacts(parsed, cachedVersion);
  if (!opts.fastCheck) return { facts: parseFacts(parsed), k3s };
  const fastCheckOutput = parsed.get(opts.fastCheck.name) || undefined;
  const apiNodesJson = fastCheckOutput !== undefined ? nodesFromFastCheck(fastCheckOutput) : undefined;
  return {
    facts: parseFacts(parsed),
    k3s: apiNodesJson !== undefined ? { ...k3s, apiNodesJson } : k3s,
    ...(fastCheckOutput !== undefined ? { fastCheckOutput } : {}),
  };
}

export async function probeFacts(transport: Transport): Promise<NodeFacts> {
  return (await probeNodeState(transport)).facts;
}

/** `commandSent`: called once the node's one preparation command has returned (before any reboot wait), or at once when it needs none. */
async function prepareNode(opts: PipelineOptions, s: NodeSession, extras: ProbeExtras, commandSent?: () => void): Promise<void> {
  const { emit, inventory, log } = opts;
  const node = s.node;
  const transport = s.transport!;
  const step = s.report.steps.find((x) => x.phase === 'prepare')!;
  if (s.prepareChanges.length === 0) {
    commandSent?.();
    emit({ type: 'node-step', phase: 'prepare', node: node.name, step: 'boot-config', status: 'unchanged' });
    return;
  }
  emit({ type: 'node-step', phase: 'prepare', node: node.name, step: 'boot-config', status: 'running' });
  await applyPreparation(transport, s.prepareChanges, {
    onChange: (change) => {
      step.changes.push(describeChange(change));
      step.status = 'changed';
      log.write(`[${node.name}] ${describeChange(change)}`);
    },
  });
  commandSent?.();
  const reboot = s.prepareChanges.find((c) => c.kind === 'reboot');
  if (reboot) {
    step.status = 'changed';
    step.changes.push(describeChange(reboot));
    emit({ type: 'node-step', phase: 'prepare', node: node.name, step: 'reboot', status: 'running', detail: reboot.reason });
    log.write(`[${node.name}] rebooting: ${reboot.reason}`);
    const before = s.facts!.bootId;
    const timeoutMs = inventory.pi.rebootTimeoutSeconds * 1000;
    // The probe after the reboot is also the check that it happened: a new boot id.
    const probed = await waitForNewBoot(transport, before, timeoutMs, () => probeNodeState(transport, s.cachedK3sVersion, probeOptionsFor(s, extras)));
    s.report.rebooted = true;
    s.fastCheckOutput = probed.fastCheckOutput;
    s.facts = probed.facts;
    s.k3s = probed.k3s;
    const problems = verifyAfterReboot(s.facts, node, inventory);
    if (problems.length > 0) throw new RevuePiError(problems.join(' '), { code: 'VERIFY', node: node.name });
  }
  emit({
    type: 'node-step',
    phase: 'prepare',
    node: node.name,
    step: 'boot-config',
    status: 'changed',
    detail: step.changes.length === 1 ? step.changes[0] : `${step.changes.length} changes`,
  });
}

/**
 * The reboot is real only when the node answers with a new boot id, not when the old session lingers. Resolves
 * with the probe of the new boot (the probe reads the boot id, so the check costs no round trip of its own).
 */
async function waitForNewBoot<T extends { facts: NodeFacts }>(
  transport: Transport,
  previousBootId: string,
  timeoutMs: number,
  probe: () => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  // The first new connection waits for the node to close the old one as it goes down (the reboot starts a second after
  // the command, later on a loaded machine): reaching the boot that is ending is caught by the boot id, but costs a
  // connection and a probe. A session that hangs instead of closing is given up on after 10 s.
  let waitForDropMs = 10_000;
  while (Date.now() < deadline) {
    await transport.reconnect(Math.max(1000, deadline - Date.now()), { waitForDropMs });
    waitForDropMs = 0;
    // A dropped session is the node going down or not fully up: try again. Anything else (sudo refused…) is an answer.
    const probed = await probe().catch((error: unknown) => {
      if (error instanceof ConnectionError) return undefined;
      throw error;
    });
    if (probed && probed.facts.bootId !== '' && probed.facts.bootId !== previousBootId) return probed;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new RevuePiError(`Node ${transport.nodeName} did not come back within ${Math.round(timeoutMs / 1000)} s after the reboot.`, {
    code: 'REBOOT_TIMEOUT',
    node: transport.nodeName,
    hint: 'Check its power and network; raise pi.rebootTimeoutSeconds in the inventory for slow boots, then run up again.',
  });
}

export function errorMessage(error: unknown): string {
  if (error instanceof RevuePiError) return error.hint ? `${error.message} ${error.hint}` : error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

function errorDetail(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (cause: ${error.cause.message})` : '';
  return `${error.message}${cause}`;
}
