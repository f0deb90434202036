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
