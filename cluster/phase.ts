import { join } from 'node:path';
import { RevuePiError } from '../core/errors.js';
import type { InventoryNode } from '../core/inventory/schema.js';
import type { StepReport } from '../core/report.js';
import { forEachNode } from '../core/runner.js';
import { firstServerOf } from './config.js';
import { updateK3sVersionCache } from './facts.js';
import { checkClusterNode, describeClusterChange, planClusterNode, tokenMatchesServer, versionsBehind } from './plan.js';
import { type ClusterPhaseOptions, type ClusterPhaseResult, type Session, PHASE, STEP, fail, summary, message } from './session.js';
import { resolveToken } from './resolve-token.js';
import { converge } from './converge.js';
import { waitForApi, waitForReady } from './readiness.js';
import { mergeKubeconfigFromServer } from './kubeconfig-merge.js';
import { resolveFirstServer, type FirstServerContext } from './first-server-run.js';
import { applyNodesMetadata, liveNodeMetadata, planNodesMetadata } from './node-metadata-run.js';
import { describeNodeMetadata, type LiveNodeMetadata } from './node-metadata.js';
import { GET_NODES_COMMAND } from './nodes.js';
import { nodesNotInInventory, removeNodeAdvice } from './strays.js';

export type { ClusterNodeInput, ClusterPhaseOptions, ClusterPhaseResult } from './session.js';

/**
 * The cluster phase of `up`/`plan`: K3s on every node, in order — the first server, then the other servers
 * one at a time (etcd quorum), then the agents in parallel — then a bounded wait until every node is Ready,
 * then the kubeconfig. It may start while nodes are still being prepared: each node waits for its own `ready`.
 * Everything goes through each node's one transport; the Kubernetes API is reached with `k3s kubectl` on the first
 * server. Failures are per node and recorded in the node's report; nothing throws for one node.
 */
export async function runClusterPhase(opts: ClusterPhaseOptions): Promise<ClusterPhaseResult> {
  const { emit } = opts;
  emit({ type: 'phase-start', phase: PHASE, title: opts.command === 'up' ? 'Installing K3s and joining the nodes' : 'Planning K3s on the nodes' });
  const result: ClusterPhaseResult = {};
  const sessions: Session[] = opts.nodes
    .filter((n) => !n.report.error)
    .map((n) => {
      const step: StepReport = { phase: PHASE, step: STEP, status: 'unchanged', changes: [] };
      n.report.steps.push(step);
      return { ...n, step, changes: [] };
    });
  try {
    await runSessions(opts, sessions, result);
  } catch (error) {
    // Only a bug gets here; still, every node gets an answer.
    for (const s of sessions) if (!s.report.error) fail(opts, s, `the cluster phase stopped: ${message(error)}`);
  }
  // A node that failed elsewhere meanwhile (its preparation) took no part: no cluster step for it.
  for (const s of sessions.filter((x) => x.leftOut)) s.report.steps.splice(s.report.steps.indexOf(s.step), 1);
  if (opts.command === 'up') {
    // Lets the next probe skip `k3s --version` where the binary is unchanged; an optimisation, never a failure.
    try {
      updateK3sVersionCache(
        opts.stateDir,
        sessions.filter((s) => s.transport).map((s) => ({ name: s.node.name, facts: s.k3s })),
      );
    } catch (error) {
      opts.log.write(`could not update the K3s version cache: ${message(error)}`);
    }
  }
  const behind = versionsBehind(
    opts.inventory,
    sessions.filter((s) => !s.leftOut).map((s) => ({ name: s.node.name, ...(s.k3s.installedVersion ? { installedVersion: s.k3s.installedVersion } : {}) })),
  );
  if (behind) result.behind = behind;
  emit({ type: 'phase-end', phase: PHASE, ok: sessions.every((s) => s.leftOut || !s.report.error) });
  return result;
}

/**
 * Waits until the node is prepared and takes its K3s facts from then. False when it cannot take part: its preparation
 * failed (left out), or this phase already failed it.
 */
