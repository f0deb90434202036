import { addressBlockProblem, blockContains, blockSize, formatAddressBlock, formatIPv4, parseAddressBlock, parseIPv4 } from '../../core/inventory/addresses.js';
import { K3S_VERSION_PATTERN } from '../../core/inventory/rules.js';
import { userNameProblem } from '../../core/inventory/syntax.js';
import { domainProblem as domainSyntaxProblem } from '../../core/inventory/syntax-hosts.js';
import type { FixedAddresses, InitNode, WorkloadChoice } from './answers.js';

/**
 * The wizard's answer checks, pure. Each `xProblem` returns the sentence shown under the prompt, or
 * undefined when the answer is fine; they refuse what the inventory rules (core/inventory/rules.ts)
 * would refuse later, so the written file passes the same validation as `up`.
 */

const K8S_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

export function clusterNameProblem(name: string): string | undefined {
  if (name === '') return 'give the cluster a name, e.g. revue';
  if (name.length > 63 || !K8S_NAME.test(name))
    return 'use lowercase letters, digits and "-", starting and ending with a letter or digit (at most 63), e.g. revue';
  return undefined;
}

export function nodeNameProblem(name: string, taken: readonly string[]): string | undefined {
  if (name === '') return 'give the node a name, e.g. pi-1';
  if (name.length > 63 || !K8S_NAME.test(name))
    return 'use lowercase letters, digits and "-", starting and ending with a letter or digit (at most 63), e.g. pi-1';
  if (taken.includes(name)) return `${name} is already the name of another node — give every node its own name`;
  return undefined;
}

/** The address as typed, `host` or `host:port`, split; the port is left out when it is SSH's own (22). */
export function splitNodeAddress(text: string): Pick<InitNode, 'host' | 'port'> {
  const match = /^(.+):(\d+)$/.exec(text);
  if (!match) return { host: text };
  const port = Number(match[2]);
  return port === 22 ? { host: match[1]! } : { host: match[1]!, port };
}

/** What the address prompt shows for a node: `host`, or `host:port` when it has its own port. */
export function formatNodeAddress(node: Pick<InitNode, 'host' | 'port'>): string {
  return node.port === undefined ? node.host : `${node.host}:${node.port}`;
}

/**
 * `address` as typed (`host` or `host:port`); `others` are the other nodes (name and host), so a host used twice is
 * named with its node (the inventory wants one address per node, whatever the ports).
 */
export function hostProblem(address: string, others: readonly Pick<InitNode, 'name' | 'host'>[]): string | undefined {
  if (address === '') return 'give the address the Pi answers SSH on, e.g. 192.168.1.101 or pi-1.local (add :port when it is not 22)';
  const portText = /:(\d+)$/.exec(address)?.[1];
  if (portText !== undefined && !(Number(portText) >= 1 && Number(portText) <= 65535)) {
    return `${portText} is not an SSH port — give a number from 1 to 65535 after the ":", e.g. pi-1.local:2222`;
  }
  const { host } = splitNodeAddress(address);
  const isIp = parseIPv4(host) !== undefined;
  if (!isIp && (/^[0-9.]+$/.test(host) || !DNS_NAME.test(host) || host.length > 253)) {
    return `"${address}" is neither an IPv4 address (192.168.1.101) nor a host name (pi-1.local)`;
  }
  const same = others.find((n) => n.host.toLowerCase() === host.toLowerCase());
  if (same) return `${host} is already the address of node ${same.name} — each node needs its own address`;
  return undefined;
}

export function userProblem(user: string): string | undefined {
  if (user === '') return 'give the login user on the Pis, e.g. pi';
  if (!/^[a-z_][a-z0-9_.-]*\$?$/i.test(user) || user.length > 32) return `"${user}" is not a Unix user name — letters, digits, "_", "-" and ".", e.g. pi`;
  // What the inventory schema would refuse, refused here already.
  return userNameProblem(user, 'the user');
}

export function domainProblem(domain: string): string | undefined {
  if (domain === '') return 'give a DNS domain, e.g. revue.local';
  if (!DNS_NAME.test(domain) || domain.length > 253) return `"${domain}" is not a DNS domain — letters, digits, "-" and dots, e.g. revue.local`;
  return domainSyntaxProblem(domain, 'the domain');
}

