import { blockContains, formatAddressBlock, formatIPv4, parseAddressBlock, parseIPv4, type AddressBlock } from '../core/inventory/addresses.js';
import type { Inventory } from '../core/inventory/schema.js';

/**
 * The IPv4 subnets a node is directly on, read from the kernel's routing trie (/proc/net/fib_trie, main table: a
 * `link UNICAST` route is a connected subnet; the loopback range shows as `host LOCAL`), and the check that every
 * MetalLB pool and fixed address lies in one of the nodes' subnets — MetalLB's L2 mode answers ARP for its
 * addresses on the node's own network, so an address outside it is never reached. Pure.
 */

/** Connected subnets from /proc/net/fib_trie's text. */
export function parseFibTrie(text: string): AddressBlock[] {
  const out: AddressBlock[] = [];
  const seen = new Set<string>();
  let inMain = false;
  let leaf: number | undefined;
  for (const line of text.split('\n')) {
    if (/^\S/.test(line)) {
      inMain = line.startsWith('Main:');
      continue;
    }
    if (!inMain) continue;
    const leafMatch = /^\s+\|-- (\d+\.\d+\.\d+\.\d+)\s*$/.exec(line);
    if (leafMatch) {
      leaf = parseIPv4(leafMatch[1]!);
      continue;
    }
    const route = /^\s+\/(\d+) (\w+) (\w+)/.exec(line);
    if (!route || leaf === undefined) continue;
    const prefix = Number(route[1]);
    const connected = (route[2] === 'link' && route[3] === 'UNICAST') || (route[2] === 'host' && route[3] === 'LOCAL' && prefix < 32);
    if (!connected || prefix === 0) continue;
    const size = 2 ** (32 - prefix);
    const first = leaf - (leaf % size);
    const key = `${first}/${prefix}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ first, last: first + size - 1 });
  }
  return out;
}

/** `192.168.1.0/24` for a block that is a whole subnet. */
export function formatSubnet(block: AddressBlock): string {
  const prefix = 32 - Math.log2(block.last - block.first + 1);
  return Number.isInteger(prefix) ? `${formatIPv4(block.first)}/${prefix}` : formatAddressBlock(block);
}

/**
 * Each pool and fixed address of the inventory that lies in none of the subnets, as sentences naming the field.
 * Nothing when no subnet is known (plan --offline, or no node probed).
 */
export function addressesOutsideSubnets(inventory: Inventory, subnets: AddressBlock[]): string[] {
  if (subnets.length === 0 || !inventory.network.metallb.enabled) return [];
  const where = [...new Set(subnets.map(formatSubnet))].join(', ');
  const problems: string[] = [];
  inventory.network.metallb.pools.forEach((pool, i) => {
    pool.addresses.forEach((text, j) => {
      const block = parseAddressBlock(text);
      if (block && !subnets.some((s) => blockContains(s, block))) {
        problems.push(
          `network.metallb.pools[${i}].addresses[${j}] (${text}, pool ${pool.name}) is outside every node's subnet (${where}): MetalLB could hand out addresses nobody on the LAN reaches.`,
        );
      }
    });
  });
  const fixed = inventory.network.addresses;
  const single = [
    ['network.addresses.ingress', fixed.ingress],
    ['network.addresses.mediaServer', fixed.mediaServer],
    ...(fixed.kafka ?? []).map((a, i) => [`network.addresses.kafka[${i}]`, a] as const),
  ] as const;
  for (const [field, text] of single) {
    const ip = text === undefined ? undefined : parseIPv4(text);
    if (ip !== undefined && !subnets.some((s) => blockContains(s, ip))) {
      problems.push(`${field} (${text}) is outside every node's subnet (${where}): that address would not be reachable on the LAN.`);
    }
  }
  return problems;
}
