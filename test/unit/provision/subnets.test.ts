import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseInventory } from '../../../core/inventory/parse.js';
import { parseAddressBlock } from '../../../core/inventory/addresses.js';
import { addressesOutsideSubnets, formatSubnet, parseFibTrie } from '../../../provision/subnets.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/net/${name}`, import.meta.url), 'utf8');

describe('parseFibTrie', () => {
  it('a recorded /proc/net/fib_trie (a Debian VM): loopback and the connected /24, from the main table only', () => {
    expect(parseFibTrie(fixture('fib_trie-debian-vm.txt')).map(formatSubnet)).toEqual(['127.0.0.0/8', '192.0.2.0/24']);
  });

  it("composed in the kernel's format (a Pi on Ethernet and Wi-Fi, with K3s pod routes): only link UNICAST routes and loopback", () => {
    // 10.42.1.0/24 is another node's pods through flannel (universe): not this node's network. The Local table's lines are not read.
    expect(parseFibTrie(fixture('fib_trie-composed-pi.txt')).map(formatSubnet)).toEqual(['10.42.0.0/24', '127.0.0.0/8', '192.168.1.0/24', '192.168.50.0/24']);
  });
});

const inventory = (network: string) =>
  parseInventory(`cluster:\n  name: home\nnodes:\n  - name: pi-1\n    host: 192.168.1.101\n    role: server\nnetwork:\n${network}`, 'inventory.yaml').inventory;

describe('addressesOutsideSubnets', () => {
  const lan = [parseAddressBlock('192.168.1.0/24')!, parseAddressBlock('127.0.0.0/8')!];

  it("nothing when every pool and fixed address is on a node's subnet, or when no subnet is known", () => {
    const inv = inventory(
      '  metallb:\n    pools:\n      - name: lan\n        addresses: [192.168.1.200-192.168.1.220]\n  addresses:\n    ingress: 192.168.1.200\n',
    );
    expect(addressesOutsideSubnets(inv, lan)).toEqual([]);
    expect(addressesOutsideSubnets(inventory('  metallb:\n    pools:\n      - name: far\n        addresses: [10.9.0.0/28]\n'), [])).toEqual([]);
  });

  it('names each pool entry and fixed address outside them, with the subnets found', () => {
    const inv = inventory(
      '  metallb:\n    pools:\n      - name: lan\n        addresses: [192.168.1.250-192.168.1.254, 192.168.2.0/28]\n      - name: far\n        addresses: [10.9.0.0/28]\n  addresses:\n    ingress: 10.9.0.1\n',
    );
    expect(addressesOutsideSubnets(inv, lan)).toEqual([
      "network.metallb.pools[0].addresses[1] (192.168.2.0/28, pool lan) is outside every node's subnet (192.168.1.0/24, 127.0.0.0/8): MetalLB could hand out addresses nobody on the LAN reaches.",
      "network.metallb.pools[1].addresses[0] (10.9.0.0/28, pool far) is outside every node's subnet (192.168.1.0/24, 127.0.0.0/8): MetalLB could hand out addresses nobody on the LAN reaches.",
      "network.addresses.ingress (10.9.0.1) is outside every node's subnet (192.168.1.0/24, 127.0.0.0/8): that address would not be reachable on the LAN.",
    ]);
  });

  it("a pool straddling the subnet's edge is outside it", () => {
    const inv = inventory('  metallb:\n    pools:\n      - name: lan\n        addresses: [192.168.1.250-192.168.2.5]\n');
    expect(addressesOutsideSubnets(inv, lan)).toHaveLength(1);
  });
});
