/** Waiting for the Kubernetes API and for every node to be Ready, reading the node list through `k3s kubectl`. */
import { trimOutput } from '../core/errors.js';
import type { Transport } from '../core/remote/transport.js';
import { KubectlError, NODE_LIST_QUERY, RemoteKubectl } from '../core/kube/index.js';
import { nodesReadyOf, parseNodesReady, readySince, type NodeReadiness } from './nodes.js';
import { unitFor } from '../core/k3s-paths.js';
import { type ClusterPhaseOptions, type Session, PHASE, fail, formatSeconds, message, sleep, journalTail } from './session.js';
import { checkJournal } from './converge.js';

async function getNodes(transport: Transport): Promise<{ nodes?: NodeReadiness[]; json?: string; error?: string }> {
  try {
    const items = await new RemoteKubectl(transport).get(NODE_LIST_QUERY, { timeoutMs: 30_000 });
    return { nodes: nodesReadyOf(items), json: JSON.stringify({ kind: 'List', items }) };
  } catch (error) {
    return { error: error instanceof KubectlError ? trimOutput(error.output, 3) : message(error) };
  }
}

function nodesFrom(kubectlJson: string): { nodes?: NodeReadiness[]; json?: string; error?: string } {
  try {
    return { nodes: parseNodesReady(kubectlJson), json: kubectlJson };
  } catch (error) {
    return { error: message(error) };
  }
}

/** After the first server changed: the API must answer before anyone joins it. */
export async function waitForApi(opts: ClusterPhaseOptions, transport: Transport): Promise<{ ok: true } | { ok: false; error: string }> {
  const deadline = Date.now() + opts.readyTimeoutMs;
  let last = '';
  for (;;) {
    const got = await getNodes(transport);
    if (got.nodes) return { ok: true };
    last = got.error ?? '';
    if (Date.now() >= deadline) break;
    await sleep(opts.pollIntervalMs ?? 2000);
  }
  const journal = await journalTail(transport, 'k3s');
  return {
    ok: false,
    error: `the Kubernetes API on ${transport.nodeName} did not answer within ${formatSeconds(opts.readyTimeoutMs)} s (k3s kubectl: ${last}).${journal ? ` Last lines of its k3s journal:\n${journal}` : ''}`,
  };
}

/** Resolves with the node list that showed every node Ready (undefined when some never were, or none to wait for). */
export async function waitForReady(opts: ClusterPhaseOptions, first: Session, sessions: Session[]): Promise<string | undefined> {
  if (sessions.length === 0) return undefined;
  const { emit } = opts;
  const deadline = Date.now() + opts.readyTimeoutMs;
  const pending = new Map(sessions.map((s) => [s.node.name, s]));
  const journalEvery = opts.journalCheckIntervalMs ?? 5000;
  let lastJournalCheck = Date.now();
  let seen = new Map<string, NodeReadiness>();
  let lastError = '';
  for (const s of sessions) emit({ type: 'node-step', phase: PHASE, node: s.node.name, step: 'ready', status: 'running' });
  // Nothing was installed, rewritten or restarted: the node list the first server's probe read moments ago is
  // current, so a converged re-run asks the API nothing more. Later rounds (someone not Ready yet) ask again.
  let probed = sessions.every((s) => s.changes.length === 0) ? first.k3s.apiNodesJson : undefined;
  for (;;) {
    const got = probed !== undefined ? nodesFrom(probed) : await getNodes(first.transport!);
    probed = undefined;
    if (got.nodes) {
      seen = new Map(got.nodes.map((n) => [n.name, n]));
      for (const name of [...pending.keys()]) {
        const node = seen.get(name);
        if (node && readySince(node, pending.get(name)!.restartedAt)) {
          pending.delete(name);
          emit({ type: 'node-step', phase: PHASE, node: name, step: 'ready', status: 'done', detail: node.version });
        }
      }
    } else {
      lastError = got.error ?? '';
    }
    if (pending.size === 0) return got.json;
    if (Date.now() >= deadline) break;
    if (Date.now() - lastJournalCheck >= journalEvery) {
      lastJournalCheck = Date.now();
      await Promise.all(
        [...pending.values()].map((s) =>
          checkJournal(opts, s, first).catch((error) => {
            fail(opts, s, message(error));
            pending.delete(s.node.name);
          }),
        ),
      );
    }
    await sleep(opts.pollIntervalMs ?? 2000);
  }
  const seconds = formatSeconds(opts.readyTimeoutMs);
  await Promise.all(
    [...pending.values()].map(async (s) => {
      const unit = unitFor(s.node.role);
      const state = seen.has(s.node.name)
        ? 'registered but not Ready'
        : seen.size === 0 && lastError
          ? `the API on ${first.node.name} did not list the nodes: ${lastError}`
          : 'not registered with the cluster';
      const journal = s.transport ? await journalTail(s.transport, unit) : '';
      fail(
        opts,
        s,
        `node ${s.node.name} is not Ready after ${seconds} s (${state}).${journal ? ` Last lines of its ${unit} journal:\n${journal}` : ''}\n` +
          `Fix the cause and run up again; raise k3s.readyTimeoutSeconds for slow nodes.`,
      );
    }),
  );
}
