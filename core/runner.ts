/**
 * How many nodes are worked on at once (dialled, probed, prepared, joined) when --concurrency is not given: all of
 * them, up to this cap. A node's work runs on the node itself (the installer's download, K3s starting, the join), so a
 * fixed limit below the node count only queues nodes (`npm run bench`, 1 server + 29 agents against 1 + 1: 2.25× with
 * the old default of 10, 1.16× with all at once). What the laptop holds per node is one SSH connection for the whole
 * run (one socket, ssh2's buffers) and the node's session: revue-pi's peak memory grows by under 1 MiB per node (67 MiB
 * at 2 nodes, 90 MiB at 30), so memory and sockets grow with the inventory, not with this number. The cap bounds the
 * handshakes and commands in flight at once, for an inventory far beyond a rack of Pis. Through a jump host the logins
 * are bounded further (MAX_DIALS_PER_JUMP_HOST in core/connect.ts).
 */
export const MAX_NODES_AT_ONCE = 64;

/** --concurrency when given, else every node up to MAX_NODES_AT_ONCE (never below 1). */
export function nodesAtOnce(nodeCount: number, requested?: number): number {
  return Math.max(1, requested ?? Math.min(nodeCount, MAX_NODES_AT_ONCE));
}

/** Runs at most `limit` of the calls at once; the others wait their turn, in order. */
export function limiter(limit: number): <T>(work: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (work) => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await work();
    } finally {
      // The slot passes straight to the next caller, so `running` only drops when no one waits.
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}

/**
 * Per-node parallelism: at most `concurrency` nodes at a time, and one node's failure never stops
 * the others — every node gets a settled result.
 */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export async function forEachNode<N extends { name: string }, T>(
  nodes: readonly N[],
  concurrency: number,
  work: (node: N) => Promise<T>,
): Promise<Map<string, Settled<T>>> {
  const results = new Map<string, Settled<T>>();
  let next = 0;
  const worker = async () => {
    while (next < nodes.length) {
      const node = nodes[next++]!;
      try {
        results.set(node.name, { ok: true, value: await work(node) });
      } catch (error) {
        results.set(node.name, { ok: false, error });
      }
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(concurrency, nodes.length)) }, worker);
  await Promise.all(workers);
  // Report in inventory order, whatever order they finished in.
  return new Map(nodes.map((n) => [n.name, results.get(n.name)!]));
}

/** A promise and the function that settles it, for work that one task finishes and another waits for. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
