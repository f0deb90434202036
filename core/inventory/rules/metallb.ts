import { addressBlockProblem, blockContains, blocksOverlap, formatAddressBlock, parseAddressBlock, parseIPv4, type AddressBlock } from '../addresses.js';
import { formatPath, type PathSegment } from '../path.js';
import type { Inventory } from '../schema.js';
import { error, warning, type InventoryRule, type RuleIssue } from './rule.js';

/** MetalLB: pools that parse and do not overlap, fixed addresses inside them, pools when a workload needs them, ARP over Wi-Fi. */

interface ParsedPoolEntry {
  segments: PathSegment[];
  text: string;
  block: AddressBlock;
}

function poolEntries(inv: Inventory): ParsedPoolEntry[] {
  const entries: ParsedPoolEntry[] = [];
  inv.network.metallb.pools.forEach((pool, p) =>
    pool.addresses.forEach((text, a) => {
      const block = parseAddressBlock(text);
      if (block) entries.push({ segments: ['network', 'metallb', 'pools', p, 'addresses', a], text, block });
    }),
  );
  return entries;
}

export const poolsParse: InventoryRule = (inv) => {
  const issues: RuleIssue[] = [];
  const names = new Map<string, number>();
  inv.network.metallb.pools.forEach((pool, p) => {
    const first = names.get(pool.name);
    if (first === undefined) names.set(pool.name, p);
    else
      issues.push(
        error(['network', 'metallb', 'pools', p, 'name'], `pool name "${pool.name}" is already used by pools[${first}] — give every pool its own name`),
      );
    pool.addresses.forEach((text, a) => {
      const problem = addressBlockProblem(text);
      if (problem !== undefined) issues.push(error(['network', 'metallb', 'pools', p, 'addresses', a], problem));
    });
  });
  return issues;
};

export const poolsDoNotOverlap: InventoryRule = (inv) => {
  const issues: RuleIssue[] = [];
  const entries = poolEntries(inv);
  entries.forEach((entry, i) => {
    const earlier = entries.slice(0, i).find((other) => blocksOverlap(entry.block, other.block));
    if (earlier) {
      issues.push(
        error(
          entry.segments,
          `${entry.text} overlaps ${earlier.text} (${formatPath(earlier.segments.slice(2))}) — an address may belong to one pool only; shrink or remove one of them`,
        ),
      );
    }
    const inside = inv.nodes.filter((node) => {
      const ip = parseIPv4(node.host.trim());
      return ip !== undefined && blockContains(entry.block, ip);
    });
    if (inside.length > 0) {
      const what =
        inside.length === 1
          ? `${inside[0]?.host}, the address of node ${inside[0]?.name}`
          : `${andList(inside.map((n) => n.host))}, the addresses of nodes ${andList(inside.map((n) => n.name))}`;
      issues.push(error(entry.segments, `${entry.text} contains ${what} — MetalLB would hand them to services; keep node addresses out of the pool`));
    }
  });
  return issues;
};

function andList(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

export const fixedAddressesInPools: InventoryRule = (inv) => {
  const issues: RuleIssue[] = [];
  const blocks = poolEntries(inv).map((e) => e.block);
  // With a pool entry that does not parse (reported by poolsParse), "not inside any pool" would be a guess.
  const poolsKnown = inv.network.metallb.pools.every((pool) => pool.addresses.every((a) => parseAddressBlock(a) !== undefined));
  const { ingress, mediaServer, kafka } = inv.network.addresses;
  const fixed: { segments: PathSegment[]; text: string }[] = [];
  if (ingress !== undefined) fixed.push({ segments: ['network', 'addresses', 'ingress'], text: ingress });
  if (mediaServer !== undefined) fixed.push({ segments: ['network', 'addresses', 'mediaServer'], text: mediaServer });
  (kafka ?? []).forEach((text, k) => fixed.push({ segments: ['network', 'addresses', 'kafka', k], text }));

  const seen = new Map<number, string>();
  for (const { segments, text } of fixed) {
    const ip = parseIPv4(text.trim());
    const name = formatPath(segments);
    if (ip === undefined) {
      issues.push(error(segments, `${name} must be an IPv4 address such as 192.168.1.200 (got ${JSON.stringify(text)})`));
      continue;
    }
    const other = seen.get(ip);
    if (other !== undefined) {
      issues.push(error(segments, `${text} is already used by ${other} — every fixed address must be different`));
    } else {
      seen.set(ip, name);
    }
    if (poolsKnown && !blocks.some((b) => blockContains(b, ip))) {
      const pools = blocks.map(formatAddressBlock).join(', ');
      const fix = pools === '' ? 'add a pool under network.metallb.pools that contains it' : `pick an address in ${pools} or widen a pool`;
      issues.push(error(segments, `${text} is not inside any MetalLB pool — ${fix}`));
    }
  }
  return issues;
};

export const poolsWhenNeeded: InventoryRule = (inv) => {
  const { metallb } = inv.network;
  const needing = [inv.workloads.revue && 'Revue', inv.workloads.monitoring && 'monitoring'].filter(Boolean);
  if (!metallb.enabled || needing.length === 0 || metallb.pools.length > 0) return [];
  return [
    error(
      ['network', 'metallb', 'pools'],
      `no MetalLB address pool — ${needing.join(' and ')} need${needing.length === 1 ? 's' : ''} LoadBalancer addresses; add a pool of free LAN addresses outside your router's DHCP range, e.g. 192.168.1.200-192.168.1.220`,
    ),
  ];
};

export const poolsIgnoredWhenDisabled: InventoryRule = (inv) => {
  const { metallb } = inv.network;
  if (metallb.enabled || metallb.pools.length === 0) return [];
  return [
    warning(['network', 'metallb', 'enabled'], 'MetalLB is disabled, so its address pools are ignored — set network.metallb.enabled: true or remove the pools'),
  ];
};

export const wifiNeedsPromiscuous: InventoryRule = (inv) => {
  if (!inv.network.metallb.enabled || inv.pi.wifiPromiscuous) return [];
  return inv.nodes.flatMap((node, i) =>
    node.wifiInterface === undefined
      ? []
      : [
          warning(
            ['nodes', i, 'wifiInterface'],
            `node ${node.name} reaches the LAN over Wi-Fi, where MetalLB's addresses do not answer ARP unless the interface is promiscuous — set pi.wifiPromiscuous: true, or use Ethernet`,
          ),
        ],
  );
};

export const promiscuousNeedsInterface: InventoryRule = (inv) => {
  if (!inv.pi.wifiPromiscuous || inv.nodes.some((n) => n.wifiInterface !== undefined)) return [];
  return [
    warning(
      ['pi', 'wifiPromiscuous'],
      'pi.wifiPromiscuous is on but no node names its wifiInterface, so nothing will be changed — add wifiInterface: wlan0 to the nodes on Wi-Fi',
    ),
  ];
};