export function k3sVersionProblem(version: string): string | undefined {
  if (K3S_VERSION_PATTERN.test(version)) return undefined;
  const close = /^v?(\d+\.\d+\.\d+)(\+k3s(\d+))?$/.exec(version.trim());
  return close
    ? `write it as vX.Y.Z+k3sN — did you mean v${close[1]}+k3s${close[3] ?? '1'}?`
    : 'write a release name from https://github.com/k3s-io/k3s/releases, e.g. v1.33.5+k3s1';
}

/** An environment variable NAME (the inventory never holds the secret itself). */
export function envNameProblem(name: string): string | undefined {
  if (!ENV_NAME.test(name)) return 'write the NAME of an environment variable in capitals, digits and _, e.g. PI_KEY_PASSPHRASE — never the secret itself';
  return undefined;
}

/** How many fixed addresses the chosen workloads take from the pool: the ingress, plus the media server and two Kafka brokers for Revue. */
export function fixedAddressCount(workloads: WorkloadChoice): number {
  return (workloads.revue || workloads.monitoring || workloads.kafkaUi ? 1 : 0) + (workloads.revue ? 3 : 0);
}

/** The pool's first addresses, in order: ingress, then (with Revue) the media server and the two Kafka brokers. */
export function fixedAddresses(pool: string, workloads: WorkloadChoice): FixedAddresses {
  const block = parseAddressBlock(pool);
  if (!block || fixedAddressCount(workloads) === 0) return {};
  const at = (i: number) => formatIPv4(block.first + i);
  return workloads.revue ? { ingress: at(0), mediaServer: at(1), kafka: [at(2), at(3)] } : { ingress: at(0) };
}

/**
 * Why `text` cannot be the MetalLB pool: malformed, holding a node's address, or too small for the fixed
 * addresses the workloads need. Node hosts that are names (not IPv4) cannot be checked and are skipped.
 */
export function poolProblem(text: string, nodes: readonly Pick<InitNode, 'name' | 'host'>[], workloads: WorkloadChoice): string | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return 'give a range of free LAN addresses, e.g. 192.168.1.200-192.168.1.220';
  const malformed = addressBlockProblem(trimmed);
  if (malformed !== undefined) return malformed;
  const block = parseAddressBlock(trimmed)!;
  const inside = nodes.filter((n) => {
    const ip = parseIPv4(n.host);
    return ip !== undefined && blockContains(block, ip);
  });
  if (inside.length > 0) {
    const list = inside.map((n) => `${n.host} (${n.name})`).join(', ');
    return `${trimmed} contains node address${inside.length === 1 ? '' : 'es'} ${list} — MetalLB would hand ${inside.length === 1 ? 'it' : 'them'} to services; pick addresses no node uses`;
  }
  const needed = fixedAddressCount(workloads);
  if (blockSize(block) < needed) {
    return `${trimmed} holds ${blockSize(block)} address${blockSize(block) === 1 ? '' : 'es'}, but the chosen workloads need at least ${needed} (ingress${workloads.revue ? ', media server, two Kafka brokers' : ''}) — widen it`;
  }
  return undefined;
}

const POOL_SIZE = 21;

/**
 * A pool suggestion in the first IPv4 node's /24, away from every node address: `.200-.220` when free,
 * otherwise the nearest free 21-address window (higher ones first). Undefined when no node has an IPv4
 * address (names only) or no window is free.
 */
export function suggestPool(hosts: readonly string[]): string | undefined {
  const ips = hosts.map(parseIPv4).filter((ip): ip is number => ip !== undefined);
  const first = ips[0];
  if (first === undefined) return undefined;
  const net = Math.floor(first / 256) * 256;
  const used = new Set(ips.filter((ip) => Math.floor(ip / 256) * 256 === net).map((ip) => ip - net));
  const lastStart = 254 - (POOL_SIZE - 1);
  const starts = [...ascending(200, lastStart), ...ascending(10, 199).reverse()];
  for (const start of starts) {
    let free = true;
    for (let i = start; i < start + POOL_SIZE; i++) {
      if (used.has(i)) {
        free = false;
        break;
      }
    }
    if (free) return formatAddressBlock({ first: net + start, last: net + start + POOL_SIZE - 1 });
  }
  return undefined;
}

/** from, from+1, …, to. */
function ascending(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}