async function whenReady(s: Session): Promise<boolean> {
  if (s.ready) {
    const k3s = await s.ready;
    if (k3s === undefined) {
      s.leftOut = true;
      return false;
    }
    s.k3s = k3s;
  }
  // Failed elsewhere while this phase waited (not by this phase, which marks its step failed).
  if (s.report.error !== undefined && s.step.status !== 'failed') s.leftOut = true;
  return !s.report.error;
}

async function runSessions(opts: ClusterPhaseOptions, sessions: Session[], result: ClusterPhaseResult): Promise<void> {
  const { inventory } = opts;
  const firstNode = firstServerOf(inventory);
  if (!firstNode) {
    for (const s of sessions) fail(opts, s, 'the inventory has no node with role: server; give one node role: server.');
    return;
  }
  result.firstServer = firstNode.name;
  const firstInput = opts.nodes.find((n) => n.node.name === firstNode.name);
  const first = sessions.find((s) => s.node.name === firstNode.name);
  const others = sessions.filter((s) => s !== first);
  const cascade = (why: string) => {
    for (const s of others) if (!s.report.error && !s.leftOut) fail(opts, s, `first server ${firstNode.name} failed: ${why}`);
  };
  if (!first) {
    cascade(firstInput?.report.error ?? 'it was not reached');
    return;
  }
  if (opts.command === 'up' && !first.transport) {
    fail(opts, first, 'no connection to it');
    cascade('no connection to it');
    return;
  }
  if (!(await whenReady(first))) {
    cascade(first.report.error ?? 'its preparation failed');
    return;
  }

  // The token: from the state directory, else recovered from the first server, else new.
  let token: string | undefined;
  try {
    const resolved = await resolveToken(opts, first);
    token = resolved.token;
    result.token = resolved.source;
    opts.log.addSecret(token);
    if (token && resolved.source === 'state' && first.k3s.installedVersion && !tokenMatchesServer(first.k3s, token)) {
      const file = join(opts.stateDir, 'token');
      throw new RevuePiError(
        `the cluster token in ${file} is not the one K3s on first server ${first.node.name} was started with; writing it would lock the nodes out of the cluster.`,
        {
          code: 'TOKEN_MISMATCH',
          node: first.node.name,
          hint: `If ${file} belongs to another cluster, point --state-dir at the right one; to use the cluster's own token, delete ${file} and run again (revue-pi recovers it from ${first.node.name}).`,
        },
      );
    }
  } catch (error) {
    fail(opts, first, message(error));
    cascade(message(error));
    return;
  }

  // Whether the first server starts the cluster or (rebuilt) joins a server that still runs it.
  const firstContext = await resolveFirstServer(
    opts,
    first,
    others.filter((s) => s.node.role === 'server'),
  ).catch((error: unknown) => ({ error: message(error) }));
  if ('error' in firstContext) {
    fail(opts, first, firstContext.error);
    cascade(firstContext.error);
    return;
  }

  // Checks (role changes are refused, other versions reported) and plans: the first server now, every other node once
  // it is ready.
  const plan = (s: Session) => planNode(opts, s, firstNode, token, firstContext);
  plan(first);
  if (first.report.error) {
    cascade(first.report.error);
    return;
  }

  if (opts.command === 'plan') {
    // The node list the first server's probe read, parsed once for every node's labels and taints plan.
    const live = first.k3s.apiNodesJson ? liveMetadataQuietly(first.k3s.apiNodesJson) : undefined;
    for (const s of sessions) {
      if (s !== first && (await whenReady(s))) plan(s);
      if (s.report.error || s.leftOut) continue;
      // Labels and taints that differ on registered nodes, from the node list the first server's probe read.
      const metadata = live ? planMetadataQuietly(s, live) : [];
      s.step.status = s.changes.length + metadata.length > 0 ? 'planned' : 'unchanged';
      s.step.changes = [...s.changes.map(describeClusterChange), ...metadata];
      opts.emit({ type: 'node-step', phase: PHASE, node: s.node.name, step: STEP, status: s.step.status, detail: summary(s.step.changes) });
    }
    const strays = first.k3s.apiNodesJson ? nodesNotInInventory(inventory, first.k3s.apiNodesJson) : [];
    if (strays.length > 0) {
      result.notInInventory = strays;
      first.report.warnings.push(removeNodeAdvice(inventory.cluster.name, strays));
    }
    return;
  }

  // up: the first server alone, then servers one by one, then agents in parallel.
  await converge(opts, first, token!, first);
  if (first.report.error) {
    cascade(first.report.error);
    return;
  }
  const firstTransport = first.transport!;
  if (first.changes.length > 0) {
    const apiUp = await waitForApi(opts, firstTransport);
    if (!apiUp.ok) {
      fail(opts, first, apiUp.error);
      cascade(apiUp.error);
      return;
    }
  }
  const readyThenConverge = async (s: Session) => {
    if (!(await whenReady(s))) return;
    plan(s);
    if (!s.report.error) await converge(opts, s, token!, first);
  };
  for (const s of others.filter((x) => x.node.role === 'server')) await readyThenConverge(s);
  await forEachNode(
    others.filter((x) => x.node.role === 'agent').map((s) => ({ name: s.node.name, s })),
    opts.concurrency,
    ({ s }) => readyThenConverge(s),
  );

  // The kubeconfig only needs the first server, so it is fetched while the others become Ready.
  const [readyNodesJson, kubeconfigPath] = await Promise.all([
    waitForReady(
      opts,
      first,
      sessions.filter((s) => !s.report.error && !s.leftOut),
    ),
    mergeKubeconfigFromServer(opts, first),
  ]);
  result.kubeconfigPath = kubeconfigPath;
  const listed = readyNodesJson ?? (await listedNodes(first));
  const strays = listed === undefined ? [] : nodesNotInInventory(inventory, listed);
  if (strays.length > 0) {
    result.notInInventory = strays;
    const text = removeNodeAdvice(inventory.cluster.name, strays);
    first.report.warnings.push(text);
    opts.emit({ type: 'node-warning', node: first.node.name, message: text });
  }
  if (readyNodesJson !== undefined) {
    result.readyNodesJson = readyNodesJson;
    await applyNodesMetadata(
      opts,
      first,
      sessions.filter((s) => !s.report.error && !s.leftOut),
      readyNodesJson,
    );
  }
}

