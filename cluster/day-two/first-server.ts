import type { InventoryNode } from '../../core/inventory/schema.js';
import type { Transport } from '../../core/remote/transport.js';

/** A server that answered: its node, the transport left open to it (the caller closes it), and what `read` found there. */
export interface AnsweringServer<T> {
  node: InventoryNode;
  transport: Transport;
  found: T;
}

/**
 * The first server that answers, for a day-two verb that needs one server to work through (backup, remove-node, and
 * any verb that acts on the cluster from a server). Tries `servers` in the order given — the caller filters the
 * inventory (e.g. leaves out the node being removed) — opening each with `open` and running `read` on it; `read`
 * throws to pass a server over (no K3s there, its API did not answer…). The first `read` that returns wins and its
 * transport stays open for the caller; every other transport is closed. When none answers, `tried` holds one
 * `name: reason` per server, in order, for the caller's refusal.
 */
export async function firstAnsweringServer<T>(
  servers: readonly InventoryNode[],
  open: (node: InventoryNode) => Promise<Transport>,
  read: (transport: Transport, node: InventoryNode) => Promise<T>,
  /** The reason as written in `tried`; default the error's whole message. */
  reason: (error: unknown) => string = (error) => (error instanceof Error ? error.message : String(error)),
): Promise<AnsweringServer<T> | { tried: string[] }> {
  const tried: string[] = [];
  for (const node of servers) {
    let transport: Transport | undefined;
    try {
      transport = await open(node);
      return { node, transport, found: await read(transport, node) };
    } catch (error) {
      tried.push(`${node.name}: ${reason(error)}`);
      await transport?.close().catch(() => undefined);
    }
  }
  return { tried };
}
