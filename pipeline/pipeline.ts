import type { RunReport } from '../core/report.js';
import { deferred, nodesAtOnce } from '../core/runner.js';
import { firstServerOf } from '../cluster/config.js';
import { freshK3sFacts, readK3sVersionCache } from '../cluster/facts.js';
import { clusterStep } from '../cluster/step.js';
import { planCluster } from '../cluster/plan.js';
import { readStateToken } from '../cluster/token.js';
import { readPageSizeCache } from '../provision/page-size-cache.js';
import { provisionStep } from '../provision/step.js';
import { addressesOutsideSubnets } from '../provision/subnets.js';
import { workloadsProbeTarget, type WorkloadsProbeTarget } from '../workloads/step.js';
import { finish } from './finish.js';
import type { PendingNode, PipelineOptions, RunOptions } from './options.js';
import { prepareInBackground, type PreparingNodes } from './prepare.js';
import { othersWaitForFirstServer, probeNode, type ProbeExtras } from './probe.js';
import { firstServerFirst, forgetClusterState, markFailed, phase, type NodeSession } from './session.js';
import { workloadRemovals, workloadsStage } from './workloads.js';

export type { OpenTransport, PendingNode, PipelineOptions } from './options.js';
export { othersWaitForFirstServer, probeFacts, probeNodeState, type ProbeStateOptions } from './probe.js';
export { errorMessage } from './session.js';

/**
 * `up` and `plan`: the stages (core/step.ts) composed per node — probe every node (one round trip each), check and
 * plan, ask, then prepare, K3s, workloads. The pipeline owns concurrency: the first server first, then every node at
 * once (up to --concurrency); each node goes on to K3s as soon as it is prepared.
 */
export async function runPipeline(options: PipelineOptions): Promise<RunReport> {
  const started = Date.now();
  // Every phase's wall time goes into the report (the benchmark reads it), whoever emits its events.
  const phaseTimes: NonNullable<RunReport['phases']> = [];
  const opened = new Map<string, number>();
  const opts: RunOptions = {
    ...options,
    concurrency: nodesAtOnce(options.inventory.nodes.length, options.concurrency),
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
  let workloadsProbe: WorkloadsProbeTarget | undefined;
  const probeExtras: ProbeExtras = {
    firstServer: firstServerOf(inventory)?.name,
    reapply: opts.reapply,
    workloads: opts.openTransport && !opts.reapply ? () => (workloadsProbe ??= workloadsProbeTarget(inventory)) : undefined,
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
  let prepared: PreparingNodes | undefined;
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
      const go = await confirmPlan(opts, sessions, first, workloadsProbe);
      if (!go.ok) {
        for (const s of sessions.filter((x) => go.pending.some((p) => p.node === x.node.name))) markFailed(s, 'not applied: the operator declined');
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
    const k3s = await clusterStep.apply({
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
      replaceNodes: opts.replaceNodes,
      confirmNodeReplacement: opts.confirmNodeReplacement,
    });
    await prepared?.done;
    const { readyNodesJson, ...k3sReport } = k3s;
    // The probed fast check is current only if the cluster phase changed nothing on any node.
    const clusterUnchanged = sessions.every((s) =>
      s.report.steps.every((step) => step.phase !== 'cluster' || step.step !== 'k3s' || step.status === 'unchanged'),
    );
    const probedFastCheck =
      workloadsProbe && clusterUnchanged && first?.fastCheckOutput ? { command: workloadsProbe.fastCheck.command, output: first.fastCheckOutput } : undefined;
    const workloads = await workloadsStage(opts, sessions, { nodesJson: readyNodesJson, probedFastCheck });
    return finish(opts, sessions, started, { k3s: k3sReport, workloads, phases: phaseTimes, ...(addressWarnings.length > 0 ? { addressWarnings } : {}) });
  } finally {
    await Promise.all(sessions.map((s) => s.transport?.close().catch(() => undefined)));
  }
}

/**
 * up's question before anything changes: every stage's plan for every node still in the run, described. `ok` is the
 * answer (true without asking when nothing would change).
 */
async function confirmPlan(
  opts: RunOptions,
  sessions: NodeSession[],
  first: NodeSession | undefined,
  workloadsProbe: WorkloadsProbeTarget | undefined,
): Promise<{ ok: boolean; pending: PendingNode[] }> {
  const { inventory } = opts;
  const live = sessions.filter((s) => !s.report.error);
  // Planned together: whether the first server starts the cluster or (rebuilt) joins a live server depends on the others.
  const k3sPlans = planCluster(
    inventory,
    live.map((s) => ({ node: s.node, k3s: s.k3s })),
    readStateToken(opts.stateDir),
  );
  const pending = live
    .map((s) => ({
      node: s.node.name,
      changes: [...s.prepareChanges.map(provisionStep.describe), ...(k3sPlans.get(s.node.name) ?? []).map(clusterStep.describe)],
    }))
    .filter((p) => p.changes.length > 0);
  const removals = first && workloadsProbe && first.fastCheckOutput ? workloadRemovals(first.node.name, first.fastCheckOutput, workloadsProbe) : undefined;
  if (removals) pending.push(removals);
  return { ok: pending.length === 0 || (await opts.confirm!(pending)), pending };
}

/** Whether the first server's own subnets already hold every MetalLB address (then the check after the probe passes). */
function addressesFitFirstServer(opts: RunOptions, first: NodeSession): boolean {
  const subnets = first.facts?.subnets ?? [];
  return !opts.inventory.network.metallb.enabled || (subnets.length > 0 && addressesOutsideSubnets(opts.inventory, subnets).length === 0);
}
