import { ofKind, parseKubeList, type KubeItem } from '../core/kube/index.js';
import { GET_NODES_COMMAND } from './nodes.js';
import type { Inventory } from '../core/inventory/schema.js';

/**
 * Nodes the cluster has that the inventory does not list — a board taken out of the inventory. `up` never removes a
 * node by itself (deleting a node, and for a server its etcd member, is asked for on its own): it names them and the
 * command that does it, `revue-pi remove-node` (drain, delete, uninstall; quorum-checked for a server). Pure.
 */
export function nodesNotInInventory(inventory: Inventory, kubectlNodesJson: string): string[] {
  let items: KubeItem[];
  try {
    items = parseKubeList(kubectlNodesJson, { command: GET_NODES_COMMAND.text, kind: 'Node' });
  } catch {
    // Only advice: a node list that cannot be read names no stray (the cluster phase reports the API itself).
    return [];
  }
  const listed = new Set(inventory.nodes.map((n) => n.name));
  return ofKind(items, 'Node')
    .map((node) => node.metadata?.name ?? '')
    .filter((name) => name !== '' && !listed.has(name))
    .sort();
}

export function removeNodeAdvice(cluster: string, names: string[]): string {
  const them = names.length === 1 ? `node ${names[0]}` : `nodes ${names.join(', ')}`;
  return (
    `cluster ${cluster} still has ${them}, which the inventory no longer lists; up leaves ${names.length === 1 ? 'it' : 'them'} as ${names.length === 1 ? 'it is' : 'they are'}. ` +
    `To take ${names.length === 1 ? 'it' : 'each'} out of the cluster (drain, delete, uninstall K3s on it), run ${names.map((n) => `\`revue-pi remove-node ${n}\``).join(', ')} with this inventory; to keep ${names.length === 1 ? 'it' : 'them'}, put ${names.length === 1 ? 'it' : 'them'} back in the inventory.`
  );
}
