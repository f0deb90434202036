import { RevuePiError } from '../core/errors.js';
import type { InventoryNode } from '../core/inventory/schema.js';
import type { NodeFacts } from '../core/node-facts.js';
import type { NodeReport } from '../core/report.js';
import type { Transport } from '../core/remote/transport.js';
import { forEachNode } from '../core/runner.js';
import type { K3sFacts, K3sVersionCacheEntry } from '../cluster/facts.js';
import type { BootPageSize } from '../provision/facts.js';
import type { PrepareChange } from '../provision/prepare.js';
import type { RunOptions } from './options.js';

/** One node's run: its connection (opened once, reused by every step) and what it has reported. */
export interface NodeSession {
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

/** What a phase's work returns for a node that took no part in it (it failed earlier): the phase's outcome leaves it out. */
export const SKIPPED = Symbol('skipped');

/** A phase of the pipeline's own (probe, prepare): its events, the nodes at once, and each failure on its node. */
export async function phase(
  opts: RunOptions,
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

/** The sessions with the first server at the head, so that a low --concurrency cannot leave it behind the others. */
export function firstServerFirst(sessions: NodeSession[], first: NodeSession | undefined): NodeSession[] {
  return first ? [first, ...sessions.filter((s) => s !== first)] : sessions;
}

/** Drops what the first server's probe read of the cluster (node list, workloads fast check): it is stale. */
export function forgetClusterState(s: NodeSession): void {
  s.fastCheckOutput = undefined;
  if (s.k3s.apiNodesJson !== undefined) s.k3s = { ...s.k3s, apiNodesJson: undefined };
}

export function markFailed(s: NodeSession, message: string, phase?: string): void {
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

export function errorMessage(error: unknown): string {
  if (error instanceof RevuePiError) return error.hint ? `${error.message} ${error.hint}` : error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

export function errorDetail(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (cause: ${error.cause.message})` : '';
  return `${error.message}${cause}`;
}