/** The node list when waitForReady had none to give (a node not Ready): read once more, or undefined. */
async function listedNodes(first: Session): Promise<string | undefined> {
  const r = await first.transport?.run(GET_NODES_COMMAND, { sudo: true, timeoutMs: 30_000 }).catch(() => undefined);
  return r && r.code === 0 ? r.stdout : undefined;
}

/** plan only shows what would change: a node list it cannot read plans no label or taint change (up reads it again). */
function liveMetadataQuietly(nodesJson: string): Map<string, LiveNodeMetadata> | undefined {
  try {
    return liveNodeMetadata(nodesJson);
  } catch {
    return undefined;
  }
}

function planMetadataQuietly(s: Session, live: Map<string, LiveNodeMetadata>): string[] {
  try {
    const plan = planNodesMetadata([s], live).get(s);
    return plan ? describeNodeMetadata(plan) : [];
  } catch {
    return [];
  }
}

/** A node's checks (warnings, or a failure) and, if it passes, its plan. */
function planNode(opts: ClusterPhaseOptions, s: Session, firstServer: InventoryNode, token: string | undefined, first: FirstServerContext): void {
  const { inventory } = opts;
  for (const check of checkClusterNode(s.k3s, inventory, s.node, { token, inventoryPath: opts.inventoryPath })) {
    if (check.severity === 'warning') {
      s.report.warnings.push(check.message);
      opts.emit({ type: 'node-warning', node: s.node.name, message: check.message });
    } else {
      fail(opts, s, check.message);
    }
  }
  if (!s.report.error)
    s.changes = planClusterNode(s.k3s, inventory, s.node, {
      firstServer,
      token,
      firstServerStart: first.start,
      ...(first.staleMember !== undefined ? { staleMember: first.staleMember } : {}),
    });
}
