import type { Inventory, InventoryNode } from '../core/inventory/schema.js';
import { apiEndpointHost } from './config.js';
import type { K3sFacts } from './facts.js';
import { configuredServer } from './first-server.js';
import { serverSecretSha256, sha256Hex, tokenFileContent } from './token.js';

/**
 * Whether a node already runs K3s for ANOTHER cluster than this inventory's. Read from the probe alone: the `server:`
 * its config.yaml joins (a host that is none of this inventory's servers, with a token file that is not this cluster's), or, for a server that has run, the secret
 * its datastore was made with (not this cluster's token). Rewriting such a node would pull an agent out of a running
 * cluster, or leave a server that K3s refuses to start ("bootstrap data already found and encrypted with different
 * token"). Refused unless the node says `adopt: true` (agents only). Pure.
 */
export function otherClusterOf(facts: K3sFacts, inventory: Inventory, node: InventoryNode, token: string | undefined): string | undefined {
  if (facts.installedVersion === undefined) return undefined;
  // Holding this cluster's token, it is ours whatever server it names (a first server whose address changed).
  const ourToken = token !== undefined && facts.tokenFileSha256 === sha256Hex(tokenFileContent(token));
  const joined = configuredServer(facts.config);
  if (joined !== undefined && !ourToken && !isOneOfOurServers(joined, inventory)) return `its K3s joins ${joined}`;
  if (node.role === 'server' && token !== undefined && facts.serverTokenSha256 !== undefined && facts.serverTokenSha256 !== serverSecretSha256(token))
    return 'its K3s datastore was made with another cluster token';
  return undefined;
}

function isOneOfOurServers(url: string, inventory: Inventory): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return false;
  }
  const ours = inventory.nodes.filter((n) => n.role === 'server').flatMap((n) => [n.host, n.name]);
  if (inventory.cluster.apiEndpoint) ours.push(apiEndpointHost(inventory.cluster.apiEndpoint));
  return ours.some((h) => h.toLowerCase() === host.toLowerCase());
}

/** The refusal (or, with adopt on a server, why adopting cannot help), naming the node and what to do. */
export function otherClusterMessage(node: InventoryNode, inventory: Inventory, why: string): string {
  const uninstall = node.role === 'server' ? 'k3s-uninstall.sh' : 'k3s-agent-uninstall.sh';
  if (node.role === 'server')
    return (
      `node ${node.name} already belongs to another K3s cluster (${why}), not to cluster ${inventory.cluster.name}: revue-pi left it alone. ` +
      `A server cannot be moved between clusters (its datastore belongs to the other one): remove it from that cluster (revue-pi remove-node with that cluster's inventory), or wipe it with sudo /usr/local/bin/${uninstall}, then run up again.`
    );
  return (
    `node ${node.name} already belongs to another K3s cluster (${why}), not to cluster ${inventory.cluster.name}: revue-pi left it alone. ` +
    `If it is meant to move here, set adopt: true on it in the inventory (nodes[].adopt; up then rewrites its settings and token and restarts it, and it leaves the other cluster, where its Node object stays until removed there); otherwise take it out of this inventory.`
  );
}
